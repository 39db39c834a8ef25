//! Parameter values of an item: numbers (units in the parameter name), booleans and strings
//! (material, HS code, ECCN). The same type carries catalogue values, `--param` overrides and the
//! constants in measure predicates.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One parameter value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Num(f64),
    Str(String),
}

impl Value {
    /// Parse a command-line value: `true`/`false`, a number, or else a string.
    pub fn parse_cli(s: &str) -> Value {
        let t = s.trim();
        match t.to_ascii_lowercase().as_str() {
            "true" | "yes" => return Value::Bool(true),
            "false" | "no" => return Value::Bool(false),
            _ => {}
        }
        match t.parse::<f64>() {
            Ok(v) if v.is_finite() => Value::Num(v),
            _ => Value::Str(t.to_string()),
        }
    }

    /// From a TOML value (catalogue and measure files); arrays and tables are not values.
    pub fn from_toml(v: &toml::Value) -> Option<Value> {
        match v {
            toml::Value::Boolean(b) => Some(Value::Bool(*b)),
            toml::Value::Integer(i) => Some(Value::Num(*i as f64)),
            toml::Value::Float(f) if f.is_finite() => Some(Value::Num(*f)),
            toml::Value::String(s) => Some(Value::Str(s.clone())),
            _ => None,
        }
    }

    pub fn as_num(&self) -> Option<f64> {
        match self {
            Value::Num(v) => Some(*v),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Num(v) => write_num(f, *v),
            Value::Str(s) => write!(f, "\"{s}\""),
        }
    }
}

/// Write a number as [`fmt_num`] does, without allocating for whole numbers (the common case).
pub fn write_num(out: &mut impl fmt::Write, v: f64) -> fmt::Result {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return write!(out, "{v:.0}");
    }
    out.write_str(&fmt_num(v))
}

/// Numbers in explanations: at most three decimals, trailing zeros dropped (50, 35.741, 1.5).
pub fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}
