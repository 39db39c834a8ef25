//! Licence determination: given a shipment (item parameters, exporter, destination, origin, end
//! user, end use, date), find every jurisdiction that can reach it, evaluate each of its measures
//! in the version in force on the date, and return one verdict per jurisdiction plus the
//! strictest overall, each with an explanation a licensing officer can check line by line.

use crate::catalogue::Catalogue;
use crate::date::Date;
use crate::measure::{
    compile, CmpOp, Cond, Dest, Formula, Group, Measure, OutcomeKind, PolicySource, ReviewPolicy,
};
use crate::screening::{Hit, Screener};
use crate::value::{fmt_num, Value};
use crate::ControlsError;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Parameter names the issue defines (units in the name); measure files add their own.
pub const STANDARD_PARAMETERS: &[&str] = &[
    "wavelength_nm",
    "numerical_aperture",
    "dedicated_chuck_overlay_nm",
    "tpp",
    "performance_density",
    "die_area_mm2",
    "bidirectional_io_gbps",
    "datacenter",
    "material",
    "hs_code",
    "eccn",
    "us_content_pct",
    "mac_tops",
    "bit_length",
    "equipment_type",
    "immersion",
];

/// Screening score from which an end-user match feeds the determination.
pub const END_USER_THRESHOLD: f64 = 0.88;

/// One shipment to determine.
#[derive(Debug, Clone)]
pub struct Shipment {
    pub product: Option<String>,
    pub params: BTreeMap<String, Value>,
    pub from: String,
    pub to: String,
    pub origin: Option<String>,
    pub end_user: Option<String>,
    pub end_use: Option<String>,
    pub date: Date,
}

/// The item as determined: catalogue values with overrides, derived values, unknown names.
#[derive(Debug, Clone, Serialize)]
pub struct ItemReport {
    pub product: Option<String>,
    pub product_source: Option<String>,
    pub parameters: BTreeMap<String, Value>,
    pub derived: BTreeMap<String, f64>,
    pub unknown_parameters: Vec<String>,
}

/// The verdict of one jurisdiction.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub jurisdiction: String,
    pub outcome: OutcomeKind,
    pub review_policy: Option<ReviewPolicy>,
    pub authorisation: Option<String>,
    pub measure_id: Option<String>,
    pub instrument: Option<String>,
    pub version: Option<String>,
    pub citation: Option<String>,
    pub explanation: Vec<String>,
}

/// The strictest verdict over all jurisdictions.
#[derive(Debug, Clone, Serialize)]
pub struct Overall {
    pub outcome: OutcomeKind,
    pub review_policy: Option<ReviewPolicy>,
    pub authorisation: Option<String>,
    pub jurisdictions: Vec<String>,
    pub measure_ids: Vec<String>,
    pub not_reached: Vec<String>,
}

/// A full determination; the JSON shape is fixed by issue 4.
#[derive(Debug, Clone, Serialize)]
pub struct Determination {
    pub date: Date,
    pub from: String,
    pub to: String,
    pub origin: Option<String>,
    pub end_user: Option<String>,
    pub end_use: Option<String>,
    pub item: ItemReport,
    pub end_user_screening: Vec<Hit>,
    pub verdicts: Vec<Verdict>,
    pub overall: Overall,
}

/// Order of strictness: prohibited > licence (denial > per application > case by case >
/// approval) > exception with notification > general authorisation > not required.
pub fn strictness(o: OutcomeKind, p: Option<ReviewPolicy>) -> u8 {
    match o {
        OutcomeKind::NotRequired => 0,
        OutcomeKind::GeneralAuthorisation => 10,
        OutcomeKind::ExceptionWithNotification => 20,
        OutcomeKind::LicenceRequired => {
            30 + match p {
                Some(ReviewPolicy::PresumptionOfApproval) => 0,
                Some(ReviewPolicy::CaseByCase) => 1,
                Some(ReviewPolicy::PerApplication) | None => 2,
                Some(ReviewPolicy::PresumptionOfDenial) => 3,
            }
        }
        OutcomeKind::Prohibited => 40,
    }
}

/// Measures, groups, formulas, catalogue and restricted-party lists, checked and indexed.
#[derive(Debug, Clone)]
pub struct Engine {
    /// Versions sorted by (id, in_force_from).
    measures: Vec<Measure>,
    /// id -> range of `measures`.
    by_id: Vec<(String, std::ops::Range<usize>)>,
    groups: BTreeMap<String, Group>,
    /// Topologically sorted (inputs before users), ties by name.
    formulas: Vec<Formula>,
    known_params: BTreeSet<String>,
    catalogue: Catalogue,
    screener: Screener,
}

