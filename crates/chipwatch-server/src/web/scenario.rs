//! Scenario builder: pick shocks (export block, capacity loss, demand surge) from the model's
//! countries, providers and items, run them with `chipwatch_analysis::scenario::run`, and show
//! finished-chip availability per consumer over time, the binding-constraint chains and
//! time-to-survive. The whole scenario lives in the query string (`s0_kind=export_block&
//! s0_from=NLD&...`), so a URL is a shareable scenario; signed-in analysts can also save it for
//! their organisation (the same store table as `POST /api/v1/scenarios`), and open saved ones.
//! `/scenario/report?...` returns the self-contained HTML report of `chipwatch-report`.

use super::{item_link, options, page_response, query_string, session, Nav, Params};
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::header::{CONTENT_TYPE, HOST, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chipwatch_analysis::scenario::{AllocationRule, Scenario, ScenarioResult, Shock};
use chipwatch_model::production::{ProductionData, Segment};
use chipwatch_model::{ProviderType, ValueChain};
use chipwatch_report::svg::{escape, heatmap, line_chart, LineOptions};
use chipwatch_store::partner::{Principal, Role};
use std::fmt::Write;

/// Shock rows shown in an empty form.
const DEFAULT_ROWS: usize = 2;
/// Upper bound of shock rows read from a query string (bounds the work of one request).
pub const MAX_ROWS: usize = 12;
/// Consumers drawn in the time series and chain diagrams (worst first).
const SHOWN_CONSUMERS: usize = 8;

fn num<T: std::str::FromStr>(p: &Params, name: &str) -> Result<Option<T>, String> {
    match p.get(name) {
        None => Ok(None),
        Some(v) => v
            .parse::<T>()
            .map(Some)
            .map_err(|_| format!("{name}: `{v}` is not a valid number")),
    }
}

/// Build a scenario from form parameters. Errors name the field.
pub fn from_params(p: &Params) -> Result<Scenario, String> {
    let mut sc = Scenario::new(p.get("name").unwrap_or("Dashboard scenario"));
    if let Some(h) = num::<u32>(p, "horizon")? {
        sc.horizon_days = h;
    }
    if let Some(h) = num::<u32>(p, "step")? {
        sc.step_days = h;
    }
    if let Some(v) = num::<f64>(p, "headroom")? {
        sc.assumptions.headroom = v;
    }
    if let Some(v) = num::<f64>(p, "inv_material")? {
        sc.assumptions.inventory_days.material = v;
    }
    if let Some(v) = num::<f64>(p, "inv_chip")? {
        sc.assumptions.chip_inventory_days = v;
    }
    if let Some(d) = p.get("baseline").map(str::trim).filter(|d| !d.is_empty()) {
        sc.baseline_date = Some(d.to_string());
    }
    match p.get("alloc").unwrap_or("pro_rata") {
        "pro_rata" => {}
        "home_first" => sc.allocation.rule = AllocationRule::HomeFirst,
        "allies_first" => sc.allocation.rule = AllocationRule::AlliesFirst,
        other => return Err(format!("allocation: unknown rule `{other}`")),
    }
    // Groups as `name: USA JPN KOR TWN; other: ...`.
    for part in p.get("groups").unwrap_or("").split(';') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (name, members) = part
            .split_once(':')
            .ok_or_else(|| format!("allocation groups: `{part}` is not `name: CODE CODE ...`"))?;
        let members: Vec<String> = members
            .split([' ', ','])
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_uppercase)
            .collect();
        sc.allocation
            .groups
            .insert(name.trim().to_string(), members);
    }
    for k in 0..MAX_ROWS {
        let f = |n: &str| format!("s{k}_{n}");
        let Some(kind) = p.get(&f("kind")) else {
            continue;
        };
        let items = p.all(&f("items"));
        let start = num::<u32>(p, &f("start"))?.unwrap_or(0);
        let duration = num::<u32>(p, &f("duration"))?;
        let need = |v: &[String], what: &str| {
            if v.is_empty() {
                Err(format!("shock {}: choose at least one {what}", k + 1))
            } else {
                Ok(())
            }
        };
        match kind {
            "export_block" => {
                let from = p.all(&f("from"));
                let mut to = p.all(&f("to"));
                need(&from, "provider")?;
                need(&items, "item")?;
                if to.is_empty() {
                    to.push("*".into());
                }
                sc.shocks.push(Shock::ExportBlock {
                    from,
                    to,
                    items,
                    start_day: start,
                    duration_days: duration,
                    fraction: None,
                });
            }
            "capacity_loss" => {
                let from = p.all(&f("from"));
                need(&from, "provider")?;
                need(&items, "item")?;
                let fraction = num::<f64>(p, &f("fraction"))?.unwrap_or(1.0);
                let recovery = num::<u32>(p, &f("recovery"))?.unwrap_or(0);
                for provider in from {
                    sc.shocks.push(Shock::CapacityLoss {
                        provider,
                        items: items.clone(),
                        fraction,
                        start_day: start,
                        duration_days: duration,
                        recovery_days: recovery,
                    });
                }
            }
            "demand_surge" => {
                let to = p.all(&f("to"));
                need(&to, "consumer")?;
                need(&items, "item")?;
                let factor = num::<f64>(p, &f("factor"))?.unwrap_or(1.5);
                for consumer in to {
                    sc.shocks.push(Shock::DemandSurge {
                        consumer,
                        items: items.clone(),
                        factor,
                        start_day: start,
                    });
                }
            }
            "none" => {}
            other => return Err(format!("shock {}: unknown kind `{other}`", k + 1)),
        }
    }
    Ok(sc)
}

