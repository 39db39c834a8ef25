//! chipwatch-store
