//! Reading and writing chipwatch models: the ETO/CSET importer ([`eto`]), the project's own model
//! format ([`format`], TOML), and the embedded default model ([`default_model`]).
//!
//! Every error names the file and, where there is one, the line and field, so a user can fix
//! their data without reading code.

pub mod eto;
pub mod fabs;
pub mod format;

use chipwatch_model::{Diagnostic, ModelError, Severity, ValueChain};
use std::path::{Path, PathBuf};

/// The embedded default model, in the project's format, produced by `chipwatch import eto` from the
/// ETO/CSET dataset (see `data/NOTICE.md`).
pub const DEFAULT_MODEL_TOML: &str = include_str!("../../../data/default-model.toml");

/// Name shown as the origin of the embedded model in messages and provenance.
pub const DEFAULT_MODEL_ORIGIN: &str = "<embedded default model: data/default-model.toml>";

/// Errors reading or writing data files.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Csv {
        file: String,
        line: u64,
        message: String,
    },
    #[error("{file}:{line}: field `{field}`: {message}")]
    Field {
        file: String,
        line: u64,
        field: String,
        message: String,
    },
    #[error("{file}: missing column `{column}`")]
    MissingColumn { file: String, column: String },
    #[error("{file}: {message}")]
    Toml { file: String, message: String },
    #[error("{file}: {source}")]
    Model {
        file: String,
        #[source]
        source: ModelError,
    },
    #[error("{file}: the model has {} error(s):\n  {}", .errors.len(), .errors.join("\n  "))]
    Invalid { file: String, errors: Vec<String> },
}

impl DataError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Parse, index and check a model text. Error-level diagnostics (dangling references, cycles)
/// fail the load, naming the line of the offending `[[share]]` or `[[item]]` where possible;
/// warnings are returned with the chain.
pub fn load_model_str(text: &str, origin: &str) -> Result<ValueChain, DataError> {
    index_model(format::from_toml_str(text, origin)?, text, origin)
}

/// Like [`load_model_str`], for the JSON form of the format (see [`format::from_json_str`]).
pub fn load_model_json_str(text: &str, origin: &str) -> Result<ValueChain, DataError> {
    index_model(format::from_json_str(text, origin)?, text, origin)
}

fn index_model(
    model: chipwatch_model::Model,
    text: &str,
    origin: &str,
) -> Result<ValueChain, DataError> {
    index_model_with(model, origin, || Some(text.into()))
}

/// Index a parsed model; `text` gives the file's text back only when an error needs a line
/// number (so a caller may free it before indexing).
fn index_model_with(
    model: chipwatch_model::Model,
    origin: &str,
    text: impl FnOnce() -> Option<String>,
) -> Result<ValueChain, DataError> {
    let vc = ValueChain::new(model).map_err(|source| DataError::Model {
        file: origin.to_string(),
        source,
    })?;
    let bad: Vec<&Diagnostic> = vc
        .diagnostics()
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    if !bad.is_empty() {
        let text = text().unwrap_or_default();
        return Err(DataError::Invalid {
            file: origin.to_string(),
            errors: bad.iter().map(|d| format::locate(&text, d)).collect(),
        });
    }
    Ok(vc)
}

/// Load a model file in the project's format: TOML, or its JSON form for files named `*.json`.
pub fn load_model_file(path: &Path) -> Result<ValueChain, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    let origin = path.display().to_string();
    let model = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        format::from_json_str(&text, &origin)?
    } else {
        format::from_toml_str(&text, &origin)?
    };
    // The text (800 MB for a 10^6-node model) is freed before indexing; an error that needs a
    // line number reads the file again.
    drop(text);
    index_model_with(model, &origin, || std::fs::read_to_string(path).ok())
}

/// The embedded default model, indexed.
pub fn default_model() -> ValueChain {
    // The embedded file is regenerated and checked by tests, so failure here is a build defect.
    load_model_str(DEFAULT_MODEL_TOML, DEFAULT_MODEL_ORIGIN)
        .expect("embedded default model is valid (checked by tests)")
}

/// Warnings worth showing a user after a load.
pub fn warnings(vc: &ValueChain) -> impl Iterator<Item = &Diagnostic> {
    vc.diagnostics()
        .iter()
        .filter(|d| d.severity == Severity::Warning)
}
