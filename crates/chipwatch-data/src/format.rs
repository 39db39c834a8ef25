//! The project's model format: one TOML file, arrays of tables per kind of record
//! (`[[source]]`, `[[stage]]`, `[[item]]`, `[[provider]]`, `[[share]]`), documented in
//! `docs/model-format.md`. Human-editable, diff-friendly (one record per table, stable order), and
//! round-trips exactly: `write(read(text)) == text` for any file this module wrote.

use crate::DataError;
use chipwatch_model::{Diagnostic, Model, FORMAT_VERSION};

/// Comment block written at the top of every model file.
const HEADER: &str = "\
# chipwatch value-chain model (format documented in docs/model-format.md).
# Records: [[source]] citations, [[stage]], [[item]], [[provider]], [[share]] (percent of the
# global market; no `share` key = provider listed without a number).
";

/// Serialise a model to the project's TOML format.
pub fn to_toml_string(model: &Model) -> String {
    let body = toml::to_string(model).expect("model types always serialise to TOML");
    let mut out = String::with_capacity(body.len() + HEADER.len() + 1);
    out.push_str(HEADER);
    out.push('\n');
    out.push_str(&body);
    out
}

/// Parse the project's TOML format. Errors carry the file name and the TOML parser's line and
/// column.
pub fn from_toml_str(text: &str, origin: &str) -> Result<Model, DataError> {
    let model: Model = toml::from_str(text).map_err(|e| DataError::Toml {
        file: origin.to_string(),
        message: describe_toml_error(text, &e),
    })?;
    check_version(model, origin)
}

/// Parse the JSON form of the model format: the same records and keys as the TOML form, as one
/// object with the arrays `source`, `stage`, `item`, `provider` and `share`. Meant for
/// machine-sized models (e.g. `chipwatch gen --out big.json`): a TOML parser tokenises the whole
/// document first, which for a 10^6-node model costs gigabytes; JSON deserialises in one pass.
pub fn from_json_str(text: &str, origin: &str) -> Result<Model, DataError> {
    let model: Model = serde_json::from_str(text).map_err(|e| DataError::Toml {
        file: origin.to_string(),
        message: format!("line {}, column {}: {e}", e.line(), e.column()),
    })?;
    check_version(model, origin)
}

fn check_version(model: Model, origin: &str) -> Result<Model, DataError> {
    if model.meta.format_version != FORMAT_VERSION {
        return Err(DataError::Toml {
            file: origin.to_string(),
            message: format!(
                "field `meta.format_version`: this chipwatch reads format version {FORMAT_VERSION}, \
                 the file says {}",
                model.meta.format_version
            ),
        });
    }
    Ok(model)
}

fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let (line, col) = line_col(text, span.start);
            format!("line {line}, column {col}: {msg}")
        }
        None => msg,
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = offset
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1)
        + 1;
    (line, col)
}

/// Prefix a diagnostic about `share #k` with the line of the k-th `[[share]]` header, when the
/// file uses one table per share (as this module writes it).
pub(crate) fn locate(text: &str, d: &Diagnostic) -> String {
    if let Some(rest) = d.message.strip_prefix("share #") {
        if let Some(k) = rest
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse::<usize>().ok())
        {
            let line = text
                .lines()
                .enumerate()
                .filter(|(_, l)| l.trim() == "[[share]]")
                .nth(k)
                .map(|(i, _)| i + 1);
            if let Some(line) = line {
                return format!("line {line}: {d}");
            }
        }
    }
    d.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_error_names_line_and_field() {
        let text = "[meta]\nformat_version = 1\nname = \"x\"\ndataset = \"d\"\nvintage = \"v\"\n\n[[item]]\nid = \"N1\"\nname = \"x\"\nkind = \"gadget\"\n";
        let err = from_toml_str(text, "m.toml").unwrap_err().to_string();
        assert!(err.starts_with("m.toml: line 10"), "{err}");
        assert!(err.contains("gadget"), "{err}");
    }

    #[test]
    fn wrong_format_version_is_refused() {
        let text = "[meta]\nformat_version = 99\nname = \"x\"\ndataset = \"d\"\nvintage = \"v\"\n";
        let err = from_toml_str(text, "m.toml").unwrap_err().to_string();
        assert!(err.contains("format_version"), "{err}");
    }
}
