//! Domain types of chipwatch: items of the semiconductor value chain, providers (countries, firms,
//! buckets), provision shares with provenance, and the [`ValueChain`] graph built from them.
//!
//! This crate does no IO. Readers and writers of files live in `chipwatch-data`; analytics in
//! `chipwatch-analysis`. Everything here is plain data plus indexes, so every other crate can depend
//! on it cheaply.

mod graph;
pub mod production;
mod types;
mod validate;

pub use graph::{ItemIdx, LookupError, ProviderIdx, ValueChain};
pub use types::*;
pub use validate::{Diagnostic, Severity};

/// Errors building a [`ValueChain`] from a [`Model`]. Softer problems are [`Diagnostic`]s.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelError {
    #[error("duplicate item id `{0}`")]
    DuplicateItemId(String),
    #[error("duplicate provider id `{0}`")]
    DuplicateProviderId(String),
    #[error("share #{index}: unknown item id `{item}`")]
    UnknownShareItem { index: usize, item: String },
    #[error("share #{index}: unknown provider id `{provider}`")]
    UnknownShareProvider { index: usize, provider: String },
    #[error("share #{index}: share {share} is outside 0..=100 percent")]
    ShareOutOfRange { index: usize, share: f64 },
    #[error("item `{item}`: {field} names unknown item `{target}`")]
    UnknownItemRef {
        item: String,
        field: &'static str,
        target: String,
    },
}
