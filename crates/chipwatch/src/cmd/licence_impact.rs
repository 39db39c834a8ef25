//! `chipwatch licence impact FILE`: a proposed or recorded decision on licences of a register
//! file, assessed by `chipwatch_controls::licence_impact` (value and parties no longer
//! authorised, scheduled shipments refused, supply effect by consumer through the scenario
//! engine, incidence across destinations).

use super::register::{load, partial_revocation, ImpactArgs};
use crate::output::{print_json, usd, Table};
use crate::Cli;
use anyhow::Result;
use chipwatch_controls::licence::{party_key, EventKind, LicenceEvent};
use chipwatch_controls::licence_impact::{decision_impact, DecisionImpact, Fx, Proposal};
use chipwatch_controls::{default_engine, Date};

fn fx(pairs: &[String]) -> Result<Fx> {
    let mut fx = Fx::default();
    for p in pairs {
        let (cur, rate) = p
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--usd-per: `{p}` is not CUR=RATE (e.g. EUR=1.09)"))?;
        let cur = cur.trim().to_ascii_uppercase();
        if cur.len() != 3 || !cur.chars().all(|c| c.is_ascii_alphabetic()) {
            anyhow::bail!("--usd-per: `{cur}` is not a three-letter currency code");
        }
        let rate: f64 = rate
            .trim()
            .parse()
            .ok()
            .filter(|r: &f64| r.is_finite() && *r > 0.0)
            .ok_or_else(|| anyhow::anyhow!("--usd-per: rate `{rate}` is not a positive number"))?;
        fx.usd_per.insert(cur.clone(), rate);
        fx.source
            .push_str(&format!("; {cur}: {rate} USD (--usd-per)"));
    }
    Ok(fx)
}

pub fn run(cli: &Cli, a: &ImpactArgs) -> Result<()> {
    let date = Date::parse(&a.date).map_err(|m| anyhow::anyhow!("--date: {m}"))?;
    let recs = load(&a.file)?;
    let until = a
        .until
        .as_deref()
        .map(|u| Date::parse(u).map_err(|m| anyhow::anyhow!("--until: {m}")))
        .transpose()?;
    let kind = if a.full {
        Some(EventKind::FullRevocation)
    } else if a.suspend {
        Some(EventKind::Suspension { until })
    } else if a.recorded {
        None
    } else if !a.ceilings.is_empty() {
        let mut quantities = std::collections::BTreeMap::new();
        for c in &a.ceilings {
            let (line, q) = c
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--ceiling: `{c}` is not LINE=QUANTITY"))?;
            let q: f64 = q
                .trim()
                .parse()
                .ok()
                .filter(|q: &f64| q.is_finite() && *q >= 0.0)
                .ok_or_else(|| {
                    anyhow::anyhow!("--ceiling: quantity `{q}` is not a non-negative number")
                })?;
            quantities.insert(line.trim().to_string(), q);
        }
        Some(EventKind::Amendment {
            valid_until: None,
            quantities,
            add_destinations: Vec::new(),
            add_consignees: Vec::new(),
        })
    } else {
        Some(partial_revocation(
            &a.items,
            &a.consignees,
            &a.end_users,
            &a.destinations,
            "give the decision: --full, --suspend, --items, --consignees, --end-users, \
             --destinations, --ceiling, or --recorded for events already in the register",
        )?)
    };
    let mut proposals = Vec::new();
    for number in &a.licence {
        let rec = recs
            .iter()
            .find(|r| party_key(&r.licence.number) == party_key(number))
            .ok_or_else(|| {
                anyhow::anyhow!("--licence: no licence `{number}` in {}", a.file.display())
            })?;
        let event = match &kind {
            Some(k) => LicenceEvent {
                date,
                kind: k.clone(),
                reason: "proposed decision (chipwatch licence impact)".to_string(),
                instrument: None,
            },
            None => rec
                .events
                .iter()
                .find(|e| e.date == date)
                .cloned()
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--recorded: licence {} has no event recorded on {date}",
                        rec.licence.number
                    )
                })?,
        };
        proposals.push(Proposal {
            licence: rec.licence.number.clone(),
            event,
        });
    }
    let e = default_engine()?;
    let vc = super::load_model(cli)?;
    let r = decision_impact(&recs, &proposals, e.catalogue(), &vc, &fx(&a.usd_per)?)?;
    if cli.json {
        return print_json(&r);
    }
    print(&r, a.recorded)
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "unknown".to_string(), |v| format!("{v:.digits$}"))
}

