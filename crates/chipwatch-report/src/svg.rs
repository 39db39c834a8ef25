//! General SVG charts, returned as strings with no external references: a heatmap, a line
//! (time-series) chart, a horizontal bar chart and a chain diagram. Used by the HTML reports and,
//! later, by the web dashboard, so they take plain data and know nothing about scenarios.

use std::fmt::Write;

/// Escape text for XML/HTML content and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Colour for a value in 0..=1 (0 red, 0.5 amber, 1 green); values above 1 stay green.
pub fn scale_colour(v: f64) -> String {
    let v = if v.is_finite() {
        v.clamp(0.0, 1.0)
    } else {
        0.0
    };
    // Two linear segments in RGB: red (215,48,39) -> amber (254,224,139) -> green (26,152,80).
    let (a, b, t) = if v < 0.5 {
        ((215.0, 48.0, 39.0), (254.0, 224.0, 139.0), v / 0.5)
    } else {
        ((254.0, 224.0, 139.0), (26.0, 152.0, 80.0), (v - 0.5) / 0.5)
    };
    let mix = |x: f64, y: f64| (x + (y - x) * t).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

/// A categorical palette (colour-blind safe, Okabe-Ito), cycled.
pub fn palette(i: usize) -> &'static str {
    const P: [&str; 8] = [
        "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
    ];
    P[i % P.len()]
}

/// Heatmap of rows x columns; `None` cells are drawn grey. Values are expected in 0..=1.
pub fn heatmap(
    title: &str,
    rows: &[String],
    cols: &[String],
    values: &[Vec<Option<f64>>],
) -> String {
    let cell_w = 26.0;
    let cell_h = 22.0;
    let left = 10.0 + 8.0 * rows.iter().map(|r| r.chars().count()).max().unwrap_or(4) as f64;
    let top = 40.0
        + 7.0
            * cols
                .iter()
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(4)
                .min(30) as f64;
    let w = left + cell_w * cols.len() as f64 + 20.0;
    let h = top + cell_h * rows.len() as f64 + 40.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}" role="img" aria-label="{t}" font-family="sans-serif" font-size="11"><title>{t}</title><text x="4" y="16" font-size="14" font-weight="bold">{t}</text>"#,
        t = escape(title)
    );
    for (j, c) in cols.iter().enumerate() {
        let x = left + cell_w * j as f64 + cell_w / 2.0;
        let label: String = c.chars().take(30).collect();
        let _ = write!(
            s,
            r#"<text transform="translate({x:.1},{y:.1}) rotate(-60)" text-anchor="start">{}</text>"#,
            escape(&label),
            y = top - 4.0
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = top + cell_h * i as f64;
        let _ = write!(
            s,
            r#"<text x="{x:.1}" y="{ty:.1}" text-anchor="end">{}</text>"#,
            escape(r),
            x = left - 4.0,
            ty = y + cell_h * 0.7
        );
        for (j, _) in cols.iter().enumerate() {
            let v = values.get(i).and_then(|row| row.get(j)).copied().flatten();
            let x = left + cell_w * j as f64;
            let (fill, tip) = match v {
                Some(v) => (scale_colour(v), format!("{} / {}: {:.3}", r, cols[j], v)),
                None => ("#dddddd".to_string(), format!("{} / {}: n/a", r, cols[j])),
            };
            let _ = write!(
                s,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{cw:.1}" height="{ch:.1}" fill="{fill}" stroke="#fff"><title>{}</title></rect>"##,
                escape(&tip),
                cw = cell_w,
                ch = cell_h
            );
        }
    }
    // Legend.
    let ly = top + cell_h * rows.len() as f64 + 12.0;
    for k in 0..=10 {
        let v = f64::from(k) / 10.0;
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="{ly:.1}" width="14" height="10" fill="{}"/>"#,
            scale_colour(v),
            x = left + 14.0 * f64::from(k)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{x0:.1}" y="{y:.1}">0</text><text x="{x1:.1}" y="{y:.1}">1 (full availability)</text></svg>"#,
        x0 = left - 10.0,
        x1 = left + 14.0 * 11.0 + 4.0,
        y = ly + 9.0
    );
    s
}

/// One line of a line chart.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// Axis and size options of a line chart.
#[derive(Debug, Clone)]
pub struct LineOptions {
    pub x_label: String,
    pub y_label: String,
    /// Fixed y range; `None` fits the data.
    pub y_range: Option<(f64, f64)>,
    pub width: f64,
    pub height: f64,
}

impl Default for LineOptions {
    fn default() -> Self {
        LineOptions {
            x_label: "day".into(),
            y_label: "availability".into(),
            y_range: Some((0.0, 1.0)),
            width: 720.0,
            height: 320.0,
        }
    }
}

