//! The supply effect of a proposed licensing decision on the licence page: value no longer
//! authorised in USD by destination and its incidence, scheduled shipments refused, the flows
//! cut, and each consumer's finished-chip availability (estimate and whole-flow upper bound),
//! with the assumptions and notes. Unknown values read "unknown", never 0.

use chipwatch_controls::licence_impact::DecisionImpact;
use chipwatch_report::svg::escape;
use std::fmt::Write;

fn usd(v: f64) -> String {
    if v >= 1e9 {
        format!("${:.1}B", v / 1e9)
    } else if v >= 1e6 {
        format!("${:.1}M", v / 1e6)
    } else {
        format!("${v:.0}")
    }
}

fn opt_usd(v: Option<f64>) -> String {
    v.map_or_else(|| "unknown".to_string(), usd)
}

fn opt3(v: Option<f64>) -> String {
    v.map_or_else(|| "unknown".to_string(), |v| format!("{v:.3}"))
}

/// The section shown under the proposed event's impact.
pub fn decision_html(d: &DecisionImpact) -> String {
    let mut b = String::from(
        r#"<section class="panel" id="supply" aria-labelledby="supply-h"><h2 id="supply-h">Supply effect of the proposed decision</h2>"#,
    );
    let _ = write!(
        b,
        "<p>Value no longer authorised: <b>{}</b>{}.</p>",
        usd(d.value_usd_known),
        if d.value_unknown_licences.is_empty() {
            String::new()
        } else {
            format!(
                " known; unknown on {} (the figures below are lower bounds)",
                escape(&d.value_unknown_licences.join(", "))
            )
        }
    );
    for l in &d.licences {
        for why in &l.unknown_because {
            let _ = write!(b, r#"<p class="hint">{}</p>"#, escape(why));
        }
    }
    if !d.value_by_destination.is_empty() {
        b.push_str(r#"<table><caption>Value by destination</caption><thead><tr><th scope="col">Destination</th><th scope="col" class="n">USD</th><th scope="col" class="n">Share</th></tr></thead><tbody>"#);
        for v in &d.value_by_destination {
            let _ = write!(
                b,
                r#"<tr><th scope="row">{}</th><td class="n">{}</td><td class="n">{:.1}%</td></tr>"#,
                escape(&v.country),
                usd(v.blocked_value_usd),
                v.share_pct
            );
        }
        b.push_str("</tbody></table>");
    }
    let _ = write!(
        b,
        r#"<p><b>Incidence:</b> {}</p>"#,
        escape(&d.incidence.reading)
    );
    if !d.scheduled_shipments.is_empty() {
        b.push_str(r#"<table><caption>Scheduled shipments the decision refuses</caption><thead><tr><th scope="col">Reference</th><th scope="col">Date</th><th scope="col">Line</th><th scope="col" class="n">Quantity</th><th scope="col">Consignee</th><th scope="col">Why</th></tr></thead><tbody>"#);
        for s in &d.scheduled_shipments {
            let _ = write!(
                b,
                r#"<tr><th scope="row">{}</th><td>{}</td><td>{}</td><td class="n">{}</td><td>{}</td><td>{}</td></tr>"#,
                escape(&s.reference),
                s.date,
                escape(&s.item),
                s.quantity,
                escape(&s.consignee),
                escape(&s.refusal)
            );
        }
        b.push_str("</tbody></table>");
    }
    if !d.flows.is_empty() {
        b.push_str(r#"<table><caption>Flows cut (model item, exporter to destination)</caption><thead><tr><th scope="col">Item</th><th scope="col">Flow</th><th scope="col" class="n">Cut</th><th scope="col" class="n">Yearly flow</th><th scope="col" class="n">Share cut</th><th scope="col">Basis</th></tr></thead><tbody>"#);
        for f in &d.flows {
            let _ = write!(
                b,
                r#"<tr><th scope="row">{} {}</th><td>{} → {}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td>{}</td></tr>"#,
                escape(&f.item_id),
                escape(&f.item_name),
                escape(&f.exporter),
                escape(&f.destination),
                opt_usd(f.lost_usd),
                opt_usd(f.flow_usd),
                f.fraction
                    .map_or("unknown".into(), |x| format!("{:.1}%", x * 100.0)),
                escape(&f.basis)
            );
        }
        b.push_str("</tbody></table>");
    }
    if d.affected_consumers.is_empty() {
        b.push_str("<p>No consumer economy is affected in the model.</p>");
    } else {
        b.push_str(r#"<table><caption>Finished-chip availability by consumer (minimum over a year)</caption><thead><tr><th scope="col">Consumer</th><th scope="col">Destination</th><th scope="col" class="n">Baseline</th><th scope="col" class="n">Estimate</th><th scope="col" class="n">Whole flow blocked</th><th scope="col">Binding constraint</th></tr></thead><tbody>"#);
        for c in &d.affected_consumers {
            let _ = write!(
                b,
                r#"<tr><th scope="row">{}</th><td>{}</td><td class="n">{:.3}</td><td class="n">{}</td><td class="n">{:.3}</td><td>{}</td></tr>"#,
                if c.name == c.country {
                    escape(&c.country)
                } else {
                    format!("{} {}", escape(&c.country), escape(&c.name))
                },
                if c.destination { "yes" } else { "no" },
                c.final_output_baseline,
                opt3(c.final_output_estimate),
                c.final_output_upper_bound,
                escape(&c.binding_constraint.join(", "))
            );
        }
        b.push_str("</tbody></table>");
    }
    if !d.unaffected_consumers.is_empty() {
        let _ = write!(
            b,
            "<p>Not affected: {}.</p>",
            escape(&d.unaffected_consumers.join(", "))
        );
    }
    b.push_str("<details><summary>Assumptions and notes</summary><ul>");
    for a in d.assumptions.iter().chain(&d.notes) {
        let _ = write!(b, "<li>{}</li>", escape(a));
    }
    b.push_str("</ul></details></section>");
    b
}