/// The form parameters of a scenario (inverse of [`from_params`], one row per shock).
pub fn to_params(sc: &Scenario) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = vec![
        ("name".into(), sc.name.clone()),
        ("horizon".into(), sc.horizon_days.to_string()),
        ("step".into(), sc.step_days.to_string()),
        ("headroom".into(), sc.assumptions.headroom.to_string()),
        (
            "inv_material".into(),
            sc.assumptions.inventory_days.material.to_string(),
        ),
        (
            "inv_chip".into(),
            sc.assumptions.chip_inventory_days.to_string(),
        ),
        ("alloc".into(), sc.allocation.rule.as_str().to_string()),
    ];
    if let Some(d) = &sc.baseline_date {
        v.push(("baseline".into(), d.clone()));
    }
    if !sc.allocation.groups.is_empty() {
        let g: Vec<String> = sc
            .allocation
            .groups
            .iter()
            .map(|(n, m)| format!("{n}: {}", m.join(" ")))
            .collect();
        v.push(("groups".into(), g.join("; ")));
    }
    for (k, s) in sc.shocks.iter().enumerate() {
        let f = |n: &str| format!("s{k}_{n}");
        v.push((f("kind"), s.kind().to_string()));
        let mut push_all = |name: &str, xs: &[String]| {
            for x in xs {
                v.push((f(name), x.clone()));
            }
        };
        match s {
            Shock::ExportBlock {
                from,
                to,
                items,
                start_day,
                duration_days,
                ..
            } => {
                push_all("from", from);
                push_all("to", to);
                push_all("items", items);
                v.push((f("start"), start_day.to_string()));
                if let Some(d) = duration_days {
                    v.push((f("duration"), d.to_string()));
                }
            }
            Shock::CapacityLoss {
                provider,
                items,
                fraction,
                start_day,
                duration_days,
                recovery_days,
            } => {
                push_all("from", std::slice::from_ref(provider));
                push_all("items", items);
                v.push((f("fraction"), fraction.to_string()));
                v.push((f("start"), start_day.to_string()));
                if let Some(d) = duration_days {
                    v.push((f("duration"), d.to_string()));
                }
                v.push((f("recovery"), recovery_days.to_string()));
            }
            Shock::DemandSurge {
                consumer,
                items,
                factor,
                start_day,
            } => {
                push_all("to", std::slice::from_ref(consumer));
                push_all("items", items);
                v.push((f("factor"), factor.to_string()));
                v.push((f("start"), start_day.to_string()));
            }
        }
    }
    v
}

