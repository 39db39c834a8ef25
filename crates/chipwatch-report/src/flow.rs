//! Two more general SVG charts, shared by the web dashboard and the HTML reports: a flow diagram
//! (a chain of steps left to right, grouped into bands, each step with the inputs that feed it
//! stacked below) and a share matrix (rows x columns shaded on one sequential hue with the value
//! printed in each cell, for percentages where a red-to-green availability scale would mislead).
//! Like [`crate::svg`], they take plain data and return self-contained SVG strings.

use crate::svg::escape;
use std::fmt::Write;

/// A box of a flow diagram. `href` turns the box into a link (keyboard-focusable in browsers).
#[derive(Debug, Clone, Default)]
pub struct FlowNode {
    pub label: String,
    pub sublabel: String,
    /// Full text for the tooltip and screen readers.
    pub tooltip: String,
    pub href: Option<String>,
    /// Fill colour; `None` draws a neutral box.
    pub fill: Option<String>,
}

/// One step of the chain with the inputs feeding it.
#[derive(Debug, Clone, Default)]
pub struct FlowColumn {
    pub head: FlowNode,
    pub inputs: Vec<FlowNode>,
}

/// A labelled group of consecutive columns (e.g. a stage of the value chain).
#[derive(Debug, Clone)]
pub struct FlowBand {
    pub label: String,
    pub first: usize,
    pub last: usize,
}

/// The whole diagram: columns, bands, arrows between column heads, legend (colour, text).
#[derive(Debug, Clone, Default)]
pub struct Flow {
    pub columns: Vec<FlowColumn>,
    pub bands: Vec<FlowBand>,
    pub links: Vec<(usize, usize)>,
    pub legend: Vec<(String, String)>,
}

const COL_W: f64 = 114.0;
const GAP: f64 = 18.0;
const HEAD_Y: f64 = 64.0;
const HEAD_H: f64 = 46.0;
const IN_H: f64 = 44.0;
const IN_GAP: f64 = 6.0;
const BAND_FILLS: [&str; 4] = ["#eef3fb", "#f6f1fa", "#eef8f3", "#fbf5ea"];

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('\u{2026}');
        t
    }
}

/// Split a label into at most two lines of about `width` characters, at spaces where possible;
/// the second line is truncated with an ellipsis.
fn wrap2(label: &str, width: usize) -> (String, String) {
    if label.chars().count() <= width {
        return (label.to_string(), String::new());
    }
    let mut first = String::new();
    let mut words = label.split(' ').peekable();
    while let Some(w) = words.peek() {
        let extra = if first.is_empty() { 0 } else { 1 };
        if first.chars().count() + extra + w.chars().count() > width {
            break;
        }
        if !first.is_empty() {
            first.push(' ');
        }
        first.push_str(w);
        words.next();
    }
    if first.is_empty() {
        // One long word: hard break.
        let head: String = label.chars().take(width).collect();
        let tail: String = label.chars().skip(width).collect();
        return (head, truncate(&tail, width));
    }
    let rest: Vec<&str> = words.collect();
    (first, truncate(&rest.join(" "), width))
}