/// Outcome, review policy and authorisation a measure applied.
type Applied = (OutcomeKind, Option<ReviewPolicy>, Option<String>);

/// Outcome of one measure for one shipment.
struct MeasureEval {
    applied: Option<Applied>,
    lines: Vec<String>,
}

impl Engine {
    /// Build from data files given as (file name, text); the order of files does not matter.
    pub fn from_sources(
        files: &[(&str, &str)],
        catalogue: Catalogue,
        screener: Screener,
    ) -> Result<Engine, ControlsError> {
        let mut measures = Vec::new();
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        let mut formulas: BTreeMap<String, Formula> = BTreeMap::new();
        for (file, text) in files {
            let c = compile(text, file)?;
            for g in c.groups {
                if let Some(prev) = groups.get(&g.id) {
                    return Err(ControlsError::Conflict(format!(
                        "country group `{}` is defined in both {} and {}",
                        g.id, prev.file, g.file
                    )));
                }
                groups.insert(g.id.clone(), g);
            }
            for f in c.formulas {
                if let Some(prev) = formulas.get(&f.name) {
                    if prev.expr != f.expr {
                        return Err(ControlsError::Conflict(format!(
                            "derived parameter `{}` is `{}` in {} but `{}` in {}",
                            f.name, prev.text, prev.file, f.text, f.file
                        )));
                    }
                    continue;
                }
                formulas.insert(f.name.clone(), f);
            }
            if let Some(m) = c.measure {
                measures.push(m);
            }
        }
        measures.sort_by(|a, b| (&a.id, a.in_force_from).cmp(&(&b.id, b.in_force_from)));
        for w in measures.windows(2) {
            if w[0].id == w[1].id
                && (w[0].in_force_from == w[1].in_force_from || w[0].version == w[1].version)
            {
                return Err(ControlsError::Conflict(format!(
                    "measure `{}`: versions `{}` ({}) and `{}` ({}) clash (same version name \
                     or same in_force_from)",
                    w[0].id, w[0].version, w[0].file, w[1].version, w[1].file
                )));
            }
            if w[0].id == w[1].id && w[0].jurisdiction != w[1].jurisdiction {
                return Err(ControlsError::Conflict(format!(
                    "measure `{}` changes jurisdiction between {} and {}",
                    w[0].id, w[0].file, w[1].file
                )));
            }
        }
        let mut by_id: Vec<(String, std::ops::Range<usize>)> = Vec::new();
        for (i, m) in measures.iter().enumerate() {
            match by_id.last_mut() {
                Some((id, r)) if *id == m.id => r.end = i + 1,
                _ => by_id.push((m.id.clone(), i..i + 1)),
            }
        }
        // Every group a measure names must exist.
        for m in &measures {
            let check = |d: &Dest, field: String| -> Result<(), ControlsError> {
                for g in d
                    .groups
                    .iter()
                    .chain(&d.except_groups)
                    .chain(d.outside.iter())
                {
                    if !groups.contains_key(g) {
                        return Err(ControlsError::Field {
                            file: m.file.clone(),
                            field: field.clone(),
                            message: format!(
                                "unknown country group `{g}` (known: {})",
                                groups.keys().cloned().collect::<Vec<_>>().join(", ")
                            ),
                        });
                    }
                }
                Ok(())
            };
            if let Some(e) = &m.reach.exporters {
                check(e, "reach.exporters".into())?;
            }
            for (i, r) in m.rules.iter().enumerate() {
                check(&r.destinations, format!("rule[{i}].destinations"))?;
            }
        }
        let formulas = topo_sort(formulas)?;
        let mut known_params: BTreeSet<String> =
            STANDARD_PARAMETERS.iter().map(|s| s.to_string()).collect();
        for f in &formulas {
            known_params.insert(f.name.clone());
            known_params.extend(f.expr.variables());
        }
        for m in &measures {
            let mut v = Vec::new();
            if let Some(c) = &m.item {
                c.params(&mut v);
            }
            for r in &m.rules {
                if let Some(c) = &r.when {
                    c.params(&mut v);
                }
            }
            v.push(m.reach.de_minimis_param.clone());
            v.extend(m.reach.fdp_param.clone());
            known_params.extend(v);
        }
        Ok(Engine {
            measures,
            by_id,
            groups,
            formulas,
            known_params,
            catalogue,
            screener,
        })
    }

