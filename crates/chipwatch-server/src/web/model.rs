//! Model pages: the overview (value-chain diagram coloured by concentration, top chokepoints,
//! who supplies what by segment) and the item page (country and firm shares as separate charts,
//! market size and vintage, inputs and uses, sources, provenance). Every figure comes from
//! `chipwatch_analysis::concentration` over the server's model.

use super::{
    esc_list, item_link, model_provenance, money, page_response, session, thousands, url_encode,
    Nav,
};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chipwatch_analysis::concentration::{self, Chokepoint, ChokepointOptions};
use chipwatch_model::{Basis, ItemIdx, ItemKind, StageKind, ValueChain};
use chipwatch_report::flow::{flow_diagram, share_matrix, Flow, FlowBand, FlowColumn, FlowNode};
use chipwatch_report::svg::{bar_chart, escape};
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// Concentration classes of the diagram (HHI on percent shares, 0..10000). The 1,500 and 2,500
/// bounds are the US merger guidelines' (2010) moderately / highly concentrated thresholds;
/// 5,000 marks one provider holding most of the market.
pub const HHI_CLASSES: &[(f64, &str, &str)] = &[
    (1500.0, "#d9f0d3", "HHI < 1,500"),
    (2500.0, "#fee08b", "1,500-2,500"),
    (5000.0, "#fdae61", "2,500-5,000"),
    (f64::INFINITY, "#f08080", "HHI \u{2265} 5,000"),
];
const NO_DATA: &str = "#eeeeee";

/// Fill colour of an HHI value.
pub fn hhi_fill(hhi: Option<f64>) -> &'static str {
    match hhi {
        None => NO_DATA,
        Some(h) => HHI_CLASSES
            .iter()
            .find(|c| h < c.0)
            .map_or(NO_DATA, |c| c.1),
    }
}

/// The most concentrated chokepoint row of each item or stage id (rows come sorted by HHI, so the
/// first row per id is its highest-HHI basis).
fn rows_by_id(rows: &[Chokepoint]) -> HashMap<&str, &Chokepoint> {
    let mut m = HashMap::new();
    for r in rows {
        m.entry(r.item_id.as_str()).or_insert(r);
    }
    m
}

/// Concentration of an item for the diagram: its own row, or else the most concentrated of its
/// taxonomy variants (flagged), so a parent without shares still shows its worst variant.
fn concentration_of<'a>(
    vc: &ValueChain,
    by_id: &HashMap<&str, &'a Chokepoint>,
    i: ItemIdx,
) -> Option<(&'a Chokepoint, bool)> {
    if let Some(r) = by_id
        .get(vc.item(i).id.as_str())
        .filter(|r| r.hhi.is_some())
    {
        return Some((r, false));
    }
    vc.descendants(i)
        .into_iter()
        .filter_map(|d| by_id.get(vc.item(d).id.as_str()).copied())
        .filter(|r| r.hhi.is_some())
        .max_by(|a, b| a.hhi.unwrap_or(0.0).total_cmp(&b.hhi.unwrap_or(0.0)))
        .map(|r| (r, true))
}

fn stage_label(vc: &ValueChain, k: Option<StageKind>) -> String {
    match k {
        None => "Finished chip".to_string(),
        Some(k) => vc
            .model()
            .stages
            .iter()
            .find(|s| s.kind == k)
            .map_or_else(|| k.as_str().to_string(), |s| s.name.clone()),
    }
}