/// `(value, label)` pairs of a select.
type Opts = Vec<(String, String)>;

/// The choices of the shock rows, from the model.
struct Choices {
    countries: Opts,
    firms: Opts,
    consumers: Opts,
    items: Opts,
}

fn choices(vc: &ValueChain, prod: Option<&ProductionData>) -> Choices {
    let mut countries: Opts = vc
        .providers()
        .filter(|(_, p)| p.provider_type == ProviderType::Country)
        .filter_map(|(_, p)| {
            p.country
                .clone()
                .map(|c| (c.clone(), super::country_label(&c, &p.name)))
        })
        .collect();
    countries.sort_by(|a, b| a.1.cmp(&b.1));
    let mut firms: Opts = vc
        .providers()
        .filter(|(_, p)| p.provider_type == ProviderType::Organisation)
        .map(|(_, p)| {
            (
                p.id.clone(),
                format!(
                    "{}{}",
                    p.name,
                    p.country
                        .as_deref()
                        .map(|c| format!(" ({c})"))
                        .unwrap_or_default()
                ),
            )
        })
        .collect();
    firms.sort_by_key(|f| f.1.to_lowercase());
    // Fab owners the segment layer knows (a capacity loss on TSMC lands on its fabs).
    if let Some(p) = prod {
        let mut owners: Vec<&str> = p.fabs.iter().map(|f| f.owner.as_str()).collect();
        owners.sort_unstable();
        owners.dedup();
        for o in owners {
            if !firms.iter().any(|f| f.1.starts_with(o)) {
                firms.push((o.to_string(), format!("{o} (fab owner)")));
            }
        }
        firms.sort_by_key(|f| f.1.to_lowercase());
    }
    let mut consumers = vec![("*".to_string(), "* every consumer".to_string())];
    if let Some(p) = prod {
        // Economies the model has no country for (EU27, ROW, SGP, ...).
        for e in p
            .economies
            .iter()
            .filter(|e| !countries.iter().any(|c| c.0 == e.code))
        {
            consumers.push((e.code.clone(), format!("{} ({})", e.name, e.code)));
        }
    }
    consumers.extend(countries.iter().cloned());
    let mut items = vec![("*".to_string(), "* every item".to_string())];
    if prod.is_some() {
        for sg in Segment::ALL {
            items.push((sg.as_str().to_string(), format!("segment: {}", sg.label())));
        }
    }
    for st in &vc.model().stages {
        items.push((st.id.clone(), format!("{} stage: {}", st.id, st.name)));
    }
    items.extend(vc.items().map(|(_, it)| {
        (
            it.id.clone(),
            format!(
                "{} {} ({})",
                it.id,
                it.name,
                it.kind.as_str().replace('_', " ")
            ),
        )
    }));
    Choices {
        countries,
        firms,
        consumers,
        items,
    }
}