    pub fn measures(&self) -> &[Measure] {
        &self.measures
    }
    pub fn groups(&self) -> &BTreeMap<String, Group> {
        &self.groups
    }
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }
    pub fn screener(&self) -> &Screener {
        &self.screener
    }
    /// Replace the restricted-party lists (e.g. with a user's `--list`).
    pub fn set_screener(&mut self, s: Screener) {
        self.screener = s;
    }

    /// All versions of one measure, oldest first.
    pub fn versions(&self, id: &str) -> Option<&[Measure]> {
        self.by_id
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, r)| &self.measures[r.clone()])
    }

    /// The version of a measure in force on `date`, if any.
    pub fn version_on(&self, id: &str, date: Date) -> Option<&Measure> {
        let vs = self.versions(id)?;
        let v = vs.iter().rev().find(|m| m.in_force_from <= date)?;
        if v.in_force_until.is_some_and(|u| date > u) {
            return None;
        }
        Some(v)
    }

    /// Whether `country` is in group `id` on `date`.
    pub fn in_group(&self, id: &str, country: &str, date: Date) -> bool {
        self.groups
            .get(id)
            .is_some_and(|g| g.contains(country, date))
    }

    /// Whether a destination set contains `country` on `date`.
    pub fn in_dest(&self, d: &Dest, country: &str, date: Date) -> bool {
        let inside = d.all
            || d.countries.iter().any(|c| c == country)
            || d.groups.iter().any(|g| self.in_group(g, country, date))
            || d.outside
                .as_ref()
                .is_some_and(|g| !self.in_group(g, country, date));
        inside
            && !d.except_countries.iter().any(|c| c == country)
            && !d
                .except_groups
                .iter()
                .any(|g| self.in_group(g, country, date))
    }

    /// Resolve the item: catalogue values, overrides, derived values.
    pub fn resolve_item(
        &self,
        product: Option<&str>,
        overrides: &BTreeMap<String, Value>,
    ) -> Result<(ItemReport, BTreeMap<String, Value>), ControlsError> {
        self.resolve(product, overrides).map(|(i, v, _)| (i, v))
    }

    #[allow(clippy::type_complexity)]
    fn resolve(
        &self,
        product: Option<&str>,
        overrides: &BTreeMap<String, Value>,
    ) -> Result<(ItemReport, BTreeMap<String, Value>, Option<String>), ControlsError> {
        let mut params = BTreeMap::new();
        let (mut pname, mut psource, mut porigin) = (None, None, None);
        if let Some(q) = product {
            let p = self.catalogue.find(q)?;
            params.extend(p.parameters.clone());
            pname = Some(p.name.clone());
            psource = Some(p.source.clone());
            porigin = p.origin.clone();
        }
        for (k, v) in overrides {
            params.insert(k.clone(), v.clone());
        }
        let mut values = params.clone();
        let mut derived = BTreeMap::new();
        for f in &self.formulas {
            if values.contains_key(&f.name) {
                continue;
            }
            if let Ok(v) = f.expr.eval(&values) {
                derived.insert(f.name.clone(), v);
                values.insert(f.name.clone(), Value::Num(v));
            }
        }
        let unknown_parameters = params
            .keys()
            .filter(|k| !self.known_params.contains(*k))
            .cloned()
            .collect();
        Ok((
            ItemReport {
                product: pname,
                product_source: psource,
                parameters: params,
                derived,
                unknown_parameters,
            },
            values,
            porigin,
        ))
    }

    /// Determine many shipments (batch mode): end users are screened once per distinct name.
    pub fn determine_batch(
        &self,
        shipments: &[Shipment],
    ) -> Vec<Result<Determination, ControlsError>> {
        let mut memo: std::collections::HashMap<&str, Vec<Hit>> = std::collections::HashMap::new();
        shipments
            .iter()
            .map(|s| {
                let hits = match s.end_user.as_deref() {
                    Some(n) if !n.trim().is_empty() => memo
                        .entry(n)
                        .or_insert_with(|| self.screener.screen(n, END_USER_THRESHOLD))
                        .clone(),
                    _ => Vec::new(),
                };
                self.determine_with_hits(s, hits)
            })
            .collect()
    }

    /// Determine one shipment.
    pub fn determine(&self, s: &Shipment) -> Result<Determination, ControlsError> {
        let hits = match &s.end_user {
            Some(n) if !n.trim().is_empty() => self.screener.screen(n, END_USER_THRESHOLD),
            _ => Vec::new(),
        };
        self.determine_with_hits(s, hits)
    }

    fn determine_with_hits(
        &self,
        s: &Shipment,
        hits: Vec<Hit>,
    ) -> Result<Determination, ControlsError> {
        let from = crate::normalise_country(&s.from)
            .ok_or_else(|| ControlsError::Country(s.from.clone()))?;
        let to =
            crate::normalise_country(&s.to).ok_or_else(|| ControlsError::Country(s.to.clone()))?;
        let origin = match &s.origin {
            None => None,
            Some(o) => {
                Some(crate::normalise_country(o).ok_or_else(|| ControlsError::Country(o.clone()))?)
            }
        };
        let (item, values, product_origin) = self.resolve(s.product.as_deref(), &s.params)?;
        // The catalogue's origin counts when the user gave none.
        let origin = origin.or(product_origin);
        let ctx = EvalCtx {
            engine: self,
            date: s.date,
            from: &from,
            to: &to,
            origin: origin.as_deref(),
            end_user: s.end_user.as_deref(),
            end_use: s.end_use.as_deref(),
            values: &values,
            derived: &item.derived,
            hits: &hits,
        };

        // Which jurisdictions reach the shipment, measure by measure.
        let mut per_jur: BTreeMap<&str, Vec<(&Measure, String)>> = BTreeMap::new();
        let mut not_reached: BTreeMap<&str, String> = BTreeMap::new();
        for (_, range) in &self.by_id {
            let versions = &self.measures[range.clone()];
            let current = versions
                .iter()
                .rev()
                .find(|m| m.in_force_from <= s.date)
                .unwrap_or(&versions[0]);
            match ctx.reach(current) {
                Some(why) => per_jur
                    .entry(current.jurisdiction.as_str())
                    .or_default()
                    .push((current, why)),
                None => {
                    not_reached
                        .entry(current.jurisdiction.as_str())
                        .or_insert_with(|| ctx.why_not_reached(current));
                }
            }
        }
        let mut jurisdictions: BTreeSet<String> = per_jur.keys().map(|s| s.to_string()).collect();
        jurisdictions.insert(from.clone());
        if let Some(o) = &origin {
            jurisdictions.insert(o.clone());
        }
        let mut verdicts = Vec::new();
        for j in &jurisdictions {
            let Some(list) = per_jur.get(j.as_str()) else {
                verdicts.push(Verdict {
                    jurisdiction: j.clone(),
                    outcome: OutcomeKind::NotRequired,
                    review_policy: None,
                    authorisation: None,
                    measure_id: None,
                    instrument: None,
                    version: None,
                    citation: None,
                    explanation: vec![match not_reached.get(j.as_str()) {
                        Some(w) => format!("{j}: its measures do not reach this shipment ({w})"),
                        None => format!(
                            "{j}: no measure of this jurisdiction is encoded in the data; \
                             no licence requirement is known to chipwatch"
                        ),
                    }],
                });
                continue;
            };
            let mut best: Option<(u8, &Measure, Applied)> = None;
            let mut lines = Vec::new();
            for (m, why) in list {
                let ev = ctx.evaluate(&m.id, why);
                lines.extend(ev.lines);
                if let Some(a) = ev.applied {
                    let rank = strictness(a.0, a.1);
                    if best.as_ref().is_none_or(|(r, _, _)| rank > *r) {
                        // The version actually applied on the date.
                        let v = self.version_on(&m.id, s.date).unwrap_or(m);
                        best = Some((rank, v, a));
                    }
                }
            }
            verdicts.push(match best {
                Some((_, m, (o, p, a))) => Verdict {
                    jurisdiction: j.clone(),
                    outcome: o,
                    review_policy: p,
                    authorisation: a,
                    measure_id: Some(m.id.clone()),
                    instrument: Some(m.instrument.clone()),
                    version: Some(m.version.clone()),
                    citation: Some(m.citation.clone()),
                    explanation: lines,
                },
                None => Verdict {
                    jurisdiction: j.clone(),
                    outcome: OutcomeKind::NotRequired,
                    review_policy: None,
                    authorisation: None,
                    measure_id: None,
                    instrument: None,
                    version: None,
                    citation: None,
                    explanation: lines,
                },
            });
        }
        let top = verdicts
            .iter()
            .map(|v| strictness(v.outcome, v.review_policy))
            .max()
            .unwrap_or(0);
        let winners: Vec<&Verdict> = verdicts
            .iter()
            .filter(|v| strictness(v.outcome, v.review_policy) == top)
            .collect();
        let overall = Overall {
            outcome: winners
                .first()
                .map_or(OutcomeKind::NotRequired, |v| v.outcome),
            review_policy: winners.first().and_then(|v| v.review_policy),
            authorisation: winners.first().and_then(|v| v.authorisation.clone()),
            jurisdictions: winners.iter().map(|v| v.jurisdiction.clone()).collect(),
            measure_ids: winners
                .iter()
                .filter_map(|v| v.measure_id.clone())
                .collect(),
            not_reached: not_reached
                .iter()
                .filter(|(j, _)| !jurisdictions.contains(**j))
                .map(|(j, w)| format!("{j}: not reached ({w})"))
                .collect(),
        };
        Ok(Determination {
            date: s.date,
            from,
            to,
            origin,
            end_user: s.end_user.clone(),
            end_use: s.end_use.clone(),
            item,
            end_user_screening: hits,
            verdicts,
            overall,
        })
    }
}

