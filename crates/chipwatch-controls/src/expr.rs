//! A small, safe arithmetic expression language for derived parameters kept in the measure data
//! (`wavelength_nm * 0.35 / numerical_aperture`, `2 * mac_tops * bit_length`, `tpp / die_area_mm2`).
//!
//! Grammar: numbers, parameter names, `+ - * / ^`, unary minus, parentheses and the functions
//! `min(a, b, ...)`, `max(a, b, ...)`, `abs(x)`, `sqrt(x)`. No loops, no assignment, no IO; the
//! nesting depth and the text length are bounded so hostile data cannot exhaust the stack.

use std::collections::BTreeMap;
use std::fmt;

use crate::value::Value;

const MAX_DEPTH: usize = 64;
const MAX_LEN: usize = 4096;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    Var(String),
    Neg(Box<Expr>),
    Bin(Op, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Min,
    Max,
    Abs,
    Sqrt,
}

/// Why an expression failed to parse (with the byte offset) or to evaluate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExprError {
    #[error("at offset {offset}: {message}")]
    Syntax { offset: usize, message: String },
    #[error("parameter `{0}` is not given")]
    Missing(String),
    #[error("parameter `{0}` is not a number")]
    NotNumber(String),
    #[error("the result is not a finite number (division by zero or overflow)")]
    NotFinite,
}

impl Expr {
    /// Parse an expression text.
    pub fn parse(text: &str) -> Result<Expr, ExprError> {
        if text.len() > MAX_LEN {
            return Err(ExprError::Syntax {
                offset: MAX_LEN,
                message: format!("expression longer than {MAX_LEN} bytes"),
            });
        }
        let mut p = Parser {
            s: text.as_bytes(),
            pos: 0,
            depth: 0,
        };
        let e = p.expr()?;
        p.ws();
        if p.pos != p.s.len() {
            return Err(p.err("unexpected text after the expression"));
        }
        Ok(e)
    }

    /// Names of the parameters the expression reads, sorted and unique.
    pub fn variables(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_vars(&mut out);
        out.sort();
        out.dedup();
        out
    }

    fn collect_vars(&self, out: &mut Vec<String>) {
        match self {
            Expr::Num(_) => {}
            Expr::Var(v) => out.push(v.clone()),
            Expr::Neg(e) => e.collect_vars(out),
            Expr::Bin(_, a, b) => {
                a.collect_vars(out);
                b.collect_vars(out);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.collect_vars(out)),
        }
    }

    /// Evaluate against parameter values.
    pub fn eval(&self, params: &BTreeMap<String, Value>) -> Result<f64, ExprError> {
        let v = self.eval_inner(params).map_err(|f| match f {
            Fail::Missing(n) => ExprError::Missing(n.to_string()),
            Fail::NotNumber(n) => ExprError::NotNumber(n.to_string()),
        })?;
        if v.is_finite() {
            Ok(v)
        } else {
            Err(ExprError::NotFinite)
        }
    }

    /// [`Expr::eval`] without the reason for a failure: the engine tries every formula on every
    /// item and most fail for want of an input, so this path allocates no error message.
    pub fn eval_opt(&self, params: &BTreeMap<String, Value>) -> Option<f64> {
        self.eval_inner(params).ok().filter(|v| v.is_finite())
    }

    fn eval_inner<'a>(&'a self, params: &BTreeMap<String, Value>) -> Result<f64, Fail<'a>> {
        Ok(match self {
            Expr::Num(v) => *v,
            Expr::Var(name) => match params.get(name) {
                None => return Err(Fail::Missing(name)),
                Some(Value::Num(v)) => *v,
                Some(_) => return Err(Fail::NotNumber(name)),
            },
            Expr::Neg(e) => -e.eval_inner(params)?,
            Expr::Bin(op, a, b) => {
                let (a, b) = (a.eval_inner(params)?, b.eval_inner(params)?);
                match op {
                    Op::Add => a + b,
                    Op::Sub => a - b,
                    Op::Mul => a * b,
                    Op::Div => a / b,
                    Op::Pow => a.powf(b),
                }
            }
            Expr::Call(f, args) => {
                let vals = args
                    .iter()
                    .map(|a| a.eval_inner(params))
                    .collect::<Result<Vec<f64>, _>>()?;
                match f {
                    Func::Min => vals.iter().copied().fold(f64::INFINITY, f64::min),
                    Func::Max => vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    Func::Abs => vals[0].abs(),
                    Func::Sqrt => vals[0].sqrt(),
                }
            }
        })
    }
}