fn form(vc: &ValueChain, prod: Option<&ProductionData>, p: &Params, rows: usize) -> String {
    let ch = choices(vc, prod);
    let mut b = String::new();
    let val = |n: &str, d: &str| escape(p.get(n).unwrap_or(d));
    let _ = write!(
        b,
        r#"<form class="panel" method="get" action="/scenario"><input type="hidden" name="run" value="1">
<div class="fields"><div><label for="name">Scenario name</label><input type="text" id="name" name="name" size="36" value="{}"></div>
<div><label for="horizon">Horizon (days)</label><input type="number" id="horizon" name="horizon" min="1" max="3650" value="{}"></div>
<div><label for="step">Series step (days)</label><input type="number" id="step" name="step" min="1" max="365" value="{}"></div>
<div><label for="headroom">Spare capacity <span class="hint">(0.10 = 10%)</span></label><input type="number" id="headroom" name="headroom" step="0.01" min="0" max="1" value="{}"></div>
<div><label for="inv_material">Material inventory (days)</label><input type="number" id="inv_material" name="inv_material" step="1" min="0" value="{}"></div>
<div><label for="inv_chip">Chip inventory (days)</label><input type="number" id="inv_chip" name="inv_chip" step="1" min="0" value="{}"></div>
<div><label for="baseline">Baseline date <span class="hint">(controls in force; blank: today)</span></label><input type="date" id="baseline" name="baseline" value="{}"></div>
<div><label for="alloc">Shortage shared</label><select id="alloc" name="alloc">{}</select></div>
<div><label for="groups">Groups <span class="hint">(allies first: chip4: USA JPN KOR TWN; ...)</span></label><input type="text" id="groups" name="groups" size="30" value="{}"></div></div>"#,
        val("name", "Dashboard scenario"),
        val("horizon", "365"),
        val("step", "7"),
        val("headroom", "0.1"),
        val("inv_material", "30"),
        val("inv_chip", "5"),
        val("baseline", ""),
        options(
            &[
                ("pro_rata".to_string(), "pro rata".to_string()),
                ("home_first".to_string(), "home first".to_string()),
                ("allies_first".to_string(), "allies first".to_string()),
            ],
            &[p.get("alloc").unwrap_or("pro_rata").to_string()]
        ),
        val("groups", "")
    );
    for k in 0..rows {
        let f = |n: &str| format!("s{k}_{n}");
        let kind = p.get(&f("kind")).unwrap_or("none").to_string();
        let kinds = [
            ("none".to_string(), "(no shock)".to_string()),
            ("export_block".to_string(), "Export block".to_string()),
            ("capacity_loss".to_string(), "Capacity loss".to_string()),
            ("demand_surge".to_string(), "Demand surge".to_string()),
        ];
        let from = p.all(&f("from"));
        let providers = format!(
            r#"<optgroup label="Countries">{}</optgroup><optgroup label="Firms">{}</optgroup>"#,
            options(&ch.countries, &from),
            options(&ch.firms, &from)
        );
        let _ = write!(
            b,
            r#"<fieldset><legend>Shock {n}</legend><div class="fields">
<div><label for="{id}kind">Kind</label><select id="{id}kind" name="{id}kind">{kinds}</select></div>
<div><label for="{id}from">Providers <span class="hint">(export block: from; capacity loss: who loses)</span></label><select id="{id}from" name="{id}from" multiple size="6">{prov}</select></div>
<div><label for="{id}to">Consumers <span class="hint">(export block: to; demand surge: who)</span></label><select id="{id}to" name="{id}to" multiple size="6">{cons}</select></div>
<div><label for="{id}items">Items</label><select id="{id}items" name="{id}items" multiple size="6">{items}</select></div>
</div><div class="fields">
<div><label for="{id}start">Start day</label><input type="number" id="{id}start" name="{id}start" min="0" value="{start}"></div>
<div><label for="{id}duration">Duration (days) <span class="hint">(blank: to the horizon)</span></label><input type="number" id="{id}duration" name="{id}duration" min="1" value="{dur}"></div>
<div><label for="{id}fraction">Capacity lost <span class="hint">(0..1)</span></label><input type="number" id="{id}fraction" name="{id}fraction" step="0.05" min="0" max="1" value="{frac}"></div>
<div><label for="{id}recovery">Recovery (days)</label><input type="number" id="{id}recovery" name="{id}recovery" min="0" value="{rec}"></div>
<div><label for="{id}factor">Demand factor</label><input type="number" id="{id}factor" name="{id}factor" step="0.1" min="0" value="{fac}"></div>
</div></fieldset>"#,
            n = k + 1,
            id = format!("s{k}_"),
            kinds = options(&kinds, &[kind]),
            prov = providers,
            cons = options(&ch.consumers, &p.all(&f("to"))),
            items = options(&ch.items, &p.all(&f("items"))),
            start = escape(p.get(&f("start")).unwrap_or("0")),
            dur = escape(p.get(&f("duration")).unwrap_or("")),
            frac = escape(p.get(&f("fraction")).unwrap_or("1")),
            rec = escape(p.get(&f("recovery")).unwrap_or("0")),
            fac = escape(p.get(&f("factor")).unwrap_or("1.5")),
        );
    }
    b.push_str(r#"<p class="hint">Hold Ctrl (Cmd on a Mac) to pick several entries of a list. A taxonomy parent covers its variants; a firm acts on its headquarters country's share.</p><button type="submit">Run scenario</button></form>"#);
    b
}

/// Render a result: summary, time series, chains, items short.
pub fn result_html(vc: &ValueChain, r: &ScenarioResult) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<h2 id="result">Result: {}</h2><div class="cards"><div class="card"><b>{:.3}</b>world minimum availability of {}</div><div class="card"><b>{:.1}</b>world shortfall (days)</div><div class="card"><b>{}</b>consumers</div><div class="card"><b>{}</b>shocks</div></div>"#,
        escape(&r.scenario),
        r.world.availability_min,
        escape(&r.world.item_id),
        r.world.shortfall_days,
        r.consumers.len(),
        r.shocks.len()
    );
    // Who loses which chips (the segment layer), before the item-level view.
    b.push_str(&chipwatch_report::segments_html(r));
    let mut order: Vec<usize> = (0..r.consumers.len()).collect();
    order.sort_by(|&a, &b| {
        r.consumers[a]
            .final_output
            .availability_min
            .total_cmp(&r.consumers[b].final_output.availability_min)
            .then_with(|| r.consumers[b].weight.total_cmp(&r.consumers[a].weight))
    });
    b.push_str(r#"<table><caption>Finished chips by consuming country (worst first)</caption><thead><tr><th scope="col">Consumer</th><th scope="col" class="n">Weight</th><th scope="col" class="n">Minimum availability</th><th scope="col" class="n">Worst day</th><th scope="col" class="n">At horizon</th><th scope="col" class="n">Time to survive (days)</th><th scope="col" class="n">Shortfall (days)</th><th scope="col">Binding constraint</th><th scope="col">Limited by</th></tr></thead><tbody>"#);
    for &k in &order {
        let c = &r.consumers[k];
        let f = &c.final_output;
        let chain: Vec<String> = f
            .binding_constraint
            .iter()
            .map(|id| item_link(vc, id))
            .collect();
        let _ = write!(
            b,
            r#"<tr><th scope="row">{}</th><td class="n">{:.1}</td><td class="n">{:.3}</td><td class="n">{}</td><td class="n">{:.3}</td><td class="n">{}</td><td class="n">{:.1}</td><td>{}</td><td>{}</td></tr>"#,
            escape(&super::country_label(&c.country, &c.name)),
            c.weight,
            f.availability_min,
            f.worst_day,
            f.availability_end,
            f.tts_days
                .map_or_else(|| "&ge; horizon".to_string(), |d| format!("{d:.0}")),
            f.shortfall_days,
            if chain.is_empty() {
                "nothing binds".to_string()
            } else {
                chain.join(" &larr; ")
            },
            escape(&f.binding_providers.join(", "))
        );
    }
    b.push_str("</tbody></table>");

    let series = chipwatch_report::final_output_series(
        r,
        order.iter().take(SHOWN_CONSUMERS).map(|&k| &r.consumers[k]),
    );
    b.push_str("<h3>Finished-chip availability over time</h3><figure class=\"scroll\">");
    b.push_str(&line_chart(
        &format!(
            "{} availability per consumer (worst {} and world)",
            r.world.item_id,
            SHOWN_CONSUMERS.min(r.consumers.len())
        ),
        &series,
        &LineOptions::default(),
    ));
    b.push_str("</figure>");

    // Heatmap of the items short somewhere.
    let mut short: Vec<(f64, usize)> = Vec::new();
    if let Some(first) = r.consumers.first() {
        for k in 0..first.items.len() {
            let m = r
                .consumers
                .iter()
                .filter_map(|c| c.items.get(k))
                .map(|i| i.availability_min)
                .fold(f64::INFINITY, f64::min);
            if m < 1.0 - 1e-6 {
                short.push((m, k));
            }
        }
        short.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let all_short = short.len();
        short.truncate(24);
        if !short.is_empty() {
            let cols: Vec<String> = short
                .iter()
                .map(|&(_, k)| format!("{} {}", first.items[k].item_id, first.items[k].name))
                .collect();
            let rows: Vec<String> = order
                .iter()
                .map(|&k| r.consumers[k].country.clone())
                .collect();
            let values: Vec<Vec<Option<f64>>> = order
                .iter()
                .map(|&c| {
                    short
                        .iter()
                        .map(|&(_, k)| r.consumers[c].items.get(k).map(|i| i.availability_min))
                        .collect()
                })
                .collect();
            b.push_str("<h3>Availability by country and item</h3>");
            if all_short > short.len() {
                let _ = write!(
                    b,
                    "<p class=\"muted\">The {} items with the lowest availability of {all_short} items short are drawn; the printable report lists every item short.</p>",
                    short.len()
                );
            }
            b.push_str("<figure class=\"scroll\">");
            b.push_str(&heatmap(
                "Minimum availability by item",
                &rows,
                &cols,
                &values,
            ));
            b.push_str("</figure>");
        }
    }

    b.push_str("<h3>Binding-constraint chains</h3><p class=\"muted\">From the finished chip down to the input that limits it on the worst day; colour = minimum availability over the horizon.</p>");
    for &k in order.iter().take(SHOWN_CONSUMERS) {
        let c = &r.consumers[k];
        let f = &c.final_output;
        if f.binding_constraint.is_empty() {
            continue;
        }
        b.push_str("<figure class=\"scroll\">");
        b.push_str(&chipwatch_report::binding_chain(c));
        b.push_str("</figure>");
    }

    // Resolved shocks and assumptions: what the engine actually did.
    b.push_str(r#"<h3>Shocks as resolved</h3><table><thead><tr><th scope="col">#</th><th scope="col">Kind</th><th scope="col">Providers</th><th scope="col">Consumers</th><th scope="col">Items</th><th scope="col" class="n">From day</th><th scope="col" class="n">Until day</th></tr></thead><tbody>"#);
    for s in &r.shocks {
        let _ = write!(
            b,
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
            s.index + 1,
            escape(&s.kind),
            escape(&s.providers.join(", ")),
            escape(&s.consumers.join(", ")),
            escape(&s.items.join(", ")),
            s.start_day,
            s.end_day
                .map_or_else(|| "horizon".to_string(), |d| d.to_string())
        );
    }
    b.push_str("</tbody></table>");
    let a = &r.assumptions;
    let _ = write!(
        b,
        r#"<p class="prov">Assumptions: spare capacity {}; material inventory {} days; tool inventory {} days; chip inventory {} days; tool lag {} days; taxonomy: {}; share basis {}. Model: {} ({}, vintage {}). {}</p>"#,
        a.headroom,
        a.inventory_days.material,
        a.inventory_days.tool,
        a.chip_inventory_days,
        a.tool_lag_days,
        a.taxonomy.label(),
        a.share_basis,
        escape(&r.provenance.model),
        escape(&r.provenance.dataset),
        escape(&r.provenance.vintage),
        escape(&r.provenance.share_view)
    );
    if !r.notes.is_empty() {
        b.push_str("<ul class=\"muted\">");
        for n in &r.notes {
            let _ = write!(b, "<li>{}</li>", escape(n));
        }
        b.push_str("</ul>");
    }
    b
}

async fn run_blocking(s: &AppState, sc: Scenario) -> Result<ScenarioResult, String> {
    sc.validate().map_err(|e| e.to_string())?;
    let st = s.clone();
    tokio::task::spawn_blocking(move || crate::routes::scenarios::execute(&st, sc))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "scenario task failed");
            "internal error".to_string()
        })?
        .map_err(|e| e.to_string())
}