/// The value chain as a flow: processes in flow order (processes feeding several others, such as
/// fabrication materials, are drawn as support columns after their stage's main line), each with
/// the tools, materials and design resources that go into it, coloured by concentration.
pub fn value_chain_flow(vc: &ValueChain, rows: &[Chokepoint]) -> Flow {
    let by_id = rows_by_id(rows);
    let is_step = |i: ItemIdx| matches!(vc.item(i).kind, ItemKind::Process | ItemKind::FinalOutput);
    let order: Vec<ItemIdx> = vc
        .flow_topo_order()
        .into_iter()
        .filter(|&i| is_step(i))
        .collect();
    let support = |i: ItemIdx| vc.feeds(i).iter().filter(|&&f| is_step(f)).count() > 1;
    let main: Vec<ItemIdx> = order.iter().copied().filter(|&i| !support(i)).collect();
    let supports: Vec<ItemIdx> = order.iter().copied().filter(|&i| support(i)).collect();
    // Column order: the main line, with each stage's support processes after its last step.
    let mut cols: Vec<ItemIdx> = Vec::new();
    for (k, &i) in main.iter().enumerate() {
        cols.push(i);
        let st = vc.item(i).stage;
        let last_of_stage = main.get(k + 1).is_none_or(|&n| vc.item(n).stage != st);
        if last_of_stage {
            cols.extend(supports.iter().copied().filter(|&s| vc.item(s).stage == st));
        }
    }
    for &s in &supports {
        if !cols.contains(&s) {
            cols.push(s);
        }
    }
    let pos: HashMap<ItemIdx, usize> = cols.iter().enumerate().map(|(k, &i)| (i, k)).collect();
    let mut flow = Flow::default();
    for (k, &p) in cols.iter().enumerate() {
        let it = vc.item(p);
        let n_steps = vc.feeds(p).iter().filter(|&&f| is_step(f)).count();
        let head = FlowNode {
            label: format!("{} {}", it.id, it.name),
            sublabel: if support(p) {
                format!("feeds {n_steps} processes")
            } else {
                it.kind.as_str().replace('_', " ")
            },
            tooltip: format!(
                "{} {} ({})",
                it.id,
                it.name,
                it.kind.as_str().replace('_', " ")
            ),
            href: Some(format!("/item/{}", url_encode(&it.id))),
            fill: None,
        };
        let mut inputs: Vec<ItemIdx> = vc
            .inputs(p)
            .iter()
            .copied()
            .filter(|&i| !is_step(i))
            .collect();
        inputs.sort_by_key(|&i| (vc.item(i).kind, vc.item(i).id.len(), vc.item(i).id.clone()));
        let inputs = inputs
            .into_iter()
            .map(|i| {
                let it = vc.item(i);
                let c = concentration_of(vc, &by_id, i);
                let sub = match c {
                    Some((r, variant)) => format!(
                        "HHI {}{} · {} {:.0}%",
                        thousands(r.hhi.unwrap_or(0.0)),
                        if variant { "*" } else { "" },
                        r.top_country.as_deref().unwrap_or("?"),
                        r.cr1.unwrap_or(0.0)
                    ),
                    None => "no country shares".to_string(),
                };
                let tip = match c {
                    Some((r, true)) => format!("{} {}: no shares of its own; most concentrated variant {} {} (HHI {}, {} basis)", it.id, it.name, r.item_id, r.name, thousands(r.hhi.unwrap_or(0.0)), r.basis),
                    Some((r, false)) => format!("{} {}: HHI {}, top country {} {:.1}% ({} basis)", it.id, it.name, thousands(r.hhi.unwrap_or(0.0)), r.top_country.as_deref().unwrap_or("?"), r.cr1.unwrap_or(0.0), r.basis),
                    None => format!("{} {}: no country shares in the model", it.id, it.name),
                };
                FlowNode {
                    label: format!("{} {}", it.id, it.name),
                    sublabel: sub,
                    tooltip: tip,
                    href: Some(format!("/item/{}", url_encode(&it.id))),
                    fill: Some(hhi_fill(c.and_then(|x| x.0.hhi)).to_string()),
                }
            })
            .collect();
        flow.columns.push(FlowColumn { head, inputs });
        if !support(p) {
            for f in vc.feeds(p) {
                if let Some(&t) = pos.get(f) {
                    flow.links.push((k, t));
                }
            }
        }
    }
    // Bands: consecutive columns of one stage.
    let mut start = 0;
    for k in 0..cols.len() {
        let st = vc.item(cols[k]).stage;
        if k + 1 == cols.len() || vc.item(cols[k + 1]).stage != st {
            flow.bands.push(FlowBand {
                label: stage_label(vc, st),
                first: start,
                last: k,
            });
            start = k + 1;
        }
    }
    flow.legend = HHI_CLASSES
        .iter()
        .map(|c| (c.1.to_string(), c.2.to_string()))
        .collect();
    flow.legend
        .push((NO_DATA.to_string(), "no country shares".to_string()));
    flow
}

