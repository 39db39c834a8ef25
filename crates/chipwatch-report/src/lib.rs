//! Self-contained HTML reports (one file, inline CSS and SVG, no scripts, no external links):
//! readable without the CLI, printable, safe to mail. No IO: every function returns a `String`.
//! The chart functions in [`svg`] are general and shared with the web dashboard.

pub mod flow;
mod segments;
pub mod svg;

pub use segments::segments_html;

use chipwatch_analysis::scenario::ScenarioResult;
use std::fmt::Write;
use svg::{escape, ChainNode, LineOptions, Series};

const STYLE: &str = "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#666;font-size:0.9em}\
svg{max-width:100%;height:auto;display:block;margin:0.5em 0}";

/// Items shown in the heatmap: those short for some consumer, lowest first, at most this many.
const HEATMAP_ITEMS: usize = 40;

/// Finished-chip availability over time, one series per given consumer plus the weighted world
/// series last: the chart both this report and the dashboard's scenario page draw.
pub fn final_output_series<'a>(
    r: &ScenarioResult,
    consumers: impl IntoIterator<Item = &'a chipwatch_analysis::scenario::ConsumerResult>,
) -> Vec<Series> {
    let points = |s: &[(u32, f64)]| s.iter().map(|&(d, v)| (f64::from(d), v)).collect();
    let mut series: Vec<Series> = consumers
        .into_iter()
        .map(|c| Series {
            label: c.country.clone(),
            points: points(&c.final_output.series),
        })
        .collect();
    series.push(Series {
        label: "world".into(),
        points: points(&r.world.series),
    });
    series
}

/// A binding chain as text for tables: long chains (generated models) keep their ends, as in
/// `FINAL <- A <- B <- C <- ... (1049 more) ... <- X <- Y <- Z`.
pub fn chain_label(chain: &[String], arrow: &str) -> String {
    if chain.len() <= 10 {
        chain.join(arrow)
    } else {
        format!(
            "{}{arrow}... ({} more) ...{arrow}{}",
            chain[..4].join(arrow),
            chain.len() - 7,
            chain[chain.len() - 3..].join(arrow)
        )
    }
}

/// The binding-constraint chain of one consumer as an SVG diagram: from the finished chip down to
/// the input that limits it, each node coloured by its minimum availability over the horizon;
/// the caption names the providers that limit it. Drawn by this report and the dashboard.
/// Chains on generated models run through a thousand items: the diagram keeps the first
/// `CHAIN_HEAD` and the last `CHAIN_TAIL` nodes around one "more" box.
pub fn binding_chain(c: &chipwatch_analysis::scenario::ConsumerResult) -> String {
    const CHAIN_HEAD: usize = 10;
    const CHAIN_TAIL: usize = 4;
    let f = &c.final_output;
    let chain = &f.binding_constraint;
    let shown: Vec<Option<&String>> = if chain.len() <= CHAIN_HEAD + CHAIN_TAIL + 1 {
        chain.iter().map(Some).collect()
    } else {
        let head = chain[..CHAIN_HEAD].iter().map(Some);
        let tail = chain[chain.len() - CHAIN_TAIL..].iter().map(Some);
        head.chain(std::iter::once(None)).chain(tail).collect()
    };
    let wanted: std::collections::HashSet<&str> =
        shown.iter().flatten().map(|s| s.as_str()).collect();
    let items: std::collections::HashMap<&str, &chipwatch_analysis::scenario::ItemResult> = c
        .items
        .iter()
        .filter(|i| wanted.contains(&*i.item_id))
        .map(|i| (&*i.item_id, i))
        .collect();
    let nodes: Vec<ChainNode> = shown
        .iter()
        .map(|id| match id {
            Some(id) => {
                let it = items.get(id.as_str());
                ChainNode {
                    label: (*id).clone(),
                    sublabel: it.map(|i| i.name.to_string()).unwrap_or_default(),
                    value: it.map(|i| i.availability_min),
                }
            }
            None => ChainNode {
                label: "\u{2026}".into(),
                sublabel: format!("{} more items", chain.len() - CHAIN_HEAD - CHAIN_TAIL),
                value: None,
            },
        })
        .collect();
    let limit = if f.binding_providers.is_empty() {
        "nothing binds".to_string()
    } else {
        format!("limited by {}", f.binding_providers.join(", "))
    };
    // A country the model names by its code alone is not repeated ("CHN", not "CHN (CHN)").
    let who = if c.name.is_empty() || c.name == c.country {
        c.country.clone()
    } else {
        format!("{} ({})", c.country, c.name)
    };
    svg::chain_diagram(&format!("{who}: {limit}"), &nodes)
}