fn node(s: &mut String, n: &FlowNode, x: f64, y: f64, w: f64, h: f64, bold: bool) {
    let fill = n.fill.clone().unwrap_or_else(|| "#ffffff".to_string());
    let chars = (w / 5.9) as usize;
    let (l1, l2) = wrap2(&n.label, chars);
    let lines = if l2.is_empty() { 1.0 } else { 2.0 };
    // Centre the block of label lines plus the sublabel vertically.
    let top = y + h / 2.0 - (lines + 1.0) * 11.0 / 2.0 + 9.0;
    let fw = if bold { r#" font-weight="bold""# } else { "" };
    let mut text = format!(
        r#"<text x="{tx:.1}" y="{top:.1}" text-anchor="middle"{fw}>{}</text>"#,
        escape(&l1),
        tx = x + w / 2.0
    );
    if !l2.is_empty() {
        text.push_str(&format!(
            r#"<text x="{tx:.1}" y="{y2:.1}" text-anchor="middle"{fw}>{}</text>"#,
            escape(&l2),
            tx = x + w / 2.0,
            y2 = top + 11.0
        ));
    }
    text.push_str(&format!(
        r#"<text x="{tx:.1}" y="{y3:.1}" text-anchor="middle" font-size="9.5">{}</text>"#,
        escape(&truncate(&n.sublabel, chars + 2)),
        tx = x + w / 2.0,
        y3 = top + 11.0 * lines
    ));
    let inner = format!(
        r##"<title>{tip}</title><rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="5" fill="{fill}" stroke="#555"/>{text}"##,
        tip = escape(if n.tooltip.is_empty() {
            &n.label
        } else {
            &n.tooltip
        }),
    );
    match &n.href {
        Some(href) => {
            let _ = write!(
                s,
                r#"<a href="{}" aria-label="{}">{inner}</a>"#,
                escape(href),
                escape(if n.tooltip.is_empty() {
                    &n.label
                } else {
                    &n.tooltip
                })
            );
        }
        None => s.push_str(&format!("<g>{inner}</g>")),
    }
}

/// Draw a flow diagram.
pub fn flow_diagram(title: &str, f: &Flow) -> String {
    let n = f.columns.len().max(1);
    let max_inputs = f.columns.iter().map(|c| c.inputs.len()).max().unwrap_or(0);
    let w = 10.0 + (COL_W + GAP) * n as f64;
    let inputs_top = HEAD_Y + HEAD_H + 16.0;
    let legend_y = inputs_top + (IN_H + IN_GAP) * max_inputs as f64 + 16.0;
    let h = legend_y + 24.0;
    let col_x = |i: usize| 10.0 + (COL_W + GAP) * i as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}" role="img" aria-label="{t}" font-family="sans-serif" font-size="10.5"><title>{t}</title><defs><marker id="flow-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs><text x="4" y="16" font-size="14" font-weight="bold">{t}</text>"##,
        t = escape(title)
    );
    for (k, b) in f.bands.iter().enumerate() {
        let x0 = col_x(b.first) - GAP / 2.0 + 4.0;
        let x1 = col_x(b.last.min(n - 1)) + COL_W + GAP / 2.0 - 4.0;
        let _ = write!(
            s,
            r##"<rect x="{x0:.1}" y="24" width="{bw:.1}" height="{bh:.1}" rx="8" fill="{fill}"/><text x="{tx:.1}" y="40" text-anchor="middle" font-weight="bold" fill="#333">{l}</text>"##,
            bw = x1 - x0,
            bh = legend_y - 30.0,
            fill = BAND_FILLS[k % BAND_FILLS.len()],
            tx = (x0 + x1) / 2.0,
            l = escape(&b.label)
        );
    }
    for &(a, b) in &f.links {
        if a >= f.columns.len() || b >= f.columns.len() {
            continue;
        }
        let ym = HEAD_Y + HEAD_H / 2.0;
        if b == a + 1 {
            let _ = write!(
                s,
                r##"<line x1="{x1:.1}" y1="{ym:.1}" x2="{x2:.1}" y2="{ym:.1}" stroke="#444" stroke-width="1.5" marker-end="url(#flow-arrow)"/>"##,
                x1 = col_x(a) + COL_W,
                x2 = col_x(b) - 2.0
            );
        } else {
            // Route over the heads in between, through the gap under the band labels.
            let (xa, xb) = (col_x(a) + COL_W * 0.75, col_x(b) + COL_W * 0.25);
            let _ = write!(
                s,
                r##"<path d="M{xa:.1},{yt:.1} L{xa:.1},{yr:.1} L{xb:.1},{yr:.1} L{xb:.1},{yt2:.1}" fill="none" stroke="#444" stroke-width="1.5" marker-end="url(#flow-arrow)"/>"##,
                yt = HEAD_Y,
                yr = HEAD_Y - 9.0,
                yt2 = HEAD_Y - 1.0
            );
        }
    }
    for (i, c) in f.columns.iter().enumerate() {
        let x = col_x(i);
        node(&mut s, &c.head, x, HEAD_Y, COL_W, HEAD_H, true);
        if !c.inputs.is_empty() {
            let bottom = inputs_top + (IN_H + IN_GAP) * c.inputs.len() as f64 - IN_GAP;
            let _ = write!(
                s,
                r##"<line x1="{lx:.1}" y1="{bottom:.1}" x2="{lx:.1}" y2="{top:.1}" stroke="#444" stroke-width="1.5" marker-end="url(#flow-arrow)"/>"##,
                lx = x + 5.0,
                top = HEAD_Y + HEAD_H + 1.0
            );
        }
        for (k, inp) in c.inputs.iter().enumerate() {
            let y = inputs_top + (IN_H + IN_GAP) * k as f64;
            let _ = write!(
                s,
                r##"<line x1="{x0:.1}" y1="{ym:.1}" x2="{x1:.1}" y2="{ym:.1}" stroke="#444"/>"##,
                x0 = x + 5.0,
                x1 = x + 12.0,
                ym = y + IN_H / 2.0
            );
            node(&mut s, inp, x + 12.0, y, COL_W - 12.0, IN_H, false);
        }
    }
    let mut lx = 10.0;
    for (colour, text) in &f.legend {
        let _ = write!(
            s,
            r##"<rect x="{lx:.1}" y="{ly:.1}" width="14" height="12" fill="{c}" stroke="#555"/><text x="{tx:.1}" y="{ty:.1}">{t}</text>"##,
            ly = legend_y,
            c = escape(colour),
            tx = lx + 18.0,
            ty = legend_y + 10.0,
            t = escape(text)
        );
        lx += 30.0 + 6.0 * text.chars().count() as f64;
    }
    s.push_str("</svg>");
    s
}

