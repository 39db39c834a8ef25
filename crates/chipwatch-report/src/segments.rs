//! The segment layer of a scenario result as HTML (scenario engine v2): economies by segment
//! with a heatmap, the worst segment's availability over time per economy, production hit by
//! country and owner, and what the controls in force on the baseline date already deny. Shared by
//! the HTML report and the dashboard's scenario page.

use crate::chain_label;
use crate::svg::escape;
use crate::svg::{self, LineOptions, Series};
use chipwatch_analysis::scenario::ScenarioResult;
use chipwatch_model::production::Segment;
use std::fmt::Write;

/// The section, or an empty string when the result has no segment layer.
pub fn segments_html(r: &ScenarioResult) -> String {
    if r.economies.is_empty() {
        return String::new();
    }
    let mut h = String::new();
    h.push_str("<h2>Chips by economy and segment</h2>");
    if let Some(p) = &r.segment_provenance {
        let _ = write!(
            h,
            "<p class=\"muted\">Production: {} ({} fab rows, {} fabs producing in {}; coverage {} of {}). Demand: {}. Allocation: {}. Trade matrix: {}. {}.</p>",
            escape(&p.fabs),
            p.fab_rows,
            p.producing_fabs,
            p.baseline_year,
            p.coverage_pct.map_or_else(|| "unknown".to_string(), |c| format!("{c:.0}%")),
            escape(&p.coverage_total),
            escape(&p.demand),
            escape(&p.allocation),
            escape(&p.trade_matrix),
            escape(&p.segment_weights),
        );
    }
    // Table: lowest availability per economy and segment (ranges where unknown shares matter).
    h.push_str("<table><tr><th>economy</th>");
    for s in Segment::ALL {
        let _ = write!(h, "<th title=\"{}\">{}</th>", escape(s.label()), s.as_str());
    }
    h.push_str("<th>all chips</th><th>binding constraint (worst segment)</th></tr>");
    for e in &r.economies {
        let name = match &e.part_of {
            Some(p) => format!(
                "&nbsp;&nbsp;{} ({}, in {})",
                escape(&e.code),
                escape(&e.name),
                escape(p)
            ),
            None => format!("{} ({})", escape(&e.code), escape(&e.name)),
        };
        let _ = write!(h, "<tr><td>{name}</td>");
        for s in &e.segments {
            let range = s
                .availability_min_range
                .map(|(lo, hi)| format!("<br><small>{lo:.2}&ndash;{hi:.2}</small>"))
                .unwrap_or_default();
            let _ = write!(
                h,
                "<td class=n style=\"background:{}\">{:.3}{range}</td>",
                svg::scale_colour(s.availability_min),
                s.availability_min
            );
        }
        let worst = e
            .segments
            .iter()
            .filter(|s| !s.binding_constraint.is_empty())
            .min_by(|a, b| a.availability_min.total_cmp(&b.availability_min));
        let _ = write!(
            h,
            "<td class=n>{:.3}</td><td>{}</td></tr>",
            e.chips_min,
            worst.map_or_else(String::new, |s| escape(&chain_label(
                &s.binding_constraint,
                " \u{2190} "
            )))
        );
    }
    h.push_str("</table><p class=\"muted\">Lowest availability over the horizon, after each economy's chip inventory; members of a group have the group's availability. Small figures under a value: the range left open by providers listed without a share.</p>");

    // The segment hit hardest, per economy over time.
    let worst_seg = Segment::ALL
        .iter()
        .enumerate()
        .min_by(|a, b| {
            let m = |i: usize| {
                r.economies
                    .iter()
                    .map(|e| e.segments[i].availability_min)
                    .fold(1.0, f64::min)
            };
            m(a.0).total_cmp(&m(b.0))
        })
        .map(|(i, s)| (i, *s));
    if let Some((i, seg)) = worst_seg {
        let series: Vec<Series> = r
            .economies
            .iter()
            .filter(|e| e.part_of.is_none())
            .map(|e| Series {
                label: e.code.clone(),
                points: e.segments[i]
                    .series
                    .iter()
                    .map(|&(d, v)| (f64::from(d), v))
                    .collect(),
            })
            .collect();
        h.push_str(&svg::line_chart(
            &format!("{} availability per economy", seg.as_str()),
            &series,
            &LineOptions {
                y_label: "availability".into(),
                ..LineOptions::default()
            },
        ));
    }

    // World view.
    if !r.world_segments.is_empty() {
        h.push_str("<h3>Each segment worldwide</h3><table><tr><th>segment</th><th>capacity (wafers/month, 300 mm eq.)</th><th>lowest capacity</th><th>lowest output (with spare capacity)</th><th>wafers lost</th><th>share of a quarter lost</th></tr>");
        for w in &r.world_segments {
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=n>{:.0}</td><td class=n>{:.3}</td><td class=n>{:.3}</td><td class=n>{:.0}</td><td class=n>{:.2}%</td></tr>",
                w.segment,
                w.baseline_wspm_300eq,
                w.capacity_min,
                w.supply_min,
                w.wafers_lost_300eq,
                w.quarter_lost_share * 100.0
            );
        }
        h.push_str("</table>");
    }

    // Production hit.
    let hit: Vec<_> = r
        .production
        .iter()
        .filter(|p| p.capacity_min < 1.0 - 1e-6)
        .collect();
    if !hit.is_empty() {
        h.push_str("<h3>Production hit (most wafers lost first)</h3><table><tr><th>country</th><th>owner</th><th>segment</th><th>capacity (wafers/month, 300 mm eq.)</th><th>lowest</th><th>end</th><th>wafers lost</th><th>cause</th></tr>");
        for p in hit.iter().take(25) {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=n>{:.0}</td><td class=n>{:.3}</td><td class=n>{:.3}</td><td class=n>{:.0}</td><td>{}</td></tr>",
                escape(&p.country),
                escape(&p.owner),
                p.segment,
                p.baseline_wspm_300eq,
                p.capacity_min,
                p.capacity_end,
                p.wafers_lost_300eq,
                escape(&p.cause)
            );
        }
        h.push_str("</table>");
        if hit.len() > 25 {
            let _ = write!(
                h,
                "<p class=\"muted\">{} more in the JSON result.</p>",
                hit.len() - 25
            );
        }
    }

    // Controls in force.
    if let Some(b) = &r.baseline {
        let _ = write!(
            h,
            "<h3>Baseline: {}</h3>",
            escape(b.date.as_deref().unwrap_or("no date"))
        );
        if b.denials.is_empty() {
            h.push_str("<p>No flow is denied on the baseline date.</p>");
        } else {
            h.push_str("<table><tr><th>measure</th><th>from</th><th>to</th><th>items</th><th>part of the flows</th><th>since</th></tr>");
            for d in &b.denials {
                let _ = write!(
                    h,
                    "<tr><td title=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=n>{:.0}%</td><td>{}</td></tr>",
                    escape(&d.source),
                    escape(&d.measure),
                    escape(&d.from.join(", ")),
                    escape(&d.to.join(", ")),
                    escape(&d.items.join(", ")),
                    d.fraction * 100.0,
                    escape(&d.since)
                );
            }
            h.push_str("</table>");
        }
        for a in &b.already_denied {
            let _ = write!(h, "<p class=\"note\">{}</p>", escape(a));
        }
    }
    h
}
