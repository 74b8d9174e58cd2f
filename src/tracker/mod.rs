//! The WebTorrent WebSocket tracker protocol (issues 3 and 4; not yet written).
