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
        // Compared in place: batch mode parses every cell of every row.
        let is = |w: &str| t.eq_ignore_ascii_case(w);
        if is("true") || is("yes") {
            return Value::Bool(true);
        }
        if is("false") || is("no") {
            return Value::Bool(false);
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

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
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

/// Append a number exactly as [`fmt_num`] writes it, without allocating. Whole numbers (most
/// thresholds and catalogue values) skip the float formatter, whose exact mode is slow.
pub fn push_num(out: &mut String, v: f64) {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        if v == 0.0 {
            // `{:.0}` keeps the sign of negative zero.
            out.push_str(if v.is_sign_negative() { "-0" } else { "0" });
            return;
        }
        // |v| < 1e15, so the conversion is exact.
        let n = v as i64;
        if n < 0 {
            out.push('-');
        }
        push_uint(out, n.unsigned_abs());
        return;
    }
    let start = out.len();
    if !push_fixed3(out, v) {
        use std::fmt::Write as _;
        let _ = write!(out, "{v:.3}");
    }
    let kept = out[start..]
        .trim_end_matches('0')
        .trim_end_matches('.')
        .len();
    out.truncate(start + kept);
}

/// Append `v` as `{:.3}` writes it, by integer arithmetic, when that is exact: |v| < 1e6 and
/// 1000·|v| not within 1e-6 of a rounding tie. Then the product's rounding error (below 1.2e-7)
/// cannot change which thousandth is nearest, so `round` picks the same digits as the exact
/// decimal expansion the formatter rounds. Returns false (appending nothing) otherwise. Derived
/// values (performance density, resolution) are rarely whole, and the formatter's exact mode
/// was a tenth of the time of a row with its own parameters.
fn push_fixed3(out: &mut String, v: f64) -> bool {
    let a = v.abs();
    // Also rules out NaN and infinities.
    if a.is_nan() || a >= 1e6 {
        return false;
    }
    let y = a * 1000.0;
    if (y - y.floor() - 0.5).abs() < 1e-6 {
        return false;
    }
    let r = y.round() as u64;
    if v.is_sign_negative() {
        out.push('-');
    }
    push_uint(out, r / 1000);
    let f = r % 1000;
    out.push('.');
    out.extend([f / 100, f / 10 % 10, f % 10].map(|d| char::from(b'0' + d as u8)));
    true
}

/// Append the decimal digits of `u`.
fn push_uint(out: &mut String, mut u: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    out.extend(buf[i..].iter().map(|&b| char::from(b)));
}

/// Append a value as its `Display` writes it (strings in double quotes), without allocating.
pub fn push_value(out: &mut String, v: &Value) {
    match v {
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Num(n) => push_num(out, *n),
        Value::Str(s) => {
            out.push('"');
            out.push_str(s);
            out.push('"');
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fixed3(v: f64) -> Option<String> {
        let mut s = String::new();
        push_fixed3(&mut s, v).then_some(s)
    }

    proptest! {
        #[test]
        fn fixed3_is_the_formatter(
            v in prop_oneof![-2e6..2e6f64, -10.0..10.0f64, -0.01..0.01f64],
            k in 0u32..2_000_000,
        ) {
            for x in [v, f64::from(k) / 1000.0, f64::from(k) / 128.0, f64::from(k) / 7.0] {
                if let Some(s) = fixed3(x) {
                    prop_assert_eq!(s, format!("{x:.3}"));
                }
            }
        }
    }

    #[test]
    fn fixed3_on_performance_densities() {
        // The values batch rows produce most: TPP over die area.
        for tpp in (1000..9000).step_by(7) {
            for die in (300..900).step_by(13) {
                let v = f64::from(tpp) / f64::from(die);
                if let Some(s) = fixed3(v) {
                    assert_eq!(s, format!("{v:.3}"), "{tpp}/{die}");
                }
            }
        }
    }

    #[test]
    fn fixed3_edges() {
        for v in [
            0.0005,
            0.0015,
            0.0625,
            1.0005,
            2.5e-4,
            -0.0004,
            -0.0,
            999_999.999_6,
            5.925,
            0.1235,
            123.4565,
            1e6,
            1e7,
            f64::NAN,
            f64::INFINITY,
        ] {
            let want = format!("{v:.3}");
            if let Some(s) = fixed3(v) {
                assert_eq!(s, want, "{v}");
            }
        }
        assert_eq!(fixed3(5.693181818181818).as_deref(), Some("5.693"));
        assert_eq!(fixed3(-0.0004).as_deref(), Some("-0.000"));
        assert_eq!(fixed3(1e6), None);
        assert_eq!(fixed3(f64::NAN), None);
    }

    #[test]
    fn push_num_matches_fmt_num() {
        let cases = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            4800.0,
            -123456789.0,
            999_999_999_999_999.0,
            1e15,
            -1e15,
            1e20,
            0.33,
            13.5,
            10.227272727272727,
            -0.0004,
            0.0004,
            5.92,
            1.5,
            35.7142857,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MAX,
            f64::MIN_POSITIVE,
        ];
        for v in cases {
            let mut s = String::from("x");
            push_num(&mut s, v);
            assert_eq!(&s[1..], fmt_num(v), "{v:?}");
        }
        for (s, v) in [
            ("TRUE", Value::Bool(true)),
            (" yes ", Value::Bool(true)),
            ("No", Value::Bool(false)),
            ("false", Value::Bool(false)),
            ("Yes!", Value::Str("Yes!".into())),
            ("1e3", Value::Num(1000.0)),
            ("inf", Value::Str("inf".into())),
        ] {
            assert_eq!(Value::parse_cli(s), v, "{s}");
        }
        for v in [
            Value::Bool(true),
            Value::Bool(false),
            Value::Num(2.5),
            Value::Str("lithography_scanner".into()),
        ] {
            let mut s = String::new();
            push_value(&mut s, &v);
            assert_eq!(s, v.to_string());
        }
    }
}