/// The scenario of a request: a saved one (`saved=ID`, the caller's organisation only) or the
/// form's parameters.
async fn requested(
    s: &AppState,
    who: Option<&Principal>,
    p: &Params,
) -> Result<Option<Scenario>, String> {
    if let Some(id) = p.get("saved") {
        let Some(who) = who else {
            return Err("sign in to open saved scenarios".into());
        };
        let id: i64 = id
            .parse()
            .map_err(|_| format!("saved: `{id}` is not a scenario id"))?;
        let row = s.store.scenario(who.org.id, id).await.map_err(|e| {
            tracing::error!(error = %e, "cannot read a saved scenario");
            "the saved scenario could not be read".to_string()
        })?;
        let row = row.ok_or_else(|| format!("no saved scenario {id} in your organisation"))?;
        return serde_json::from_value(row.spec)
            .map(Some)
            .map_err(|e| format!("saved scenario {id}: {e}"));
    }
    if p.has("run") {
        return from_params(p).map(Some);
    }
    Ok(None)
}

/// GET /scenario
pub async fn page(State(s): State<AppState>, headers: HeaderMap, q: RawQuery) -> Response {
    let who = session(&s, &headers).await;
    let mut p = Params::from_query(&q);
    let saved_ok = p.has("saved_ok");
    let mut body = String::new();
    let mut status = StatusCode::OK;
    let sc = match requested(&s, who.as_ref(), &p).await {
        Ok(sc) => sc,
        Err(e) => {
            status = StatusCode::UNPROCESSABLE_ENTITY;
            let _ = write!(
                body,
                r#"<div class="error" role="alert"><p>{}</p></div>"#,
                escape(&e)
            );
            None
        }
    };
    let mut result = String::new();
    if let Some(sc) = sc {
        // Normalise the form to the scenario that runs (also fills it from a saved one).
        let mut pairs = to_params(&sc);
        pairs.push(("run".into(), "1".into()));
        p = Params::parse(&query_string(&pairs));
        match run_blocking(&s, sc.clone()).await {
            Ok(r) => {
                let host = headers
                    .get(HOST)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("127.0.0.1:8080");
                let qs = query_string(&pairs);
                let _ = write!(
                    result,
                    r#"<section class="notice noprint" aria-label="Share"><label for="share">Share this scenario (URL)</label><br><input type="text" id="share" readonly size="90" value="http://{}/scenario?{}"> <a href="/scenario/report?{}">Printable HTML report</a>"#,
                    escape(host),
                    escape(&qs),
                    escape(&qs)
                );
                match &who {
                    Some(w) if w.role >= Role::Analyst => {
                        let _ = write!(
                            result,
                            r#"<form method="post" action="/scenario/save" class="fields"><input type="hidden" name="query" value="{}"><button type="submit" class="secondary">Save for {}</button></form>"#,
                            escape(&qs),
                            escape(&w.org.name)
                        );
                    }
                    Some(_) => result.push_str("<p class=\"hint\">Saving needs the analyst role.</p>"),
                    None => result.push_str(r#"<p class="hint"><a href="/login?next=/scenario">Sign in</a> to save scenarios for your organisation.</p>"#),
                }
                result.push_str("</section>");
                result.push_str(&result_html(&s.model, &r));
            }
            Err(e) => {
                status = StatusCode::UNPROCESSABLE_ENTITY;
                let _ = write!(
                    body,
                    r#"<div class="error" role="alert"><p>The scenario cannot run: {}</p></div>"#,
                    escape(&e)
                );
            }
        }
    }
    if saved_ok {
        body.push_str(r#"<p class="notice" role="status">Scenario saved.</p>"#);
    }
    // One empty row after the shocks in use, so another shock can be added.
    let rows = (0..MAX_ROWS)
        .filter(|k| p.get(&format!("s{k}_kind")).is_some_and(|k| k != "none"))
        .max()
        .map_or(0, |k| k + 2)
        .max(DEFAULT_ROWS);
    body.push_str(r#"<p class="lead">What happens to whom if supply stops: export blocks, capacity losses and demand surges propagated through the value chain (AND/OR availability model, docs/scenarios.md).</p>"#);
    if let Some(w) = &who {
        if let Ok(list) = s.store.scenarios_of(w.org.id).await {
            if !list.is_empty() {
                let _ = write!(
                    body,
                    "<details><summary>Saved scenarios of {} ({})</summary><ul>",
                    escape(&w.org.name),
                    list.len()
                );
                for x in list.iter().take(50) {
                    let _ = write!(
                        body,
                        r#"<li><a href="/scenario?saved={}">{}</a> <span class="muted">saved {}</span></li>"#,
                        x.id,
                        escape(&x.name),
                        escape(&chipwatch_store::time::format(x.created_at))
                    );
                }
                body.push_str("</ul></details>");
            }
        }
    }
    if result.is_empty() {
        body.push_str(&form(
            &s.model,
            s.production.as_deref(),
            &p,
            rows.min(MAX_ROWS),
        ));
    } else {
        // The answer first; the form to change it below, folded.
        body.push_str(&result);
        let _ = write!(
            body,
            r#"<details class="noprint"><summary>Change the scenario</summary>{}</details>"#,
            form(&s.model, s.production.as_deref(), &p, rows.min(MAX_ROWS))
        );
    }
    page_response(
        status,
        "Scenario builder",
        Nav::Scenario,
        who.as_ref(),
        &body,
    )
}

/// GET /scenario/report : the standalone HTML report of `chipwatch-report`.
pub async fn report(State(s): State<AppState>, q: RawQuery) -> Response {
    let p = Params::from_query(&q);
    let sc = match from_params(&p) {
        Ok(sc) => sc,
        Err(e) => {
            return super::error_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Scenario report",
                &e,
                None,
            )
        }
    };
    match run_blocking(&s, sc).await {
        Ok(r) => {
            let mut resp = chipwatch_report::scenario_report(&r).into_response();
            resp.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            resp.headers_mut().insert(
                "content-security-policy",
                HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
            );
            resp
        }
        Err(e) => super::error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Scenario report",
            &e,
            None,
        ),
    }
}

/// POST /scenario/save : save the scenario of the hidden `query` field (analyst).
pub async fn save(State(s): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let Some(who) = session(&s, &headers).await else {
        return super::to_login("/scenario");
    };
    if !super::same_origin(&headers) {
        return super::error_page(
            StatusCode::FORBIDDEN,
            "Cross-site form",
            "This form must be sent from the dashboard itself.",
            Some(&who),
        );
    }
    if who.role < Role::Analyst {
        crate::auth::log_denied(Some(&who), "needs_analyst_role");
        return super::error_page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "Saving scenarios needs the analyst role.",
            Some(&who),
        );
    }
    let f = Params::parse(&body);
    let qs = f.get("query").unwrap_or("").to_string();
    let sc = match from_params(&Params::parse(&qs))
        .and_then(|sc| sc.validate().map(|_| sc).map_err(|e| e.to_string()))
    {
        Ok(sc) => sc,
        Err(e) => {
            return super::error_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Cannot save",
                &e,
                Some(&who),
            )
        }
    };
    let spec = match serde_json::to_value(&sc) {
        Ok(v) => v,
        Err(e) => {
            return super::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Cannot save",
                &e.to_string(),
                Some(&who),
            )
        }
    };
    match s.store.save_scenario(&who, &sc.name, &spec).await {
        Ok(saved) => {
            let mut r = StatusCode::SEE_OTHER.into_response();
            if let Ok(l) =
                HeaderValue::from_str(&format!("/scenario?saved={}&saved_ok=1", saved.id))
            {
                r.headers_mut().insert(LOCATION, l);
            }
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot save a scenario");
            super::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Cannot save",
                "The scenario could not be stored; see the server log.",
                Some(&who),
            )
        }
    }
}