/// One column of the world view: a label and country -> percent.
struct Segment {
    label: String,
    shares: Vec<(String, f64)>,
    note: String,
}

/// Who supplies what: stage-level shares where the dataset has them, and value-weighted country
/// shares (BRIEF 3.2) over the leaf items of each tools / materials segment (leaves never overlap
/// with their parents, so no value is counted twice).
fn segments(vc: &ValueChain, by_id: &HashMap<&str, &Chokepoint>) -> Vec<Segment> {
    let mut out = Vec::new();
    let stage_seg = |id: &str, label: &str| {
        by_id.get(id).map(|r| Segment {
            label: format!("{label} ({} basis)", r.basis),
            shares: r.countries.clone(),
            note: format!(
                "stage-level shares of {}, {} basis, {}",
                id,
                r.basis,
                r.year.map_or("year n/a".into(), |y| y.to_string())
            ),
        })
    };
    let weighted = |label: &str, stage: StageKind, kinds: &[ItemKind]| {
        let ids: Vec<String> = vc
            .items()
            .filter(|(i, it)| {
                kinds.contains(&it.kind)
                    && vc.stage(*i) == Some(stage)
                    && vc.children(*i).is_empty()
            })
            .map(|(_, it)| it.id.clone())
            .collect();
        let v = concentration::value_share(vc, &ids).ok()?;
        Some(Segment {
            label: label.to_string(),
            shares: v.shares.clone(),
            note: format!(
                "value-weighted over {} items; {:.0}% of {} has country shares",
                v.items.len(),
                v.coverage * 100.0,
                money(v.total_value_usd)
            ),
        })
    };
    out.extend(stage_seg("S1", "Design"));
    out.extend(weighted(
        "Design tools & IP",
        StageKind::Design,
        &[ItemKind::Tool, ItemKind::Material],
    ));
    out.extend(weighted(
        "Fab tools",
        StageKind::Fabrication,
        &[ItemKind::Tool],
    ));
    out.extend(weighted(
        "Fab materials",
        StageKind::Fabrication,
        &[ItemKind::Material],
    ));
    out.extend(stage_seg("S2", "Fab capacity"));
    out.extend(weighted("ATP tools", StageKind::Atp, &[ItemKind::Tool]));
    out.extend(weighted(
        "ATP materials",
        StageKind::Atp,
        &[ItemKind::Material],
    ));
    out.extend(stage_seg("S3", "ATP capacity"));
    out.retain(|s| !s.shares.is_empty());
    out
}

fn country_name(vc: &ValueChain, iso: &str) -> String {
    vc.country_provider(iso)
        .map(|p| super::country_label(iso, &vc.provider(p).name))
        .unwrap_or_else(|| iso.to_string())
}

/// Rows of the chokepoint table: one per item (highest-HHI basis), items before stages.
fn top_chokepoints(rows: &[Chokepoint], n: usize) -> Vec<&Chokepoint> {
    let mut seen = std::collections::HashSet::new();
    rows.iter()
        .filter(|r| r.hhi.is_some() && !r.name.ends_with("(stage)"))
        .filter(|r| seen.insert(r.item_id.clone()))
        .take(n)
        .collect()
}

/// What the model pages derive from the whole model: computed once per model, since the model
/// does not change while the server runs.
pub struct ModelViews {
    pub rows: Vec<Chokepoint>,
    pub overview: String,
}

/// The views of a model, cached. The key is the model's identity (name, vintage, sizes): one
/// process serves one model, so this is one entry in practice (tests build several states over
/// the same default model, which share it).
pub fn views(vc: &ValueChain) -> Arc<ModelViews> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<ModelViews>>>> = OnceLock::new();
    let m = vc.model();
    let key = format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
        m.meta.name,
        m.meta.vintage,
        m.items.len(),
        m.providers.len(),
        m.shares.len()
    );
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return v;
    }
    let v = Arc::new(ModelViews {
        rows: concentration::chokepoints(vc, ChokepointOptions::default()),
        overview: overview_body(vc),
    });
    if let Ok(mut c) = cache.lock() {
        c.insert(key, v.clone());
    }
    v
}