fn topo_sort(formulas: BTreeMap<String, Formula>) -> Result<Vec<Formula>, ControlsError> {
    let mut pending: BTreeMap<String, Formula> = formulas;
    let mut out: Vec<Formula> = Vec::new();
    while !pending.is_empty() {
        let ready: Vec<String> = pending
            .iter()
            .filter(|(_, f)| f.expr.variables().iter().all(|v| !pending.contains_key(v)))
            .map(|(k, _)| k.clone())
            .collect();
        if ready.is_empty() {
            return Err(ControlsError::Conflict(format!(
                "derived parameters refer to each other in a cycle: {}",
                pending.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        for k in ready {
            if let Some(f) = pending.remove(&k) {
                out.push(f);
            }
        }
    }
    Ok(out)
}

/// Everything one evaluation needs.
struct EvalCtx<'a> {
    engine: &'a Engine,
    date: Date,
    from: &'a str,
    to: &'a str,
    origin: Option<&'a str>,
    end_user: Option<&'a str>,
    end_use: Option<&'a str>,
    values: &'a BTreeMap<String, Value>,
    derived: &'a BTreeMap<String, f64>,
    hits: &'a [Hit],
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tri {
    Yes,
    No,
    Unknown,
}

impl EvalCtx<'_> {
    /// Why the measure reaches the shipment, or None.
    fn reach(&self, m: &Measure) -> Option<String> {
        let r = &m.reach;
        if let Some(e) = &r.exporters {
            if self.engine.in_dest(e, self.from, self.date) {
                return Some(format!("export from {} ({})", self.from, e.describe()));
            }
        }
        if let Some(o) = self.origin {
            if r.origins.iter().any(|c| c == o) {
                return Some(format!("item of {o} origin"));
            }
        }
        if let Some(t) = r.de_minimis_pct {
            if let Some(v) = self.values.get(&r.de_minimis_param).and_then(Value::as_num) {
                if v > t {
                    return Some(format!(
                        "{} = {}% exceeds the de minimis level of {}%",
                        r.de_minimis_param,
                        fmt_num(v),
                        fmt_num(t)
                    ));
                }
            }
        }
        if let Some(p) = &r.fdp_param {
            if self.values.get(p) == Some(&Value::Bool(true)) {
                return Some(format!("foreign direct product ({p} = true)"));
            }
        }
        None
    }

    fn why_not_reached(&self, m: &Measure) -> String {
        let r = &m.reach;
        let mut parts = Vec::new();
        if let Some(e) = &r.exporters {
            parts.push(format!(
                "export from {} is not from {}",
                self.from,
                e.describe()
            ));
        }
        if !r.origins.is_empty() {
            parts.push(format!(
                "origin {} is not {}",
                self.origin.unwrap_or("(not given)"),
                r.origins.join("/")
            ));
        }
        if let Some(t) = r.de_minimis_pct {
            match self.values.get(&r.de_minimis_param).and_then(Value::as_num) {
                Some(v) => parts.push(format!(
                    "{} = {}% does not exceed {}%",
                    r.de_minimis_param,
                    fmt_num(v),
                    fmt_num(t)
                )),
                None => parts.push(format!("{} not given", r.de_minimis_param)),
            }
        }
        if let Some(p) = &r.fdp_param {
            parts.push(format!("{p} is not true"));
        }
        parts.join("; ")
    }

    /// Evaluate the measure `id` on the date, given why its jurisdiction reaches the shipment.
    fn evaluate(&self, id: &str, why: &str) -> MeasureEval {
        let versions = self.engine.versions(id).unwrap_or(&[]);
        let mut lines = Vec::new();
        let idx = versions.iter().rposition(|m| m.in_force_from <= self.date);
        let Some(idx) = idx else {
            let first = &versions[0];
            lines.push(format!(
                "{id} ({}): not yet in force on {} — enters into force on {} (version {}); \
                 not applied",
                first.instrument, self.date, first.in_force_from, first.version
            ));
            return MeasureEval {
                applied: None,
                lines,
            };
        };
        let m = &versions[idx];
        if let Some(u) = m.in_force_until {
            if self.date > u {
                lines.push(format!(
                    "{id} ({}), version {}: no longer in force on {} — in force from {} until {}; \
                     not applied",
                    m.instrument, m.version, self.date, m.in_force_from, u
                ));
                return MeasureEval {
                    applied: None,
                    lines,
                };
            }
        }
        let mut head = format!(
            "{id} ({}; {}), version {} in force since {}",
            m.instrument, m.citation, m.version, m.in_force_from
        );
        if let Some(next) = versions.get(idx + 1) {
            head.push_str(&format!(
                " (replaced by version {} from {})",
                next.version, next.in_force_from
            ));
        }
        head.push_str(&format!("; reaches the shipment: {why}"));
        lines.push(head);
        if let Some(s) = m
            .suspensions
            .iter()
            .find(|s| s.from <= self.date && self.date <= s.until)
        {
            lines.push(format!(
                "  suspended from {} to {} by {}: does not apply on {}",
                s.from, s.until, s.instrument, self.date
            ));
            return MeasureEval {
                applied: None,
                lines,
            };
        }
        if let Some(c) = &m.item {
            let mut leaves = Vec::new();
            let t = self.cond(c, &mut leaves);
            match t {
                Tri::Yes => lines.push(format!("  item caught: {}", leaves.join("; "))),
                Tri::No => {
                    lines.push(format!("  item not caught: {}", leaves.join("; ")));
                    return MeasureEval {
                        applied: None,
                        lines,
                    };
                }
                Tri::Unknown => {
                    lines.push(format!(
                        "  cannot decide whether the item is caught (missing parameters): {}; \
                         treated as not caught — give the missing values with --param",
                        leaves.join("; ")
                    ));
                    return MeasureEval {
                        applied: None,
                        lines,
                    };
                }
            }
        } else {
            lines.push("  applies to every item the jurisdiction reaches".to_string());
        }
        for (i, r) in m.rules.iter().enumerate() {
            let name = r.label.clone().unwrap_or_else(|| format!("rule {}", i + 1));
            if !self.engine.in_dest(&r.destinations, self.to, self.date) {
                continue;
            }
            let mut policy_from_list = None;
            if !r.end_user_lists.is_empty() {
                let on_list = |h: &&Hit| r.end_user_lists.contains(&h.list);
                // An entity listed after the shipment date does not trigger the requirement.
                let listed_by_date = |h: &&Hit| {
                    h.listed_on
                        .as_deref()
                        .and_then(|d| Date::parse(d).ok())
                        .is_none_or(|d| d <= self.date)
                };
                let hit = self.hits.iter().filter(on_list).find(listed_by_date);
                if hit.is_none() {
                    if let Some(h) = self.hits.iter().find(on_list) {
                        lines.push(format!(
                            "  {name}: end user matches `{}` on {} but it is listed only from {} \
                             (after {})",
                            h.entry_name,
                            h.list,
                            h.listed_on.as_deref().unwrap_or("?"),
                            self.date
                        ));
                        continue;
                    }
                }
                match (self.end_user, hit) {
                    (None, _) => continue,
                    (Some(eu), None) => {
                        lines.push(format!(
                            "  {name}: end user `{eu}` is not on {} (no match scoring {} or more)",
                            r.end_user_lists.join(", "),
                            END_USER_THRESHOLD
                        ));
                        continue;
                    }
                    (Some(eu), Some(h)) => {
                        lines.push(format!(
                            "  {name}: end user `{eu}` matches `{}` on {} (score {:.2}; {})",
                            h.entry_name, h.list, h.score, h.citation
                        ));
                        policy_from_list = h.review_policy;
                    }
                }
            }
            if !r.end_uses.is_empty() {
                let ok = self
                    .end_use
                    .is_some_and(|u| r.end_uses.iter().any(|e| e.eq_ignore_ascii_case(u)));
                if !ok {
                    continue;
                }
            }
            if let Some(w) = &r.when {
                let mut leaves = Vec::new();
                if self.cond(w, &mut leaves) != Tri::Yes {
                    lines.push(format!("  {name} does not apply: {}", leaves.join("; ")));
                    continue;
                }
            }
            if let Some(s) = r
                .suspensions
                .iter()
                .find(|s| s.from <= self.date && self.date <= s.until)
            {
                lines.push(format!(
                    "  {name} would apply to {} but is suspended from {} to {} by {} \
                     (does not apply on {})",
                    self.to, s.from, s.until, s.instrument, self.date
                ));
                continue;
            }
            let policy = match r.review_policy {
                Some(PolicySource::Fixed(p)) => Some(p),
                Some(PolicySource::FromList) => {
                    Some(policy_from_list.unwrap_or(ReviewPolicy::PerApplication))
                }
                None => None,
            };
            let mut line = format!(
                "  {name} applies: destination {} ({}) -> {}",
                self.to,
                r.destinations.describe(),
                r.outcome.as_str()
            );
            if let Some(p) = policy {
                line.push_str(&format!(" ({})", p.as_str()));
            }
            if let Some(a) = &r.authorisation {
                line.push_str(&format!(" under {a}"));
            }
            if let Some(n) = &r.note {
                line.push_str(&format!(" — {n}"));
            }
            lines.push(line);
            if matches!(
                r.outcome,
                OutcomeKind::LicenceRequired | OutcomeKind::Prohibited
            ) {
                if let Some(g) = &m.grandfathering {
                    lines.push(format!("  grandfathering: {g}"));
                }
            }
            return MeasureEval {
                applied: Some((r.outcome, policy, r.authorisation.clone())),
                lines,
            };
        }
        lines.push(format!(
            "  no rule of {id} covers destination {} with this end user and end use: \
             no requirement under this measure",
            self.to
        ));
        MeasureEval {
            applied: Some((OutcomeKind::NotRequired, None, None)),
            lines,
        }
    }

    /// Evaluate a predicate. A labelled sub-entry (or the whole item predicate) none of whose
    /// parameters the item has is "not applicable" (false), not "unknown": a gallium shipment has
    /// no wavelength, so lithography entries simply do not describe it.
    fn cond(&self, c: &Cond, leaves: &mut Vec<String>) -> Tri {
        self.cond_at(c, leaves, true)
    }

    /// Whether the item gives any parameter the predicate reads (no allocation: hot path).
    fn any_param_given(&self, c: &Cond) -> bool {
        match c {
            Cond::All(v, _) | Cond::Any(v, _) => v.iter().any(|x| self.any_param_given(x)),
            Cond::Not(x, _) => self.any_param_given(x),
            Cond::Cmp { param, .. } => self.values.contains_key(param),
        }
    }

    fn cond_at(&self, c: &Cond, leaves: &mut Vec<String>, top: bool) -> Tri {
        let label = match c {
            Cond::All(_, l) | Cond::Any(_, l) | Cond::Not(_, l) => l,
            Cond::Cmp { label, .. } => label,
        };
        if (top || label.is_some()) && !self.any_param_given(c) {
            let mut ps = Vec::new();
            c.params(&mut ps);
            {
                ps.sort();
                ps.dedup();
                leaves.push(format!(
                    "{}not applicable (the item has none of {})",
                    label.as_ref().map_or(String::new(), |l| format!("{l}: ")),
                    ps.join(", ")
                ));
                return Tri::No;
            }
        }
        match c {
            Cond::All(v, label) | Cond::Any(v, label) => {
                // Three-valued AND / OR: `absorb` decides at once, Unknown beats `unit`.
                let (unit, absorb) = if matches!(c, Cond::All(..)) {
                    (Tri::Yes, Tri::No)
                } else {
                    (Tri::No, Tri::Yes)
                };
                let mark = leaves.len();
                let mut r = unit;
                for sub in v {
                    match self.cond_at(sub, leaves, false) {
                        t if t == absorb => r = absorb,
                        Tri::Unknown if r == unit => r = Tri::Unknown,
                        _ => {}
                    }
                }
                prefix_label(leaves, mark, label);
                r
            }
            Cond::Not(sub, label) => {
                let mark = leaves.len();
                let r = match self.cond_at(sub, leaves, false) {
                    Tri::Yes => Tri::No,
                    Tri::No => Tri::Yes,
                    Tri::Unknown => Tri::Unknown,
                };
                prefix_label(
                    leaves,
                    mark,
                    &Some(label.clone().unwrap_or_else(|| "not".into())),
                );
                r
            }
            Cond::Cmp {
                param,
                op,
                values,
                label,
            } => {
                use std::fmt::Write as _;
                // One buffer per leaf: this runs for every leaf of every measure considered.
                let mut line = String::with_capacity(96);
                if let Some(l) = label {
                    line.push_str(l);
                    line.push_str(": ");
                }
                line.push_str(param);
                let Some(v) = self.values.get(param) else {
                    if let Some(f) = self.engine.formulas.iter().find(|f| f.name == *param) {
                        let _ = write!(
                            line,
                            " (= {}; needs {})",
                            f.text,
                            f.expr.variables().join(", ")
                        );
                    }
                    let _ = write!(line, " not given, needed for {} ", op.as_str());
                    write_values(&mut line, *op, values);
                    leaves.push(line);
                    return Tri::Unknown;
                };
                let res = compare(v, *op, values);
                let _ = write!(line, " = {v}");
                if self.derived.contains_key(param) {
                    if let Some(f) = self.engine.formulas.iter().find(|f| f.name == *param) {
                        let _ = write!(line, " (derived: {})", f.text);
                    }
                }
                let _ = write!(line, " {} ", op.as_str());
                write_values(&mut line, *op, values);
                line.push_str(match res {
                    Tri::Yes => ": met",
                    Tri::No => ": not met",
                    Tri::Unknown => ": not comparable",
                });
                leaves.push(line);
                res
            }
        }
    }
}

/// Group the leaves a labelled sub-predicate produced under its label ("3B001.f.1.a [...]").
fn prefix_label(leaves: &mut Vec<String>, mark: usize, label: &Option<String>) {
    if let Some(l) = label {
        if mark < leaves.len() {
            let joined = leaves[mark..].join(", ");
            leaves.truncate(mark);
            leaves.push(format!("{l} [{joined}]"));
        }
    }
}

fn write_values(out: &mut String, op: CmpOp, values: &[Value]) {
    use std::fmt::Write as _;
    match op {
        CmpOp::In | CmpOp::NotIn | CmpOp::Prefix if values.len() > 1 => {
            out.push('[');
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{v}");
            }
            out.push(']');
        }
        _ => {
            if let Some(v) = values.first() {
                let _ = write!(out, "{v}");
            }
        }
    }
}

fn compare(v: &Value, op: CmpOp, values: &[Value]) -> Tri {
    let eq = |a: &Value, b: &Value| match (a, b) {
        (Value::Str(x), Value::Str(y)) => x.eq_ignore_ascii_case(y),
        (Value::Num(x), Value::Num(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => a == b,
    };
    let b = |x: bool| if x { Tri::Yes } else { Tri::No };
    match op {
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            let (Some(x), Some(t)) = (v.as_num(), values[0].as_num()) else {
                return Tri::Unknown;
            };
            // Thresholds in the instruments are stated to a few decimals; compare with a tiny
            // tolerance so 35.7142857 <= 45 and 1.50 <= 1.5 behave as written.
            let eps = 1e-9 * t.abs().max(1.0);
            b(match op {
                CmpOp::Lt => x < t - eps,
                CmpOp::Le => x <= t + eps,
                CmpOp::Gt => x > t + eps,
                _ => x >= t - eps,
            })
        }
        CmpOp::Eq => b(eq(v, &values[0])),
        CmpOp::Ne => b(!eq(v, &values[0])),
        CmpOp::In => b(values.iter().any(|x| eq(v, x))),
        CmpOp::NotIn => b(!values.iter().any(|x| eq(v, x))),
        CmpOp::Prefix => match v {
            Value::Str(s) => {
                let s = s.to_ascii_lowercase().replace(['.', ' '], "");
                b(values.iter().any(|p| match p {
                    Value::Str(p) => s.starts_with(&p.to_ascii_lowercase().replace(['.', ' '], "")),
                    _ => false,
                }))
            }
            Value::Num(n) => {
                let s = fmt_num(*n);
                b(values.iter().any(|p| match p {
                    Value::Str(p) => s.starts_with(&p.replace(['.', ' '], "")),
                    _ => false,
                }))
            }
            Value::Bool(_) => Tri::No,
        },
    }
}