/// Why an evaluation failed, borrowing the parameter name ([`ExprError`] owns it).
enum Fail<'a> {
    Missing(&'a str),
    NotNumber(&'a str),
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Num(v) => f.write_str(&crate::value::fmt_num(*v)),
            Expr::Var(v) => f.write_str(v),
            Expr::Neg(e) => write!(f, "-({e})"),
            Expr::Bin(op, a, b) => {
                let o = match op {
                    Op::Add => "+",
                    Op::Sub => "-",
                    Op::Mul => "*",
                    Op::Div => "/",
                    Op::Pow => "^",
                };
                write!(f, "({a} {o} {b})")
            }
            Expr::Call(func, args) => {
                let name = match func {
                    Func::Min => "min",
                    Func::Max => "max",
                    Func::Abs => "abs",
                    Func::Sqrt => "sqrt",
                };
                let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
                write!(f, "{name}({})", args.join(", "))
            }
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, message: &str) -> ExprError {
        ExprError::Syntax {
            offset: self.pos,
            message: message.to_string(),
        }
    }

    fn ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.pos).copied()
    }

    fn enter(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("expression nested too deeply"));
        }
        Ok(())
    }

    // expr := term (('+'|'-') term)*
    fn expr(&mut self) -> Result<Expr, ExprError> {
        self.enter()?;
        let mut lhs = self.term()?;
        while let Some(c @ (b'+' | b'-')) = self.peek() {
            self.pos += 1;
            let rhs = self.term()?;
            let op = if c == b'+' { Op::Add } else { Op::Sub };
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        self.depth -= 1;
        Ok(lhs)
    }

    // term := unary (('*'|'/') unary)*
    fn term(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.unary()?;
        while let Some(c @ (b'*' | b'/')) = self.peek() {
            self.pos += 1;
            let rhs = self.unary()?;
            let op = if c == b'*' { Op::Mul } else { Op::Div };
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    // unary := '-' unary | power
    fn unary(&mut self) -> Result<Expr, ExprError> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(e)));
        }
        self.power()
    }

    // power := atom ('^' unary)?   (right-associative)
    fn power(&mut self) -> Result<Expr, ExprError> {
        let base = self.atom()?;
        if self.peek() == Some(b'^') {
            self.pos += 1;
            self.enter()?;
            let exp = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Bin(Op::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<Expr, ExprError> {
        match self.peek() {
            None => Err(self.err("expected a number, a parameter or `(`")),
            Some(b'(') => {
                self.pos += 1;
                let e = self.expr()?;
                if self.peek() != Some(b')') {
                    return Err(self.err("expected `)`"));
                }
                self.pos += 1;
                Ok(e)
            }
            Some(c) if c.is_ascii_digit() || c == b'.' => {
                let start = self.pos;
                while self.pos < self.s.len()
                    && (self.s[self.pos].is_ascii_digit() || self.s[self.pos] == b'.')
                {
                    self.pos += 1;
                }
                // Exponent part: 1e-3.
                if self.pos < self.s.len() && matches!(self.s[self.pos], b'e' | b'E') {
                    let save = self.pos;
                    self.pos += 1;
                    if self.pos < self.s.len() && matches!(self.s[self.pos], b'+' | b'-') {
                        self.pos += 1;
                    }
                    let digits = self.pos;
                    while self.pos < self.s.len() && self.s[self.pos].is_ascii_digit() {
                        self.pos += 1;
                    }
                    if self.pos == digits {
                        self.pos = save;
                    }
                }
                let text = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("");
                text.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .map(Expr::Num)
                    .ok_or_else(|| ExprError::Syntax {
                        offset: start,
                        message: format!("`{text}` is not a number"),
                    })
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.pos;
                while self.pos < self.s.len()
                    && (self.s[self.pos].is_ascii_alphanumeric() || self.s[self.pos] == b'_')
                {
                    self.pos += 1;
                }
                let name = std::str::from_utf8(&self.s[start..self.pos])
                    .unwrap_or("")
                    .to_string();
                if self.peek() == Some(b'(') {
                    let func = match name.as_str() {
                        "min" => Func::Min,
                        "max" => Func::Max,
                        "abs" => Func::Abs,
                        "sqrt" => Func::Sqrt,
                        _ => {
                            return Err(ExprError::Syntax {
                                offset: start,
                                message: format!(
                                    "unknown function `{name}` (known: min, max, abs, sqrt)"
                                ),
                            })
                        }
                    };
                    self.pos += 1;
                    let mut args = Vec::new();
                    if self.peek() != Some(b')') {
                        loop {
                            args.push(self.expr()?);
                            match self.peek() {
                                Some(b',') => self.pos += 1,
                                Some(b')') => break,
                                _ => return Err(self.err("expected `,` or `)`")),
                            }
                        }
                    }
                    self.pos += 1;
                    let ok = match func {
                        Func::Min | Func::Max => !args.is_empty(),
                        Func::Abs | Func::Sqrt => args.len() == 1,
                    };
                    if !ok {
                        return Err(ExprError::Syntax {
                            offset: start,
                            message: format!("wrong number of arguments to `{name}`"),
                        });
                    }
                    return Ok(Expr::Call(func, args));
                }
                Ok(Expr::Var(name))
            }
            Some(c) => Err(self.err(&format!("unexpected character `{}`", c as char))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(kv: &[(&str, f64)]) -> BTreeMap<String, Value> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), Value::Num(*v)))
            .collect()
    }

    #[test]
    fn mrf_formula() {
        let e = Expr::parse("wavelength_nm * 0.35 / numerical_aperture").unwrap();
        let p = params(&[("wavelength_nm", 193.0), ("numerical_aperture", 1.35)]);
        assert!((e.eval(&p).unwrap() - 50.037).abs() < 1e-3);
        assert_eq!(e.variables(), vec!["numerical_aperture", "wavelength_nm"]);
    }

    #[test]
    fn precedence_and_functions() {
        let p = params(&[("x", 3.0)]);
        let ev = |s: &str| Expr::parse(s).unwrap().eval(&p).unwrap();
        assert_eq!(ev("1 + 2 * x"), 7.0);
        assert_eq!(ev("(1 + 2) * x"), 9.0);
        assert_eq!(ev("-x ^ 2"), -9.0);
        assert_eq!(ev("2 ^ 3 ^ 2"), 512.0);
        assert_eq!(ev("min(x, 2, 5) + max(1, x)"), 5.0);
        assert_eq!(ev("abs(-2) + sqrt(16)"), 6.0);
        assert_eq!(ev("1e3 / 4"), 250.0);
    }

    #[test]
    fn errors() {
        assert!(matches!(Expr::parse("1 +"), Err(ExprError::Syntax { .. })));
        assert!(Expr::parse("foo(1)").is_err());
        assert!(Expr::parse("(1").is_err());
        assert!(Expr::parse("1 2").is_err());
        assert!(Expr::parse("abs(1, 2)").is_err());
        assert!(Expr::parse(&"(".repeat(1000)).is_err());
        let e = Expr::parse("a / b").unwrap();
        assert_eq!(
            e.eval(&params(&[("a", 1.0)])),
            Err(ExprError::Missing("b".into()))
        );
        assert_eq!(
            e.eval(&params(&[("a", 1.0), ("b", 0.0)])),
            Err(ExprError::NotFinite)
        );
    }
}