/// Line chart of several series with axes, ticks and a legend.
pub fn line_chart(title: &str, series: &[Series], o: &LineOptions) -> String {
    let (l, r, t, b) = (56.0, 150.0, 30.0, 40.0);
    let pw = o.width - l - r;
    let ph = o.height - t - b;
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let (mut x0, mut x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    if !x0.is_finite() {
        (x0, x1) = (0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let (y0, y1) = o.y_range.unwrap_or_else(|| {
        let ys = series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
        let (a, b) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
            (a.min(y), b.max(y))
        });
        if a.is_finite() && b > a {
            (a, b)
        } else {
            (0.0, 1.0)
        }
    });
    let sx = |x: f64| l + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| t + ph - (y - y0) / (y1 - y0) * ph;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}" role="img" aria-label="{ti}" font-family="sans-serif" font-size="11"><title>{ti}</title><text x="4" y="16" font-size="14" font-weight="bold">{ti}</text>"#,
        w = o.width,
        h = o.height,
        ti = escape(title)
    );
    for k in 0..=5 {
        let y = y0 + (y1 - y0) * f64::from(k) / 5.0;
        let _ = write!(
            s,
            r##"<line x1="{l:.1}" x2="{x2:.1}" y1="{py:.1}" y2="{py:.1}" stroke="#e0e0e0"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="end">{y:.2}</text>"##,
            x2 = l + pw,
            py = sy(y),
            tx = l - 4.0,
            ty = sy(y) + 4.0
        );
        let x = x0 + (x1 - x0) * f64::from(k) / 5.0;
        let _ = write!(
            s,
            r#"<text x="{px:.1}" y="{py:.1}" text-anchor="middle">{x:.0}</text>"#,
            px = sx(x),
            py = t + ph + 14.0
        );
    }
    let _ = write!(
        s,
        r##"<rect x="{l:.1}" y="{t:.1}" width="{pw:.1}" height="{ph:.1}" fill="none" stroke="#888"/><text x="{cx:.1}" y="{by:.1}" text-anchor="middle">{xl}</text><text transform="translate(14,{cy:.1}) rotate(-90)" text-anchor="middle">{yl}</text>"##,
        cx = l + pw / 2.0,
        by = o.height - 6.0,
        cy = t + ph / 2.0,
        xl = escape(&o.x_label),
        yl = escape(&o.y_label)
    );
    for (i, se) in series.iter().enumerate() {
        let pts: Vec<String> = se
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y.clamp(y0, y1))))
            .collect();
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{c}" stroke-width="2" points="{p}"><title>{lab}</title></polyline><rect x="{lx:.1}" y="{ly:.1}" width="12" height="4" fill="{c}"/><text x="{tx:.1}" y="{ty:.1}">{lab}</text>"#,
            c = palette(i),
            p = pts.join(" "),
            lab = escape(&se.label),
            lx = l + pw + 10.0,
            ly = t + 16.0 * i as f64 + 4.0,
            tx = l + pw + 26.0,
            ty = t + 16.0 * i as f64 + 10.0
        );
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bar chart; `max` fixes the full-scale value (`None`: the largest bar).
pub fn bar_chart(title: &str, bars: &[(String, f64)], max: Option<f64>, unit: &str) -> String {
    let label_w = 10.0
        + 7.0
            * bars
                .iter()
                .map(|b| b.0.chars().count())
                .max()
                .unwrap_or(4)
                .min(40) as f64;
    let bar_h = 18.0;
    let plot_w = 360.0;
    let w = label_w + plot_w + 90.0;
    let h = 30.0 + bar_h * bars.len() as f64 + 10.0;
    let m = max
        .unwrap_or_else(|| bars.iter().map(|b| b.1).fold(0.0, f64::max))
        .max(1e-12);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}" role="img" aria-label="{t}" font-family="sans-serif" font-size="11"><title>{t}</title><text x="4" y="16" font-size="14" font-weight="bold">{t}</text>"#,
        t = escape(title)
    );
    for (i, (label, v)) in bars.iter().enumerate() {
        let y = 26.0 + bar_h * i as f64;
        let bw = (v / m).clamp(0.0, 1.0) * plot_w;
        // A label cut to fit says so (the full label is in the tooltip).
        let short: String = if label.chars().count() > 40 {
            label.chars().take(39).chain(['\u{2026}']).collect()
        } else {
            label.clone()
        };
        // Percentages to one decimal, as the tables beside the charts; other units keep three.
        let shown = if unit == "%" {
            format!("{v:.1}")
        } else {
            format!("{v:.3}")
        };
        let _ = write!(
            s,
            r#"<text x="{lx:.1}" y="{ty:.1}" text-anchor="end">{}</text><rect x="{label_w:.1}" y="{y:.1}" width="{bw:.1}" height="{bh:.1}" fill="{c}"><title>{}: {v:.4}{u}</title></rect><text x="{vx:.1}" y="{ty:.1}">{shown}{u}</text>"#,
            escape(&short),
            escape(label),
            lx = label_w - 4.0,
            ty = y + bar_h * 0.7,
            bh = bar_h - 4.0,
            c = palette(0),
            vx = label_w + bw + 4.0,
            u = escape(unit)
        );
    }
    s.push_str("</svg>");
    s
}

/// A node of a chain diagram.
#[derive(Debug, Clone)]
pub struct ChainNode {
    pub label: String,
    pub sublabel: String,
    /// Colours the box (0..=1), `None` for neutral.
    pub value: Option<f64>,
}