/// GET / : the overview.
pub async fn overview(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let who = session(&s, &headers).await;
    let vc = s.model.clone();
    let views = tokio::task::spawn_blocking(move || views(&vc)).await;
    let body = views.map(|v| v.overview.clone()).unwrap_or_default();
    page_response(
        StatusCode::OK,
        "Semiconductor value chain",
        Nav::Overview,
        who.as_ref(),
        &body,
    )
}

pub fn overview_body(vc: &ValueChain) -> String {
    let rows = concentration::chokepoints(vc, ChokepointOptions::default());
    let by_id = rows_by_id(&rows);
    let mut b = String::new();
    let spofs = {
        let mut ids: Vec<&str> = rows
            .iter()
            .filter(|r| r.single_point_of_failure && !r.name.ends_with("(stage)"))
            .map(|r| r.item_id.as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    };
    let _ = write!(
        b,
        r#"<p class="lead">Who supplies each step of making a logic chip, how concentrated it is, and where a disruption would bind.</p>
<div class="cards"><div class="card"><b>{}</b>items</div><div class="card"><b>{}</b>providers</div><div class="card"><b>{}</b>provision figures</div><div class="card"><b>{spofs}</b>items with one country &gt; 65%</div></div>"#,
        vc.model().items.len(),
        vc.model().providers.len(),
        vc.model().shares.len()
    );
    b.push_str(r#"<h2 id="chain">Value chain</h2><p class="muted">Processes left to right, grouped by stage; below each, the tools, materials and design resources that go into it, coloured by the concentration of their country shares (HHI; * = the item has no shares of its own, the colour is its most concentrated variant). Each box links to its item page; the diagram scrolls sideways on narrow screens.</p><figure class="scroll natural" tabindex="0" aria-label="Value-chain diagram (scrollable)">"#);
    b.push_str(&flow_diagram(
        "Logic-chip value chain: processes and their inputs by concentration",
        &value_chain_flow(vc, &rows),
    ));
    b.push_str("</figure>");

    b.push_str(r#"<div class="grid"><section aria-labelledby="choke"><h2 id="choke">Top chokepoints</h2><table><caption>Items by HHI of country shares (highest basis)</caption><thead><tr><th scope="col">Item</th><th scope="col" class="n">HHI</th><th scope="col">Top country</th><th scope="col" class="n">Countries to 75%</th><th scope="col">Basis, year</th></tr></thead><tbody>"#);
    for r in top_chokepoints(&rows, 15) {
        let _ = write!(
            b,
            r#"<tr><td>{}{}</td><td class="n">{}</td><td>{} {:.1}%</td><td class="n">{}</td><td>{}, {}</td></tr>"#,
            item_link(vc, &r.item_id),
            if r.single_point_of_failure {
                r#" <span class="badge bad" title="one country above 65%">SPOF</span>"#
            } else {
                ""
            },
            thousands(r.hhi.unwrap_or(0.0)),
            escape(r.top_country.as_deref().unwrap_or("?")),
            r.cr1.unwrap_or(0.0),
            r.countries_to_75.map_or("-".to_string(), |k| k.to_string()),
            r.basis,
            r.year.map_or("n/a".to_string(), |y| y.to_string())
        );
    }
    b.push_str("</tbody></table><p class=\"muted\">SPOF: single point of failure, one country above 65% (SIA/BCG criterion). Buckets such as \u{201c}Various countries\u{201d} are never ranked.</p></section>");

    // Who supplies what.
    let segs = segments(vc, &by_id);
    let mut totals: HashMap<String, f64> = HashMap::new();
    for sg in &segs {
        for (c, v) in &sg.shares {
            let e = totals.entry(c.clone()).or_default();
            *e = e.max(*v);
        }
    }
    let mut countries: Vec<(String, f64)> = totals.into_iter().collect();
    countries.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    countries.truncate(14);
    let row_labels: Vec<String> = countries.iter().map(|(c, _)| country_name(vc, c)).collect();
    let col_labels: Vec<String> = segs.iter().map(|s| s.label.clone()).collect();
    let values: Vec<Vec<Option<f64>>> = countries
        .iter()
        .map(|(c, _)| {
            segs.iter()
                .map(|sg| sg.shares.iter().find(|x| &x.0 == c).map(|x| x.1))
                .collect()
        })
        .collect();
    b.push_str(r#"<section aria-labelledby="world"><h2 id="world">Who supplies what</h2><figure class="scroll">"#);
    b.push_str(&share_matrix(
        "Country shares by segment (%)",
        &row_labels,
        &col_labels,
        &values,
        "%",
        100.0,
    ));
    b.push_str("</figure><ul class=\"muted\">");
    for sg in &segs {
        let _ = write!(
            b,
            "<li><b>{}</b>: {}</li>",
            escape(&sg.label),
            escape(&sg.note)
        );
    }
    b.push_str("</ul><p class=\"muted\">HQ basis: where the supplying firms are headquartered (who controls supply); location basis: where the capacity physically is (where a disruption hits). Blank cells: no figure.</p></section></div>");
    b.push_str(&model_provenance(vc));
    b
}

/// GET /item/{id} : one item.
pub async fn item(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let who = session(&s, &headers).await;
    let vc = &s.model;
    let i = match vc
        .item_idx(&id)
        .map(Ok)
        .unwrap_or_else(|| vc.find_item(&id))
    {
        Ok(i) => i,
        Err(e) => {
            return super::error_page(
                StatusCode::NOT_FOUND,
                "Item not found",
                &format!("No item `{id}` in the model: {e}"),
                who.as_ref(),
            );
        }
    };
    let it = vc.item(i);
    page_response(
        StatusCode::OK,
        &format!("{} {}", it.id, it.name),
        Nav::Overview,
        who.as_ref(),
        &item_body(vc, i),
    )
}

/// Bars (label, share) for the chart, the same rows as linked HTML for the table, and the
/// providers listed without a figure (linked HTML). Countries link to their country page, firms
/// to their firm page; a firm's label carries its HQ country code, a country's its name once.
#[allow(clippy::type_complexity)]
fn share_bars(
    vc: &ValueChain,
    shares: &[&chipwatch_model::Share],
) -> (Vec<(String, f64)>, Vec<(String, f64, String)>, Vec<String>) {
    let mut rows: Vec<(String, f64, String)> = Vec::new();
    let mut listed = Vec::new();
    for sh in shares {
        let (label, html) = match vc.provider_by_id(&sh.provider) {
            Some(p) => match (&p.country, p.provider_type) {
                (Some(c), chipwatch_model::ProviderType::Country) => (
                    super::entity::country_text(vc, c),
                    super::entity::country_link(vc, c),
                ),
                (Some(c), chipwatch_model::ProviderType::Organisation) => (
                    format!("{} ({c})", p.name),
                    format!("{} ({})", super::entity::firm_link(vc, &p.id), escape(c)),
                ),
                (Some(c), _) => (
                    format!("{} ({c})", p.name),
                    escape(&format!("{} ({c})", p.name)),
                ),
                (None, chipwatch_model::ProviderType::Organisation) => {
                    (p.name.clone(), super::entity::firm_link(vc, &p.id))
                }
                (None, _) => (p.name.clone(), escape(&p.name)),
            },
            None => (sh.provider.to_string(), escape(&sh.provider)),
        };
        match sh.share {
            Some(v) => rows.push((label, v, html)),
            None => listed.push(html),
        }
    }
    rows.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let bars = rows.iter().map(|r| (r.0.clone(), r.1)).collect();
    (bars, rows, listed)
}

/// One view of an item's market (a country basis or the firms): bar chart, table and the providers
/// listed without a figure. Returns false, writing nothing, when the view has no shares.
fn share_section(
    b: &mut String,
    vc: &ValueChain,
    label: &str,
    shares: &[&chipwatch_model::Share],
) -> bool {
    if shares.is_empty() {
        return false;
    }
    let (bars, rows, listed) = share_bars(vc, shares);
    let year = shares.iter().filter_map(|s| s.year).max();
    let title = format!(
        "{label} ({})",
        year.map_or("year n/a".into(), |y| y.to_string())
    );
    let _ = write!(b, "<section><h3>{}</h3>", escape(&title));
    if !bars.is_empty() {
        b.push_str(&bar_chart(&title, &bars, Some(100.0), "%"));
        let _ = write!(
            b,
            "<details><summary>Table</summary>{}</details>",
            share_table(&title, &rows)
        );
    }
    if !listed.is_empty() {
        let _ = write!(
            b,
            "<p class=\"muted\">Listed without a figure: {}</p>",
            listed.join(", ")
        );
    }
    b.push_str("</section>");
    true
}

fn share_table(caption: &str, rows: &[(String, f64, String)]) -> String {
    let mut t = format!(
        r#"<table><caption>{}</caption><thead><tr><th scope="col">Provider</th><th scope="col" class="n">Share (%)</th></tr></thead><tbody>"#,
        escape(caption)
    );
    for (_, v, html) in rows {
        let _ = write!(t, r#"<tr><td>{html}</td><td class="n">{v:.1}</td></tr>"#);
    }
    t.push_str("</tbody></table>");
    t
}

pub fn item_body(vc: &ValueChain, i: ItemIdx) -> String {
    let it = vc.item(i);
    let mut b = String::new();
    let stages: Vec<&str> = vc.stages(i).iter().map(|s| s.as_str()).collect();
    let _ = write!(
        b,
        r#"<dl class="kv"><dt>Kind</dt><dd>{}</dd><dt>Stage</dt><dd>{}</dd>"#,
        it.kind.as_str().replace('_', " "),
        if stages.is_empty() {
            "-".into()
        } else {
            stages.join(", ")
        }
    );
    match &it.market_size {
        Some(m) => {
            let _ = write!(
                b,
                "<dt>Market size</dt><dd>{} ({}{}{})</dd>",
                money(m.usd),
                m.year.map_or("year n/a".to_string(), |y| y.to_string()),
                m.qualifier
                    .as_deref()
                    .map(|q| format!("; {}", escape(q)))
                    .unwrap_or_default(),
                m.source
                    .as_deref()
                    .and_then(|s| vc.source_label(s))
                    .map(|s| format!("; source: {}", super::source_html(s)))
                    .unwrap_or_default()
            );
        }
        None => b.push_str("<dt>Market size</dt><dd>not in the dataset</dd>"),
    }
    if let Some(y) = it.year {
        let _ = write!(b, "<dt>Year of figures</dt><dd>{y}</dd>");
    }
    if !it.control_entries.is_empty() {
        let _ = write!(
            b,
            "<dt>Control entries</dt><dd>{}</dd>",
            esc_list(&it.control_entries)
        );
    }
    if !it.hs_codes.is_empty() {
        let _ = write!(b, "<dt>HS codes</dt><dd>{}</dd>", esc_list(&it.hs_codes));
    }
    b.push_str("</dl>");

    // Concentration per basis.
    let all = views(vc);
    let rows: Vec<&Chokepoint> = all.rows.iter().filter(|r| r.item_id == it.id).collect();
    if !rows.is_empty() {
        b.push_str(r#"<table><caption>Concentration of country shares</caption><thead><tr><th scope="col">Basis</th><th scope="col" class="n">HHI</th><th scope="col" class="n">Effective providers</th><th scope="col" class="n">CR1</th><th scope="col" class="n">CR3</th><th scope="col" class="n">Countries to 75%</th><th scope="col">Single point of failure</th><th scope="col">Coverage</th></tr></thead><tbody>"#);
        for r in &rows {
            let f = |v: Option<f64>, d: usize| v.map_or("-".to_string(), |x| format!("{x:.d$}"));
            let _ = write!(
                b,
                r#"<tr><td>{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td>{}</td><td>{}</td></tr>"#,
                r.basis,
                r.hhi.map_or("-".to_string(), thousands),
                f(r.effective_providers, 2),
                f(r.cr1, 1),
                f(r.cr3, 1),
                r.countries_to_75.map_or("-".into(), |k| k.to_string()),
                match r.spof_status(concentration::DEFAULT_SPOF_THRESHOLD) {
                    "yes" => format!("yes: {}", escape(r.top_country.as_deref().unwrap_or("?"))),
                    other => other.to_string(),
                },
                r.coverage.label()
            );
        }
        b.push_str("</tbody></table>");
    }

    // Shares: country view per basis, firm view apart. Never summed together.
    b.push_str(r#"<h2>Who supplies it</h2><p class="muted">Country shares and firm shares are two views of the same market and are shown apart; they must never be added together.</p><div class="grid">"#);
    let mut any = false;
    for basis in [Basis::Hq, Basis::Location] {
        let shares = vc.country_shares(i, Some(basis));
        any |= share_section(&mut b, vc, &format!("By country, {basis} basis"), &shares);
    }
    any |= share_section(&mut b, vc, "By firm", &vc.firm_shares(i));
    if !any {
        b.push_str(
            "<p>The dataset lists no providers for this item; see its variants or inputs.</p>",
        );
    }
    b.push_str("</div>");

    // Structure.
    let links = |v: &[ItemIdx]| -> String {
        if v.is_empty() {
            return "<p class=\"muted\">none</p>".to_string();
        }
        let mut s = String::from("<ul>");
        for &x in v {
            let _ = write!(
                s,
                "<li>{} <span class=\"muted\">({})</span></li>",
                item_link(vc, &vc.item(x).id),
                vc.item(x).kind.as_str().replace('_', " ")
            );
        }
        s.push_str("</ul>");
        s
    };
    // Uses as `chipwatch show` lists them: direct uses, and the uses of each taxonomy parent
    // (a variant of lithography tools goes wherever lithography tools go), marked "via".
    let detail = chipwatch_analysis::views::item_detail(vc, i);
    let uses = if detail.used_by.is_empty() {
        "<p class=\"muted\">none</p>".to_string()
    } else {
        let mut s = String::from("<ul>");
        for l in &detail.used_by {
            let _ = write!(
                s,
                "<li>{} <span class=\"muted\">({}{})</span></li>",
                item_link(vc, &l.id),
                l.kind.as_str().replace('_', " "),
                l.via
                    .as_deref()
                    .map(|v| format!(", as a type of {}", item_link(vc, v)))
                    .unwrap_or_default()
            );
        }
        s.push_str("</ul>");
        s
    };
    let _ = write!(
        b,
        r#"<div class="grid"><section><h2>Inputs</h2>{}</section><section><h2>Uses (goes into)</h2>{}</section><section><h2>Is a type of</h2>{}</section><section><h2>Variants</h2>{}</section></div>"#,
        links(vc.inputs(i)),
        uses,
        links(vc.parents(i)),
        links(vc.children(i))
    );

    // Sources.
    let mut sources: Vec<String> = Vec::new();
    for sh in vc.latest_shares(i) {
        if let Some(l) = sh.source.as_deref().and_then(|s| vc.source_label(s)) {
            if !sources.iter().any(|x| x == l) {
                sources.push(l.to_string());
            }
        }
    }
    if let Some(l) = it
        .market_size
        .as_ref()
        .and_then(|m| m.source.as_deref())
        .and_then(|s| vc.source_label(s))
    {
        if !sources.iter().any(|x| x == l) {
            sources.push(l.to_string());
        }
    }
    b.push_str("<h2>Sources</h2>");
    if sources.is_empty() {
        b.push_str("<p class=\"muted\">The dataset names no source for this item's figures.</p>");
    } else {
        b.push_str("<ul>");
        for s in &sources {
            let _ = write!(b, "<li>{}</li>", super::source_html(s));
        }
        b.push_str("</ul>");
    }
    let _ = write!(
        b,
        r#"<p class="noprint"><a href="/scenario?name={n}&amp;s0_kind=export_block&amp;s0_items={id}&amp;s0_from={top}">Model a block of this item</a> · <a href="/api/v1/items/{id}">JSON (API)</a></p>"#,
        n = url_encode(&format!("Block of {}", it.name)),
        id = url_encode(&it.id),
        top = url_encode(
            rows.first()
                .and_then(|r| r.top_country.as_deref())
                .unwrap_or("")
        )
    );
    b.push_str(&model_provenance(vc));
    b
}
