//! chipwatch-controls