/// Boxes left to right joined by arrows (e.g. a binding-constraint chain).
pub fn chain_diagram(title: &str, nodes: &[ChainNode]) -> String {
    let bw = 150.0;
    let bh = 46.0;
    let gap = 28.0;
    let per_row = 5usize;
    let rows = nodes.len().div_ceil(per_row).max(1);
    let w = 10.0 + (bw + gap) * per_row.min(nodes.len().max(1)) as f64;
    let h = 30.0 + (bh + 24.0) * rows as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}" role="img" aria-label="{t}" font-family="sans-serif" font-size="11"><title>{t}</title><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs><text x="4" y="16" font-size="14" font-weight="bold">{t}</text>"##,
        t = escape(title)
    );
    if nodes.is_empty() {
        s.push_str(r#"<text x="10" y="44">nothing binds</text>"#);
    }
    for (i, n) in nodes.iter().enumerate() {
        let (r, c) = (i / per_row, i % per_row);
        let x = 10.0 + (bw + gap) * c as f64;
        let y = 26.0 + (bh + 24.0) * r as f64;
        let fill = n.value.map_or_else(|| "#eeeeee".to_string(), scale_colour);
        let label: String = n.label.chars().take(22).collect();
        let sub: String = n.sublabel.chars().take(26).collect();
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{bw}" height="{bh}" rx="6" fill="{fill}" stroke="#555"><title>{full}</title></rect><text x="{tx:.1}" y="{ty1:.1}" text-anchor="middle" font-weight="bold">{label}</text><text x="{tx:.1}" y="{ty2:.1}" text-anchor="middle">{sub}</text>"##,
            full = escape(&format!("{} - {}", n.label, n.sublabel)),
            label = escape(&label),
            sub = escape(&sub),
            tx = x + bw / 2.0,
            ty1 = y + 19.0,
            ty2 = y + 35.0
        );
        if i + 1 < nodes.len() {
            if c + 1 < per_row {
                let _ = write!(
                    s,
                    r##"<line x1="{x1:.1}" y1="{ym:.1}" x2="{x2:.1}" y2="{ym:.1}" stroke="#555" marker-end="url(#arrow)"/>"##,
                    x1 = x + bw,
                    x2 = x + bw + gap - 2.0,
                    ym = y + bh / 2.0
                );
            } else {
                let _ = write!(
                    s,
                    r##"<path d="M{xm:.1},{yb:.1} L{xm:.1},{yn:.1} L{x0:.1},{yn:.1} L{x0:.1},{yt:.1}" fill="none" stroke="#555" marker-end="url(#arrow)"/>"##,
                    xm = x + bw / 2.0,
                    yb = y + bh,
                    yn = y + bh + 12.0,
                    x0 = 10.0 + bw / 2.0,
                    yt = y + bh + 22.0
                );
            }
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_handles_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn colours_run_red_to_green() {
        assert_eq!(scale_colour(0.0), "#d73027");
        assert_eq!(scale_colour(1.0), "#1a9850");
        assert_eq!(scale_colour(0.5), "#fee08b");
        assert_eq!(scale_colour(f64::NAN), "#d73027");
    }

    #[test]
    fn charts_are_well_formed_svg() {
        let h = heatmap(
            "t<x>",
            &["CHN".into(), "KOR".into()],
            &["N1".into(), "N2".into()],
            &[vec![Some(0.5), None], vec![Some(1.0), Some(0.0)]],
        );
        assert!(h.starts_with("<svg") && h.ends_with("</svg>"));
        assert!(h.contains("t&lt;x&gt;"));
        assert_eq!(h.matches("<rect").count(), 4 + 11);
        let l = line_chart(
            "s",
            &[Series {
                label: "a".into(),
                points: vec![(0.0, 1.0), (10.0, 0.5)],
            }],
            &LineOptions::default(),
        );
        assert!(l.contains("<polyline") && l.ends_with("</svg>"));
        let b = bar_chart("b", &[("x".into(), 2.0), ("y".into(), 1.0)], None, "");
        assert_eq!(b.matches("<rect").count(), 2);
        assert!(b.contains(">2.000</text>"));
        let long = "L".repeat(45);
        let p = bar_chart("p", &[(long.clone(), 99.25)], Some(100.0), "%");
        assert!(
            p.contains(">99.2%</text>") || p.contains(">99.3%</text>"),
            "{p}"
        );
        assert!(
            p.contains(&format!(">{}\u{2026}</text>", "L".repeat(39))),
            "{p}"
        );
        assert!(
            p.contains(&format!("<title>{long}: ")),
            "full label in the tooltip"
        );
        let c = chain_diagram(
            "c",
            &(0..7)
                .map(|i| ChainNode {
                    label: format!("N{i}"),
                    sublabel: "x".into(),
                    value: Some(0.5),
                })
                .collect::<Vec<_>>(),
        );
        assert_eq!(c.matches("<rect").count(), 7);
        assert!(chain_diagram("e", &[]).contains("nothing binds"));
    }
}
