//! chipwatch-server
