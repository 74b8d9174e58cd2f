//! The sans-IO peer engine (issue 3; not yet written).
