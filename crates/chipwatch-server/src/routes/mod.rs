//! Handlers, one module per area. Each handler carries its `#[utoipa::path]` annotation; the
//! route table in `lib.rs` wires them.

pub mod audit;
pub mod controls;
pub mod denials;
pub mod exchange;
pub mod federation;
pub mod licences;
pub mod measures;
pub mod model;
pub mod monitor;
pub mod requests;
pub mod scenarios;
pub mod system;
pub mod trade;
