//! Batch input for `licence check --batch FILE.csv`: one shipment per row. Columns `from` and
//! `to` are required; `product`, `origin`, `end_user`, `end_use` and `date` are optional; every
//! other column is an item parameter (empty cells are skipped), so a CSV header doubles as the
//! parameter list.

use crate::date::Date;
use crate::engine::Shipment;
use crate::value::Value;
use crate::ControlsError;
use std::collections::BTreeMap;

const FIXED: &[&str] = &[
    "product", "from", "to", "origin", "end_user", "end_use", "date",
];

/// Parse a batch CSV; `default_date` applies to rows without a date.
pub fn parse_batch_csv(
    text: &str,
    file: &str,
    default_date: Date,
) -> Result<Vec<Shipment>, ControlsError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| ControlsError::Csv {
            file: file.to_string(),
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    let col = |n: &str| headers.iter().position(|h| h == n);
    for req in ["from", "to"] {
        if col(req).is_none() {
            return Err(ControlsError::MissingColumn {
                file: file.to_string(),
                column: req.to_string(),
            });
        }
    }
    let params: Vec<(usize, String)> = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| !FIXED.contains(h) && !h.is_empty())
        .map(|(i, h)| (i, h.to_string()))
        .collect();
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i as u64 + 2;
        let rec = rec.map_err(|e| ControlsError::Csv {
            file: file.to_string(),
            line: e.position().map_or(line, |p| p.line()),
            message: e.to_string(),
        })?;
        let get = |n: &str| {
            col(n)
                .and_then(|c| rec.get(c))
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let field_err = |f: &str, m: String| ControlsError::Csv {
            file: file.to_string(),
            line,
            message: format!("column `{f}`: {m}"),
        };
        let from = get("from").ok_or_else(|| field_err("from", "empty".into()))?;
        let to = get("to").ok_or_else(|| field_err("to", "empty".into()))?;
        for (f, v) in [("from", &from), ("to", &to)] {
            if crate::normalise_country(v).is_none() {
                return Err(field_err(
                    f,
                    format!("`{v}` is not an ISO alpha-3 country code"),
                ));
            }
        }
        let date = match get("date") {
            Some(d) => Date::parse(&d).map_err(|m| field_err("date", m))?,
            None => default_date,
        };
        let mut p = BTreeMap::new();
        for (c, name) in &params {
            if let Some(v) = rec.get(*c).filter(|v| !v.is_empty()) {
                p.insert(name.clone(), Value::parse_cli(v));
            }
        }
        out.push(Shipment {
            product: get("product"),
            params: p,
            from,
            to,
            origin: get("origin"),
            end_user: get("end_user"),
            end_use: get("end_use"),
            date,
        });
    }
    Ok(out)
}

/// Parse `KEY=VALUE` (the `--param` syntax).
pub fn parse_param(s: &str) -> Result<(String, Value), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))?;
    let k = k.trim();
    if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "`{k}` is not a parameter name (letters, digits, _)"
        ));
    }
    Ok((k.to_string(), Value::parse_cli(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_params() {
        let d = Date::parse("2026-11-21").unwrap();
        let rows = parse_batch_csv(
            "product,from,to,date,tpp,die_area_mm2\nH100,USA,CHN,,,\n,USA,DEU,2023-01-01,5000,800\n",
            "b.csv",
            d,
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].date, d);
        assert!(rows[0].params.is_empty());
        assert_eq!(rows[1].params["tpp"], Value::Num(5000.0));
    }

    #[test]
    fn errors_name_file_line_column() {
        let d = Date::parse("2026-11-21").unwrap();
        let e = parse_batch_csv("from\nUSA\n", "b.csv", d).unwrap_err();
        assert_eq!(e.to_string(), "b.csv: missing column `to`");
        let e = parse_batch_csv("from,to,date\nUSA,CHN,2023-13-01\n", "b.csv", d).unwrap_err();
        assert!(e.to_string().starts_with("b.csv:2: column `date`"), "{e}");
        let e = parse_batch_csv("from,to\nUSA,China\n", "b.csv", d).unwrap_err();
        assert!(e.to_string().contains("column `to`"), "{e}");
    }

    #[test]
    fn param_syntax() {
        assert_eq!(
            parse_param("tpp=4800").unwrap(),
            ("tpp".into(), Value::Num(4800.0))
        );
        assert_eq!(
            parse_param("datacenter=false").unwrap().1,
            Value::Bool(false)
        );
        assert!(parse_param("tpp").is_err());
        assert!(parse_param("a b=1").is_err());
    }
}
