//! Analytics over the value-chain model: concentration ([`concentration`]) and, built on the same
//! indexes, availability propagation, time-to-survive/recover and Monte Carlo risk.
//!
//! No IO: every function takes a [`chipwatch_model::ValueChain`] and returns plain data with the
//! provenance (basis, vintage, sources) a caller needs to show where a number came from.

pub mod concentration;
pub mod gen;
pub mod kernel;
pub mod risk;
pub mod scenario;
pub mod tts;
pub mod views;
