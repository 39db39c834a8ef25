//! chipwatch-monitor