/// Rows of the "items short" table in a scenario report (lowest availability first).
const MAX_ITEM_ROWS: usize = 1_000;

/// The HTML report of a scenario run: assumptions, availability heatmap (countries x items),
/// final-output time series per country, binding-constraint chains, item table, provenance.
pub fn scenario_report(r: &ScenarioResult) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body><h1>{t}</h1>",
        t = escape(&r.scenario)
    );
    let _ = write!(
        h,
        "<p class=\"muted\">chipwatch scenario report. Model: {} &middot; {} &middot; vintage {}. Horizon {} days; series every {} days. {}.</p>",
        escape(&r.provenance.model),
        escape(&r.provenance.dataset),
        escape(&r.provenance.vintage),
        r.horizon_days,
        r.step_days,
        escape(&r.provenance.share_view)
    );

    // Where chips are made against where they are used (the segment layer), first: it is the
    // answer to "who loses what".
    h.push_str(&segments_html(r));

    // Summary.
    h.push_str("<h2>Item-level view: finished chips from each country's own fabs</h2><table><tr><th>country</th><th>weight</th><th>minimum</th><th>worst day</th><th>end</th><th>time to survive (days)</th><th>shortfall (days)</th><th>binding constraint</th><th>providers</th></tr>");
    for c in &r.consumers {
        let f = &c.final_output;
        let _ = write!(
            h,
            "<tr><td>{} ({})</td><td class=n>{:.1}</td><td class=n>{:.3}</td><td class=n>{}</td><td class=n>{:.3}</td><td class=n>{}</td><td class=n>{:.1}</td><td>{}</td><td>{}</td></tr>",
            escape(&c.country),
            escape(&c.name),
            c.weight,
            f.availability_min,
            f.worst_day,
            f.availability_end,
            f.tts_days.map_or_else(|| "&ge; horizon".to_string(), |d| format!("{d:.0}")),
            f.shortfall_days,
            escape(&chain_label(&f.binding_constraint, " \u{2190} ")),
            escape(&f.binding_providers.join(", "))
        );
    }
    let _ = write!(
        h,
        "<tr><td><b>world</b> (weighted)</td><td></td><td class=n>{:.3}</td><td></td><td class=n>{:.3}</td><td></td><td class=n>{:.1}</td><td colspan=2></td></tr></table>",
        r.world.availability_min, r.world.availability_end, r.world.shortfall_days
    );

    // Time series of the final output.
    let series = final_output_series(r, r.consumers.iter());
    h.push_str("<h2>Finished-chip availability over time</h2>");
    h.push_str(&svg::line_chart(
        &format!("{} availability per consumer", r.world.item_id),
        &series,
        &LineOptions::default(),
    ));

    // Heatmap of the items short somewhere.
    let mut short: Vec<(f64, usize)> = Vec::new();
    if let Some(first) = r.consumers.first() {
        for (k, it) in first.items.iter().enumerate() {
            let m = r
                .consumers
                .iter()
                .map(|c| c.items[k].availability_min)
                .fold(f64::INFINITY, f64::min);
            if m < 1.0 - 1e-6 {
                short.push((m, k));
            }
            let _ = it;
        }
    }
    short.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    short.truncate(HEATMAP_ITEMS);
    h.push_str("<h2>Worst availability: consumers &times; items</h2>");
    if short.is_empty() {
        h.push_str("<p>No item falls short for any consumer.</p>");
    } else {
        let first = &r.consumers[0];
        let cols: Vec<String> = short
            .iter()
            .map(|&(_, k)| format!("{} {}", first.items[k].item_id, first.items[k].name))
            .collect();
        let rows: Vec<String> = r.consumers.iter().map(|c| c.country.clone()).collect();
        let values: Vec<Vec<Option<f64>>> = r
            .consumers
            .iter()
            .map(|c| {
                short
                    .iter()
                    .map(|&(_, k)| Some(c.items[k].availability_min))
                    .collect()
            })
            .collect();
        h.push_str(&svg::heatmap(
            "Minimum availability over the horizon",
            &rows,
            &cols,
            &values,
        ));
    }

    // Binding constraint chains.
    h.push_str("<h2>Binding constraints</h2><p class=\"muted\">From the finished chip down to the input that limits it, on the day production is lowest; colour = availability that day's minimum over the horizon.</p>");
    for c in &r.consumers {
        h.push_str(&binding_chain(c));
    }

    // Shocks and assumptions.
    h.push_str("<h2>Shocks</h2><table><tr><th>#</th><th>kind</th><th>providers</th><th>consumers</th><th>items</th><th>from day</th><th>until day</th></tr>");
    for s in &r.shocks {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            s.index,
            escape(&s.kind),
            escape(&s.providers.join(", ")),
            escape(&s.consumers.join(", ")),
            escape(&s.items.join(", ")),
            s.start_day,
            s.end_day.map_or_else(|| "horizon".to_string(), |d| d.to_string())
        );
    }
    h.push_str("</table>");
    let a = &r.assumptions;
    h.push_str("<h2>Assumptions</h2><table>");
    for (k, v) in [
        (
            "headroom (spare capacity of providers not hit)",
            format!("{}", a.headroom),
        ),
        (
            "inventory of materials (days)",
            format!("{}", a.inventory_days.material),
        ),
        (
            "inventory of tools (days)",
            format!("{}", a.inventory_days.tool),
        ),
        (
            "finished-chip inventory of consumers (days)",
            format!("{}", a.chip_inventory_days),
        ),
        (
            "tool lag (days to full effect)",
            a.tool_lag_days.to_string(),
        ),
        ("taxonomy rule", a.taxonomy.label().to_string()),
        ("share basis", a.share_basis.to_string()),
        ("consumers", r.provenance.consumers_from.clone()),
    ] {
        let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(&v));
    }
    for o in &a.share_override {
        let _ = write!(
            h,
            "<tr><th>share override</th><td>{} from {}: {}% ({})</td></tr>",
            escape(&o.item),
            escape(&o.provider),
            o.share,
            escape(o.source.as_deref().unwrap_or("scenario file"))
        );
    }
    h.push_str("</table>");

    // Item table.
    h.push_str("<h2>Items short for some consumer</h2><table><tr><th>country</th><th>item</th><th>kind</th><th>minimum</th><th>worst day</th><th>end</th><th>time to survive</th><th>shortfall (days)</th></tr>");
    let mut rows = Vec::new();
    for c in &r.consumers {
        for i in c.items.iter() {
            if i.availability_min < 1.0 - 1e-6 {
                rows.push((c, i));
            }
        }
    }
    rows.sort_by(|a, b| a.1.availability_min.total_cmp(&b.1.availability_min));
    // A generated model can have hundreds of thousands of short (consumer, item) pairs: the
    // report stays readable with the lowest ones, and says where the rest are.
    let more = rows.len().saturating_sub(MAX_ITEM_ROWS);
    rows.truncate(MAX_ITEM_ROWS);
    for (c, i) in rows {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{} {}</td><td>{}</td><td class=n>{:.3}</td><td class=n>{}</td><td class=n>{:.3}</td><td class=n>{}</td><td class=n>{:.1}</td></tr>",
            escape(&c.country),
            escape(&i.item_id),
            escape(&i.name),
            i.kind,
            i.availability_min,
            i.worst_day,
            i.availability_end,
            i.tts_days.map_or_else(|| "-".to_string(), |d| format!("{d:.0}")),
            i.shortfall_days
        );
    }
    h.push_str("</table>");
    if more > 0 {
        let _ = write!(
            h,
            "<p class=\"muted\">{more} more rows with a higher minimum are left out: \\
             <code>chipwatch scenario run --json</code> gives every item.</p>"
        );
    }
    if !r.notes.is_empty() {
        h.push_str("<h2>Notes</h2><ul>");
        for n in &r.notes {
            let _ = write!(h, "<li>{}</li>", escape(n));
        }
        h.push_str("</ul>");
    }
    let _ = write!(
        h,
        "<p class=\"muted\">Generated by {}. Semantics: docs/scenarios.md (AND/OR availability model).</p></body></html>",
        escape(&r.provenance.engine)
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use chipwatch_analysis::scenario::{run, Scenario, Shock};

    #[test]
    fn report_is_self_contained_and_complete() {
        let vc = chipwatch_data::default_model();
        let mut s = Scenario::new("Block <test> & \"quote\"");
        s.shocks.push(Shock::ExportBlock {
            from: vec!["NLD".into()],
            to: vec!["*".into()],
            items: vec!["N19".into()],
            start_day: 0,
            duration_days: None,
            fraction: None,
        });
        let r = run(&vc, &s).unwrap();
        let html = scenario_report(&r);
        assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>"));
        assert!(html.contains("Block &lt;test&gt; &amp; &quot;quote&quot;"));
        // Heatmap, time series and one chain per consumer.
        assert!(html.contains("Minimum availability over the horizon"));
        assert!(html.contains("<polyline"));
        assert_eq!(
            html.matches("marker id=\"arrow\"").count(),
            r.consumers.len()
        );
        // Nothing external: no scripts, no remote resources.
        assert!(!html.contains("<script"));
        assert!(!html.contains("src=\"http"));
        assert!(!html.contains("href=\"http"));
        // The model names countries by their code: the chain titles do not repeat it.
        let chn = r.consumers.iter().find(|c| c.country == "CHN").unwrap();
        let t = binding_chain(chn);
        assert!(t.contains(">CHN: ") && !t.contains("CHN (CHN)"), "{t}");
    }

    #[test]
    fn item_table_keeps_the_lowest_rows_of_a_large_result() {
        let vc = chipwatch_data::default_model();
        let mut r = run(&vc, &Scenario::new("large")).unwrap();
        // Pretend a generated model: 1,500 items, short for the first consumer only.
        let template = r.consumers[0].items[0].clone();
        for (c, con) in r.consumers.iter_mut().enumerate() {
            con.items = (0..1_500)
                .map(|k| {
                    let mut i = template.clone();
                    i.item_id = format!("G{k}").into();
                    i.availability_min = if c == 0 {
                        0.5 + f64::from(k) / 10_000.0
                    } else {
                        1.0
                    };
                    i
                })
                .collect();
        }
        let html = scenario_report(&r);
        assert!(html.contains("<td>G0 ") && html.contains("<td>G999 "));
        assert!(
            !html.contains("<td>G1000 "),
            "rows past the cap are left out"
        );
        assert!(html.contains("500 more rows with a higher minimum are left out"));
    }

    #[test]
    fn long_binding_chains_keep_their_ends() {
        let chain: Vec<String> = (0..50).map(|k| format!("I{k}")).collect();
        assert_eq!(
            chain_label(&chain, " <- "),
            "I0 <- I1 <- I2 <- I3 <- ... (43 more) ... <- I47 <- I48 <- I49"
        );
        assert_eq!(chain_label(&chain[..3], " <- "), "I0 <- I1 <- I2");
        let vc = chipwatch_data::default_model();
        let mut r = run(&vc, &Scenario::new("chain")).unwrap();
        let c = &mut r.consumers[0];
        c.final_output.binding_constraint = chain;
        let svg = binding_chain(c);
        assert_eq!(svg.matches("<rect").count(), 15, "10 first, 1 gap, 4 last");
        assert!(svg.contains(">I9<") && svg.contains(">I46<") && !svg.contains(">I10<"));
        assert!(svg.contains("36 more items"));
    }
}