fn print(r: &DecisionImpact, recorded: bool) -> Result<()> {
    outln!(
        "Impact of a {} decision on {} licence(s)",
        if recorded { "recorded" } else { "proposed" },
        r.licences.len()
    );
    let mut t = Table::new([
        "licence",
        "holder",
        "event",
        "value no longer authorised",
        "USD",
        "destinations",
    ]);
    for l in &r.licences {
        t.row([
            l.impact.licence.clone(),
            l.holder.clone(),
            format!("{} {}", l.impact.event, l.impact.date),
            format!(
                "{} {}",
                opt(l.value, 1),
                l.currency.as_deref().unwrap_or("(no currency)")
            ),
            l.value_usd.map_or("unknown".into(), |v| usd(Some(v))),
            l.destinations
                .iter()
                .map(|(d, s)| format!("{d} {:.0}%", s * 100.0))
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    t.print()?;
    for l in &r.licences {
        for i in l.impact.items.iter() {
            outln!(
                "  {} line {} {}: {} no longer authorised",
                l.impact.licence,
                i.id,
                i.description,
                i.quantity
                    .map_or("everything left".to_string(), |q| format!("{q} units"))
            );
        }
        for why in &l.unknown_because {
            outln!("  {}: {why}", l.impact.licence);
        }
    }
    for (what, v) in [("consignees", &r.consignees), ("end users", &r.end_users)] {
        if !v.is_empty() {
            outln!("{what} no longer authorised: {}", v.join(", "));
        }
    }
    if !r.scheduled_shipments.is_empty() {
        outln!("\nScheduled shipments refused by the decision:");
        for s in &r.scheduled_shipments {
            outln!(
                "  {} {} on {}: line {} x{} to {} ({}): {}",
                s.licence,
                s.reference,
                s.date,
                s.item,
                s.quantity,
                s.consignee,
                s.destination,
                s.refusal
            );
        }
    }
    outln!(
        "\nValue no longer authorised: {}{}",
        usd(Some(r.value_usd_known)),
        if r.value_unknown_licences.is_empty() {
            String::new()
        } else {
            format!(
                " known, plus unknown value on {}",
                r.value_unknown_licences.join(", ")
            )
        }
    );
    for d in &r.value_by_destination {
        outln!(
            "  {}: {} ({:.1}%)",
            d.country,
            usd(Some(d.blocked_value_usd)),
            d.share_pct
        );
    }
    outln!("Incidence across destinations: {}", r.incidence.reading);
    if !r.flows.is_empty() {
        outln!("\nFlows cut (model item, exporter -> destination):");
        let mut t = Table::new([
            "item",
            "flow",
            "cut USD",
            "yearly flow USD",
            "share cut",
            "basis",
        ]);
        for f in &r.flows {
            t.row([
                format!("{} {}", f.item_id, f.item_name),
                format!("{} -> {}", f.exporter, f.destination),
                f.lost_usd.map_or("unknown".into(), |v| usd(Some(v))),
                f.flow_usd.map_or("unknown".into(), |v| usd(Some(v))),
                f.fraction
                    .map_or("unknown".into(), |v| format!("{:.1}%", v * 100.0)),
                f.basis.clone(),
            ]);
        }
        t.print()?;
    }
    outln!("\nSupply effect by consumer (finished-chip availability, minimum over a year):");
    if r.affected_consumers.is_empty() {
        outln!("  no consumer is affected in the model");
    } else {
        let mut t = Table::new([
            "consumer",
            "destination",
            "baseline",
            "estimate",
            "whole flow blocked",
            "binding constraint",
        ]);
        for c in &r.affected_consumers {
            t.row([
                if c.name == c.country {
                    c.country.clone()
                } else {
                    format!("{} {}", c.country, c.name)
                },
                if c.destination { "yes" } else { "no" }.to_string(),
                format!("{:.3}", c.final_output_baseline),
                opt(c.final_output_estimate, 3),
                format!("{:.3}", c.final_output_upper_bound),
                c.binding_constraint.join(", "),
            ]);
        }
        t.print()?;
    }
    if !r.unaffected_consumers.is_empty() {
        outln!("Not affected: {}", r.unaffected_consumers.join(", "));
    }
    outln!("\nAssumptions:");
    for a in &r.assumptions {
        outln!("  - {a}");
    }
    for n in &r.notes {
        outln!("Note: {n}");
    }
    Ok(())
}
