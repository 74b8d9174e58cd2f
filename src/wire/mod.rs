//! The BitTorrent peer wire protocol over a data channel (issue 3; not yet written).