/// Colour of a value on a white-to-blue scale (0 white, 1 dark blue); the text colour that stays
/// readable on it.
pub fn blue_scale(t: f64) -> (String, &'static str) {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (a, b) = ((247.0, 251.0, 255.0), (8.0, 69.0, 148.0));
    let mix = |x: f64, y: f64| (x + (y - x) * t).round() as u8;
    (
        format!(
            "#{:02x}{:02x}{:02x}",
            mix(a.0, b.0),
            mix(a.1, b.1),
            mix(a.2, b.2)
        ),
        if t > 0.55 { "#ffffff" } else { "#111111" },
    )
}

/// Rows x columns of values (e.g. percent shares) shaded from white (0) to dark blue (`max`), the
/// value printed in each cell; `None` cells stay blank (no figure). Column labels are wrapped at
/// spaces onto up to three lines.
pub fn share_matrix(
    title: &str,
    rows: &[String],
    cols: &[String],
    values: &[Vec<Option<f64>>],
    unit: &str,
    max: f64,
) -> String {
    let cell_w = 92.0;
    let cell_h = 22.0;
    let left = 16.0
        + 7.0
            * rows
                .iter()
                .map(|r| r.chars().count())
                .max()
                .unwrap_or(4)
                .min(32) as f64;
    let top = 76.0;
    let w = left + cell_w * cols.len() as f64 + 10.0;
    let h = top + cell_h * rows.len() as f64 + 12.0;
    let max = if max > 0.0 { max } else { 1.0 };
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}" role="img" aria-label="{t}" font-family="sans-serif" font-size="11"><title>{t}</title><text x="4" y="16" font-size="14" font-weight="bold">{t}</text>"#,
        t = escape(title)
    );
    for (j, c) in cols.iter().enumerate() {
        let cx = left + cell_w * j as f64 + cell_w / 2.0;
        let mut lines: Vec<String> = vec![String::new()];
        for word in c.split_whitespace() {
            let n_lines = lines.len();
            let cur = lines.last_mut().expect("one line");
            if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > 15 && n_lines < 3
            {
                let next = word.to_string();
                lines.push(next);
            } else {
                if !cur.is_empty() {
                    cur.push(' ');
                }
                cur.push_str(word);
            }
        }
        let y0 = top - 6.0 - 13.0 * (lines.len() as f64 - 1.0);
        for (k, l) in lines.iter().enumerate() {
            let _ = write!(
                s,
                r#"<text x="{cx:.1}" y="{y:.1}" text-anchor="middle" font-weight="bold">{}</text>"#,
                escape(&truncate(l, 17)),
                y = y0 + 13.0 * k as f64
            );
        }
    }
    for (i, r) in rows.iter().enumerate() {
        let y = top + cell_h * i as f64;
        let _ = write!(
            s,
            r#"<text x="{x:.1}" y="{ty:.1}" text-anchor="end">{}</text>"#,
            escape(&truncate(r, 32)),
            x = left - 6.0,
            ty = y + cell_h * 0.68
        );
        for (j, col) in cols.iter().enumerate() {
            let x = left + cell_w * j as f64;
            let v = values.get(i).and_then(|row| row.get(j)).copied().flatten();
            let (fill, ink) = match v {
                Some(v) => blue_scale(v / max),
                None => ("#ffffff".to_string(), "#111111"),
            };
            let (text, tip) = match v {
                Some(v) => (
                    format!("{v:.0}{unit}"),
                    format!("{r} / {col}: {v:.1}{unit}"),
                ),
                None => (String::new(), format!("{r} / {col}: no figure")),
            };
            let _ = write!(
                s,
                r##"<g><title>{tip}</title><rect x="{x:.1}" y="{y:.1}" width="{cw:.1}" height="{ch:.1}" fill="{fill}" stroke="#ccc"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="middle" fill="{ink}">{text}</text></g>"##,
                tip = escape(&tip),
                cw = cell_w,
                ch = cell_h,
                tx = x + cell_w / 2.0,
                ty = y + cell_h * 0.68,
                text = escape(&text)
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(l: &str) -> FlowNode {
        FlowNode {
            label: l.into(),
            sublabel: "s".into(),
            href: Some(format!("/item/{l}")),
            ..Default::default()
        }
    }

    #[test]
    fn flow_diagram_draws_every_node_link_and_band() {
        let f = Flow {
            columns: vec![
                FlowColumn {
                    head: n("A"),
                    inputs: vec![n("a1"), n("a2")],
                },
                FlowColumn {
                    head: n("B"),
                    inputs: vec![],
                },
                FlowColumn {
                    head: n("C<&>"),
                    inputs: vec![n("c1")],
                },
            ],
            bands: vec![FlowBand {
                label: "stage one".into(),
                first: 0,
                last: 1,
            }],
            links: vec![(0, 1), (0, 2), (5, 9)],
            legend: vec![("#fff".into(), "none".into())],
        };
        let s = flow_diagram("t", &f);
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert_eq!(s.matches("<a href=").count(), 6);
        assert!(s.contains("C&lt;&amp;&gt;") && !s.contains("C<&>"));
        // One straight arrow, one routed arrow, two input arrows; the out-of-range link is skipped.
        assert_eq!(s.matches("marker-end").count(), 4);
        assert!(s.contains("stage one"));
    }

    #[test]
    fn labels_wrap_onto_two_lines() {
        assert_eq!(
            wrap2("N19 Lithography tools", 30),
            ("N19 Lithography tools".into(), String::new())
        );
        assert_eq!(
            wrap2("N57 Chemical mechanical planarization", 18),
            ("N57 Chemical".into(), "mechanical planar\u{2026}".into())
        );
        assert_eq!(
            wrap2("Supercalifragilistic", 8),
            ("Supercal".into(), "ifragil\u{2026}".into())
        );
    }

    #[test]
    fn share_matrix_prints_values_and_blanks() {
        let s = share_matrix(
            "m",
            &["USA".into(), "NLD".into()],
            &["Fabrication tools (value-weighted)".into(), "x".into()],
            &[vec![Some(40.0), None], vec![Some(100.0), Some(0.4)]],
            "%",
            100.0,
        );
        assert!(s.contains(">40%<") && s.contains(">100%<") && s.contains(">0%<"));
        assert!(s.contains("no figure"));
        assert_eq!(s.matches("<rect").count(), 4);
        assert_eq!(blue_scale(0.0).0, "#f7fbff");
        assert_eq!(blue_scale(1.0), ("#084594".to_string(), "#ffffff"));
    }
}
