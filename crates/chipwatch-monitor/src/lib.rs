//! chipwatch-monitor: the early-warning monitor. It reads news (RSS 0.9x/1.0/2.0, Atom, JSON
//! Feed, feed-mirror archives like the seeds, plain HTML/text files), cleans and normalises the
//! text, detects the language, finds supply-chain events with rules and multilingual lexicons,
//! links what it finds to the value-chain model (provider ids, item ids, ISO alpha-3), groups
//! reports of one event into clusters, and matches events against watchlists.
//!
//! The crate is storage-agnostic: it returns data and the CLI wires it to `chipwatch-store`. It
//! is the one crate besides store and server allowed to do IO: it reads user files ([`input`])
//! and fetches feeds over HTTP ([`fetch`], [`alert::post_webhook`]).

pub mod alert;
pub mod archive;
pub mod article;
pub mod cluster;
pub mod dates;
pub mod detect;
pub mod eval;
pub mod feed;
pub mod fetch;
pub mod gazetteer;
pub mod html;
pub mod impact;
pub mod input;
pub mod lang;
pub mod learned;
pub mod normalize;
pub mod summary;
pub mod trade;

pub use article::{Article, RawArticle};
pub use detect::{Classified, Classifier};
pub use gazetteer::Gazetteer;

/// Errors of the monitor. Each names the input (file, URL, feed) it concerns.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: not a feed: {message}")]
    Feed { origin: String, message: String },
    #[error("{origin}: {message}")]
    Input { origin: String, message: String },
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error("{file}: {message}")]
    Config { file: String, message: String },
    #[error("gazetteer {file}: {message}")]
    Gazetteer { file: String, message: String },
    #[error("impact: {0}")]
    Impact(String),
}
