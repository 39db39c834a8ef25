//! The crate's error type: input errors name the file, the line and the field.

use std::path::PathBuf;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum TradeError {
    /// A malformed value in an input file.
    #[error("{}:{line}: field `{field}`: {message}", file.display())]
    Parse {
        /// The input file.
        file: PathBuf,
        /// 1-based line number (the header is line 1).
        line: u64,
        /// The column name as written in the file's header (or the layout's name for it).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A file whose header lacks a column the layout needs, or that is not of the layout.
    #[error("{}: {message}", file.display())]
    Layout {
        /// The input file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Reading or writing a file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A bad argument (unknown layout, empty dataset, invalid option value).
    #[error("{0}")]
    Invalid(String),
    /// The query engine.
    #[error("query engine: {0}")]
    Engine(#[from] datafusion::error::DataFusionError),
    /// Arrow.
    #[error("arrow: {0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    /// Parquet.
    #[error("parquet: {0}")]
    Parquet(#[from] datafusion::parquet::errors::ParquetError),
    /// The HS mapping file.
    #[error("HS mapping: {0}")]
    Mapping(String),
}

impl TradeError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TradeError::Io {
            path: path.into(),
            source,
        }
    }
}
