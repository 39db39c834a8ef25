//! Output helpers: aligned plain-text tables, JSON printing, number formatting. Kept tiny on
//! purpose: tables must stay readable when piped and stable for snapshot tests.

use serde::Serialize;
use std::io::Write;

/// A failed write to standard output. Its own type, so that `main` can tell a reader that went
/// away (`chipwatch ... | head`, a quiet end) from a broken pipe anywhere else (a webhook, a
/// database connection), which stays an error.
#[derive(Debug)]
pub struct StdoutError(pub std::io::Error);

impl std::fmt::Display for StdoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The cause follows in the error chain that `main` prints.
        f.write_str("writing to standard output")
    }
}

impl std::error::Error for StdoutError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// The answer was printed in full, but its overall verdict is `undetermined`: `main` exits with
/// code 3 so scripts cannot mistake it for a clear answer (0) or bad input (2).
#[derive(Debug)]
pub struct Undetermined(pub String);

impl std::fmt::Display for Undetermined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Undetermined {}

/// Print a value as pretty JSON on stdout. Buffered: stdout flushes at every newline, and
/// pretty JSON has one per number (a 10^5-item scenario result spent 40 s in write calls).
pub fn print_json<T: Serialize + ?Sized>(v: &T) -> anyhow::Result<()> {
    let write = || -> std::io::Result<()> {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        serde_json::to_writer_pretty(&mut out, v)?;
        writeln!(out)?;
        out.flush()
    };
    write().map_err(StdoutError)?;
    Ok(())
}

/// A plain-text table with a header row; numeric-looking columns are right-aligned.
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }
    pub fn render(&self) -> String {
        let ncol = self.header.len();
        let mut width = vec![0usize; ncol];
        let mut numeric = vec![true; ncol];
        for (c, h) in self.header.iter().enumerate() {
            width[c] = h.chars().count();
        }
        for r in &self.rows {
            for (c, cell) in r.iter().enumerate().take(ncol) {
                width[c] = width[c].max(cell.chars().count());
                if !cell.is_empty() && cell != "-" && !looks_numeric(cell) {
                    numeric[c] = false;
                }
            }
        }
        let mut s = String::new();
        let line = |s: &mut String, cells: &[String]| {
            let mut parts = Vec::with_capacity(ncol);
            for (c, w) in width.iter().enumerate() {
                let cell = cells.get(c).map(String::as_str).unwrap_or("");
                let pad = w - cell.chars().count();
                if numeric[c] {
                    parts.push(format!("{}{cell}", " ".repeat(pad)));
                } else {
                    parts.push(format!("{cell}{}", " ".repeat(pad)));
                }
            }
            s.push_str(parts.join("  ").trim_end());
            s.push('\n');
        };
        line(&mut s, &self.header);
        let rule: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
        s.push_str(rule.join("  ").trim_end());
        s.push('\n');
        for r in &self.rows {
            line(&mut s, r);
        }
        s
    }
    pub fn print(&self) -> anyhow::Result<()> {
        out!("{}", self.render());
        Ok(())
    }
}

fn looks_numeric(s: &str) -> bool {
    let t = s.trim_end_matches('%').trim_start_matches('$');
    let t = t.trim_end_matches(['B', 'M', 'k']);
    !t.is_empty() && t.parse::<f64>().is_ok()
}

/// "$13.0B", "$665.7M": market values for tables.
pub fn usd(v: Option<f64>) -> String {
    match v {
        None => "-".to_string(),
        Some(v) if v >= 1e9 => format!("${:.1}B", v / 1e9),
        Some(v) if v >= 1e6 => format!("${:.1}M", v / 1e6),
        Some(v) => format!("${v:.0}"),
    }
}

/// A percentage with one decimal, or "-" when unknown.
pub fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}%"))
}
