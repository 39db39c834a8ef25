//! Licence determination: given a shipment (item parameters, exporter, destination, origin, end
//! user, end use, date), find every jurisdiction that can reach it, evaluate each of its measures
//! in the version in force on the date, and return one verdict per jurisdiction plus the
//! strictest overall, each with an explanation a licensing officer can check line by line.
//!
//! The work for one shipment goes into a [`Draft`]: every explanation line is a span of one text
//! buffer, and the item is resolved (and its predicates judged) in an [`ItemEval`]. A draft is
//! turned into the public [`Determination`] (`determine`), or written as a JSON line straight
//! from its buffers (batch mode, see `crate::batch`); both come from the same evaluation, so they
//! say the same thing. Text that depends only on the data (measure headings, destination
//! descriptions, parameter lists) is rendered once when the engine is built.

use crate::catalogue::Catalogue;
use crate::date::Date;
use crate::lists::parties::{Party, PartyRole, PartyScreening};
use crate::measure::{
    compile, CmpOp, Cond, Dest, Formula, Group, Measure, OutcomeKind, PolicySource, ReviewPolicy,
};
use crate::screening::{Hit, ListInfo, Screener};
use crate::value::{fmt_num, push_num, push_value, Value};
use crate::ControlsError;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::ops::Range;

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

/// Parameters that classify an item or say which law reaches it, but do not describe it: an item
/// given only by these is not known to fall outside a measure defined by technical parameters.
pub const NON_DESCRIPTIVE_PARAMETERS: &[&str] = &[
    "eccn",
    "eu_entry",
    "hs_code",
    "us_content_pct",
    "us_direct_product",
    "us_direct_product_sme",
];

/// Classification codes: where a predicate reads one the item gives, that code decides (an item
/// classified `EAR99` is not a 3A090 item, whatever technical values are missing).
pub const CLASSIFICATION_PARAMETERS: &[&str] = &["eccn", "eu_entry", "hs_code"];

/// Parameters that describe a party, not the item: like an end use, a fact about the end user
/// that the user did not declare is taken as absent (a rule on end users headquartered in D:5
/// does not apply unless `end_user_hq` is given), and the explanation says so.
pub const PARTY_PARAMETERS: &[&str] = &["end_user_hq"];

/// End uses a user may declare besides those the measures name: `civil` states that no
/// restricted end use applies (it matches no end-use rule).
pub const STANDARD_END_USES: &[&str] = &["civil"];

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
    /// The other parties (purchaser, intermediate consignees, consignee, exporter): each is
    /// screened, and a listed party other than the exporter triggers a list-based rule as a
    /// listed end user does (the Entity List applies when a listed entity is a party).
    pub parties: Vec<Party>,
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
    /// For `undetermined`: the parameters whose values would decide (give them with `--param`).
    pub missing_parameters: Vec<String>,
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
    /// Jurisdictions whose verdict is `undetermined` (even when a stricter verdict decides
    /// `outcome`, these still have to be resolved).
    pub undetermined: Vec<String>,
    /// Every parameter an undetermined verdict waits on.
    pub missing_parameters: Vec<String>,
    pub not_reached: Vec<String>,
}

/// Which rules and lists a determination used: digests of the control data, the product
/// catalogue and the screening lists, with each list's provenance and size.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RuleSet {
    /// SHA-256 over the three digests below: the rule-set version to cite.
    pub version: String,
    /// SHA-256 of the control measure files (name and text, in name order).
    pub controls_digest: String,
    pub measure_files: usize,
    /// SHA-256 of the product catalogue as loaded.
    pub catalogue_digest: String,
    /// SHA-256 of the screening lists as loaded.
    pub lists_digest: String,
    /// Provenance of each screening list: name, source, publication date, whether it is a
    /// partial extract, rows and entries.
    pub lists: Vec<ListInfo>,
    /// Entries over all lists.
    pub list_entries: usize,
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
    /// Screening of [`Shipment::parties`], party by party with its role.
    pub party_screening: Vec<PartyScreening>,
    pub verdicts: Vec<Verdict>,
    pub overall: Overall,
    pub ruleset: RuleSet,
}

/// Order of strictness: prohibited > licence (denial > per application > case by case >
/// approval) > undetermined > exception with notification > general authorisation > not
/// required. An undetermined measure outranks every answer that would let the goods go without
/// a licence, so the overall verdict is at least `undetermined`; a known licence requirement or
/// prohibition still stops the shipment, and `overall.undetermined` keeps the open questions.
pub fn strictness(o: OutcomeKind, p: Option<ReviewPolicy>) -> u8 {
    match o {
        OutcomeKind::NotRequired => 0,
        OutcomeKind::GeneralAuthorisation => 10,
        OutcomeKind::ExceptionWithNotification => 20,
        OutcomeKind::Undetermined => 25,
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
    /// Per formula: its input names joined with ", " (for "needs ..." in explanations).
    formula_needs: Vec<String>,
    known_params: BTreeSet<String>,
    /// Per measure version (parallel to `measures`): explanation text fixed by the data.
    prepared: Vec<Prepared>,
    /// Jurisdictions of the measures, sorted, deduplicated: [`Prepared::jur`] numbers them.
    jurisdictions: Vec<String>,
    /// `groups` in key order, memberships indexed by country code (see [`DestIx`]).
    group_ix: Vec<GroupIx>,
    /// Number of predicate slots (item predicates and rule conditions) an [`ItemEval`] memoises.
    cond_slots: usize,
    /// Parameters that do not describe an item (see [`NON_DESCRIPTIVE_PARAMETERS`]; plus every
    /// measure's reach parameters).
    non_descriptive: BTreeSet<String>,
    /// End uses a shipment may declare: those the rules name and [`STANDARD_END_USES`].
    end_uses: BTreeSet<String>,
    /// Digest of the control files (kept to recompute the rule set when the lists change).
    controls_digest: (String, usize),
    ruleset: RuleSet,
    /// `ruleset` as JSON, for batch output.
    ruleset_json: Vec<u8>,
    catalogue: Catalogue,
    screener: Screener,
}

/// Explanation text of one measure version that depends only on the data, rendered once.
#[derive(Debug, Clone)]
struct Prepared {
    /// Number of the measure's jurisdiction in `Engine::jurisdictions`.
    jur: usize,
    /// "ID (instrument; citation), version V in force since D[ (replaced by ...)]; reaches the
    /// shipment: " (the reason follows).
    head: String,
    /// `reach.exporters` described, and indexed.
    exporters: String,
    exporters_ix: Option<DestIx>,
    /// `reach.origins` joined with "/".
    origins: String,
    /// The verdict fields this version fills when it decides, as JSON:
    /// `,"measure_id":..,"instrument":..,"version":..,"citation":..`.
    verdict_json: Vec<u8>,
    /// The item predicate's parameters and formulas, and its memo slot in an [`ItemEval`].
    item: Option<CondInfo>,
    item_slot: usize,
    rules: Vec<RuleText>,
}

#[derive(Debug, Clone)]
struct RuleText {
    /// The label, or "rule N".
    name: String,
    /// `destinations` described, and indexed.
    dest: String,
    dest_ix: DestIx,
    /// `end_user_lists` joined with ", ".
    lists: String,
    when: Option<CondInfo>,
    when_slot: usize,
}

/// A country code packed into a number. Destination tests run for every rule of every measure of
/// every shipment; comparing integers instead of strings made them several times cheaper.
/// Normalised codes are three ASCII letters; anything else packs to `u32::MAX`.
fn code(s: &str) -> u32 {
    match s.as_bytes() {
        [a, b, c] => u32::from_be_bytes([0, *a, *b, *c]),
        _ => u32::MAX,
    }
}

/// A country group's dated memberships, sorted by country code.
#[derive(Debug, Clone, Default)]
struct GroupIx {
    members: Vec<(u32, Option<Date>, Option<Date>)>,
}

impl GroupIx {
    fn new(g: &Group) -> GroupIx {
        let mut members: Vec<_> = g
            .members
            .iter()
            .map(|m| (code(&m.country), m.from, m.until))
            .collect();
        members.sort_by_key(|m| m.0);
        GroupIx { members }
    }

    /// As [`Group::contains`].
    fn contains(&self, country: u32, date: Date) -> bool {
        let i = self.members.partition_point(|m| m.0 < country);
        self.members[i..]
            .iter()
            .take_while(|m| m.0 == country)
            .any(|m| m.1.is_none_or(|f| f <= date) && m.2.is_none_or(|u| date <= u))
    }
}

/// A [`Dest`] with packed country codes and group names resolved to indices of
/// `Engine::group_ix` (an unknown name, which the engine's checks rule out, resolves to an
/// empty group, as [`Engine::in_group`] treats it).
#[derive(Debug, Clone, Default)]
struct DestIx {
    all: bool,
    countries: Vec<u32>,
    groups: Vec<usize>,
    outside: Option<usize>,
    except_countries: Vec<u32>,
    except_groups: Vec<usize>,
}

impl DestIx {
    fn new(d: &Dest, groups: &BTreeMap<String, Group>) -> DestIx {
        let ix = |g: &String| groups.keys().position(|k| k == g).unwrap_or(groups.len());
        DestIx {
            all: d.all,
            countries: d.countries.iter().map(|c| code(c)).collect(),
            groups: d.groups.iter().map(ix).collect(),
            outside: d.outside.as_ref().map(ix),
            except_countries: d.except_countries.iter().map(|c| code(c)).collect(),
            except_groups: d.except_groups.iter().map(ix).collect(),
        }
    }
}

/// Mirrors a [`Cond`] tree node by node: the parameters the node reads (sorted, deduplicated,
/// joined: the "not applicable" text) and, for a leaf on a derived parameter, its formula.
#[derive(Debug, Clone)]
struct CondInfo {
    none_of: String,
    formula: Option<usize>,
    children: Vec<CondInfo>,
}

impl CondInfo {
    fn new(c: &Cond, formulas: &[Formula]) -> CondInfo {
        let mut ps = Vec::new();
        c.params(&mut ps);
        ps.sort();
        ps.dedup();
        let (children, formula) = match c {
            Cond::All(v, _) | Cond::Any(v, _) => {
                (v.iter().map(|x| CondInfo::new(x, formulas)).collect(), None)
            }
            Cond::Not(x, _) => (vec![CondInfo::new(x, formulas)], None),
            Cond::Cmp { param, .. } => (Vec::new(), formulas.iter().position(|f| f.name == *param)),
        };
        CondInfo {
            none_of: ps.join(", "),
            formula,
            children,
        }
    }
}

/// Outcome, review policy and authorisation a measure applied.
type Applied<'e> = (OutcomeKind, Option<ReviewPolicy>, Option<&'e str>);

/// A byte range of a draft's text buffer.
pub(crate) type Span = Range<usize>;

impl Engine {
    /// Build from data files given as (file name, text); the order of files does not matter.
    pub fn from_sources(
        files: &[(&str, &str)],
        catalogue: Catalogue,
        screener: Screener,
    ) -> Result<Engine, ControlsError> {
        let controls_digest = {
            let mut sorted: Vec<&(&str, &str)> = files.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(b.0).then(a.1.cmp(b.1)));
            let mut h = Sha256::new();
            for (name, text) in &sorted {
                h.update(name.as_bytes());
                h.update([0]);
                h.update(text.as_bytes());
                h.update([0]);
            }
            (hex(&h.finalize()), files.len())
        };
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
        let mut non_descriptive: BTreeSet<String> = NON_DESCRIPTIVE_PARAMETERS
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut end_uses: BTreeSet<String> =
            STANDARD_END_USES.iter().map(|s| s.to_string()).collect();
        for m in &measures {
            non_descriptive.insert(m.reach.de_minimis_param.clone());
            non_descriptive.extend(m.reach.fdp_param.clone());
            for r in &m.rules {
                end_uses.extend(r.end_uses.iter().map(|u| u.to_ascii_lowercase()));
            }
        }
        let formula_needs = formulas
            .iter()
            .map(|f| f.expr.variables().join(", "))
            .collect();
        let mut jurisdictions: Vec<String> =
            measures.iter().map(|m| m.jurisdiction.clone()).collect();
        jurisdictions.sort();
        jurisdictions.dedup();
        let (prepared, cond_slots) = prepare(&measures, &by_id, &formulas, &groups, &jurisdictions);
        // One empty group past the end stands for unknown names (see `DestIx`).
        let group_ix = groups
            .values()
            .map(GroupIx::new)
            .chain([GroupIx::default()])
            .collect();
        let mut e = Engine {
            measures,
            by_id,
            groups,
            formulas,
            formula_needs,
            known_params,
            jurisdictions,
            prepared,
            group_ix,
            cond_slots,
            non_descriptive,
            end_uses,
            controls_digest,
            ruleset: RuleSet {
                version: String::new(),
                controls_digest: String::new(),
                measure_files: 0,
                catalogue_digest: String::new(),
                lists_digest: String::new(),
                lists: Vec::new(),
                list_entries: 0,
            },
            ruleset_json: Vec::new(),
            catalogue,
            screener,
        };
        e.stamp()?;
        Ok(e)
    }

    /// Recompute the rule set (digests and list provenance) from what is loaded.
    fn stamp(&mut self) -> Result<(), ControlsError> {
        let catalogue_digest = {
            let mut h = Sha256::new();
            h.update(serde_json::to_vec(self.catalogue.products())?);
            hex(&h.finalize())
        };
        let lists_digest = {
            let mut h = Sha256::new();
            h.update(serde_json::to_vec(self.screener.metas())?);
            h.update([0]);
            h.update(serde_json::to_vec(self.screener.entries())?);
            hex(&h.finalize())
        };
        let mut h = Sha256::new();
        for d in [&self.controls_digest.0, &catalogue_digest, &lists_digest] {
            h.update(d.as_bytes());
            h.update([0]);
        }
        self.ruleset = RuleSet {
            version: hex(&h.finalize()),
            controls_digest: self.controls_digest.0.clone(),
            measure_files: self.controls_digest.1,
            catalogue_digest,
            lists_digest,
            lists: self
                .screener
                .lists()
                .iter()
                .map(|l| (**l).clone())
                .collect(),
            list_entries: self.screener.entries().len(),
        };
        self.ruleset_json = serde_json::to_vec(&self.ruleset)?;
        Ok(())
    }

    /// The rule set every determination of this engine names.
    pub fn ruleset(&self) -> &RuleSet {
        &self.ruleset
    }

    pub(crate) fn ruleset_json(&self) -> &[u8] {
        &self.ruleset_json
    }

    /// Screen the shipment's other parties (see [`Shipment::parties`]).
    pub(crate) fn screen_parties(&self, s: &Shipment) -> Vec<PartyScreening> {
        if s.parties.is_empty() {
            return Vec::new();
        }
        self.screener
            .screen_parties(&s.parties, END_USER_THRESHOLD, Some(s.date))
    }

    /// End uses a shipment may declare.
    pub fn end_uses(&self) -> &BTreeSet<String> {
        &self.end_uses
    }

    /// Check what a shipment declares beyond its countries: the end use must be one the rules
    /// know (an unknown end use would silently match no end-use rule).
    pub(crate) fn check_end_use(&self, s: &Shipment) -> Result<(), ControlsError> {
        let Some(u) = s
            .end_use
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        else {
            return Ok(());
        };
        if self.end_uses.contains(&u.to_ascii_lowercase()) {
            return Ok(());
        }
        Err(ControlsError::UnknownEndUse {
            value: u.to_string(),
            suggestions: suggest(u, self.end_uses.iter()),
            known: self.end_uses.iter().cloned().collect::<Vec<_>>().join(", "),
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
        // Serialising what was just loaded cannot fail (plain strings and numbers).
        let _ = self.stamp();
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

    /// [`Engine::in_dest`] on the indexed form.
    fn in_dest_ix(&self, d: &DestIx, country: u32, date: Date) -> bool {
        let in_group = |g: usize| self.group_ix[g].contains(country, date);
        let inside = d.all
            || d.countries.contains(&country)
            || d.groups.iter().any(|&g| in_group(g))
            || d.outside.is_some_and(|g| !in_group(g));
        inside
            && !d.except_countries.contains(&country)
            && !d.except_groups.iter().any(|&g| in_group(g))
    }

    /// Resolve the item: catalogue values, overrides, derived values.
    pub fn resolve_item(
        &self,
        product: Option<&str>,
        overrides: &BTreeMap<String, Value>,
    ) -> Result<(ItemReport, BTreeMap<String, Value>), ControlsError> {
        ItemEval::resolve(self, product, overrides).map(|i| (i.report, i.values))
    }

    /// Determine many shipments (batch mode): end users are screened once per distinct name and
    /// an item that rows repeat is resolved at most twice (see [`crate::batch::Batch`]).
    pub fn determine_batch(
        &self,
        shipments: &[Shipment],
    ) -> Vec<Result<Determination, ControlsError>> {
        let mut b = crate::batch::Batch::new(self);
        shipments.iter().map(|s| b.determine(s)).collect()
    }

    /// Determine one shipment.
    pub fn determine(&self, s: &Shipment) -> Result<Determination, ControlsError> {
        let hits = match &s.end_user {
            Some(n) if !n.trim().is_empty() => self.screener.screen(n, END_USER_THRESHOLD),
            _ => Vec::new(),
        };
        let mut d = Draft::default();
        d.start(s)?;
        self.check_end_use(s)?;
        let item = ItemEval::resolve(self, s.product.as_deref(), &s.params)?;
        let parties = self.screen_parties(s);
        self.fill(s, &item, &hits, &parties, &mut d);
        Ok(d.to_determination(self, s, &item, hits, parties))
    }

    /// Evaluate every measure for a shipment whose countries `d.start` has normalised: the
    /// verdicts, their explanation lines and the jurisdictions not reached go into `d`.
    pub(crate) fn fill<'e>(
        &'e self,
        s: &Shipment,
        item: &ItemEval,
        hits: &[Hit],
        parties: &[PartyScreening],
        d: &mut Draft<'e>,
    ) {
        // The catalogue's origin counts when the user gave none.
        if d.origin.is_none() {
            if let Some(o) = &item.origin {
                d.origin = Some(push_span(&mut d.ids, o));
            }
        }
        let Draft {
            ids,
            from,
            to,
            origin,
            out,
        } = d;
        let cx = EvalCtx {
            engine: self,
            date: s.date,
            from: &ids[from.clone()],
            to: &ids[to.clone()],
            from_code: code(&ids[from.clone()]),
            to_code: code(&ids[to.clone()]),
            origin: origin.clone().map(|r| &ids[r]),
            end_user: s.end_user.as_deref(),
            end_use: s.end_use.as_deref(),
            item,
            hits,
            parties,
        };
        out.clear(self.jurisdictions.len());

        // Which jurisdictions reach the shipment, measure by measure (reasons go to `scratch`).
        // Jurisdictions of measures are numbered (`self.jurisdictions`, sorted by name).
        for (bi, (_, range)) in self.by_id.iter().enumerate() {
            let versions = &self.measures[range.clone()];
            let ci = range.start
                + versions
                    .iter()
                    .rposition(|m| m.in_force_from <= s.date)
                    .unwrap_or(0);
            let p = &self.prepared[ci];
            let start = out.scratch.len();
            if cx.reach(&self.measures[ci], p, &mut out.scratch) {
                out.reached.push((bi, ci, start..out.scratch.len()));
                out.jur_reached[p.jur] = true;
                continue;
            }
            if cx.reach_undecided(&self.measures[ci], p) {
                out.reach_unknown.push((bi, ci));
                out.jur_reached[p.jur] = true;
                continue;
            }
            if out.unreached[p.jur].is_none() {
                // The first measure (by id) of a jurisdiction gives the reason it is not reached.
                cx.why_not_reached(&self.measures[ci], p, &mut out.scratch);
                out.unreached[p.jur] = Some(start..out.scratch.len());
            }
        }
        // The verdicts: every jurisdiction reached, plus those of the exporter and the origin,
        // by name; (name, number if it has measures).
        let number = |c: &str| {
            self.jurisdictions
                .binary_search_by(|j| j.as_str().cmp(c))
                .ok()
        };
        let mut jurisdictions: Vec<(&str, Option<usize>)> = self
            .jurisdictions
            .iter()
            .enumerate()
            .filter(|&(ji, _)| out.jur_reached[ji])
            .map(|(ji, j)| (j.as_str(), Some(ji)))
            .collect();
        jurisdictions.push((cx.from, number(cx.from)));
        // The origin's own verdict only where chipwatch encodes its measures: few countries
        // control re-exports of their goods, and those that do are encoded (see `not_reached`
        // below for the others).
        jurisdictions.extend(
            cx.origin
                .filter(|&o| o != cx.from)
                .and_then(|o| number(o).map(|n| (o, Some(n)))),
        );
        jurisdictions.sort_unstable_by(|a, b| a.0.cmp(b.0));
        jurisdictions.dedup_by(|a, b| a.0 == b.0);

        for &(j, ji) in &jurisdictions {
            let jurisdiction = push_span(&mut out.text, j);
            let first_line = out.lines.len();
            let first_missing = out.missing.len();
            let mut best: Option<(u8, usize, Applied<'e>)> = None;
            let mut unencoded = false;
            if let Some(ji) = ji.filter(|&ji| out.jur_reached[ji]) {
                for k in 0..out.reached.len() {
                    let (bi, ci, ref why) = out.reached[k];
                    if self.prepared[ci].jur != ji {
                        continue;
                    }
                    let why = &out.scratch[why.clone()];
                    if let Some(a) =
                        cx.evaluate(bi, why, &mut out.text, &mut out.lines, &mut out.missing)
                    {
                        let rank = strictness(a.0, a.1);
                        if best.as_ref().is_none_or(|(r, _, _)| rank > *r) {
                            // `measures[ci]` is the version in force on the date (or the first
                            // one, which then applies nothing).
                            best = Some((rank, ci, a));
                        }
                    }
                }
                for k in 0..out.reach_unknown.len() {
                    let (bi, ci) = out.reach_unknown[k];
                    if self.prepared[ci].jur != ji {
                        continue;
                    }
                    // Evaluated as if reached: only a requirement it would impose makes the
                    // verdict undetermined; "nothing required even if reached" settles it.
                    let m = &self.measures[ci];
                    let why = format!(
                        "possibly — {} (content subject to this jurisdiction; de minimis level \
                         {}%) is not given",
                        m.reach.de_minimis_param,
                        fmt_num(m.reach.de_minimis_pct.unwrap_or(0.0)),
                    );
                    let first_missing = out.missing.len();
                    let Some(a) =
                        cx.evaluate(bi, &why, &mut out.text, &mut out.lines, &mut out.missing)
                    else {
                        continue;
                    };
                    if a.0 == OutcomeKind::NotRequired {
                        continue;
                    }
                    out.missing.truncate(first_missing);
                    out.missing.push(m.reach.de_minimis_param.clone());
                    let line = out.text.len();
                    let _ = write!(
                        out.text,
                        "  {}: undetermined — it would require {} if it reaches the shipment; \
                         give {} (and {} = true/false) with --param to decide",
                        m.id,
                        a.0.as_str(),
                        m.reach.de_minimis_param,
                        m.reach.fdp_param.as_deref().unwrap_or("us_direct_product")
                    );
                    out.lines.push(line..out.text.len());
                    let a: Applied<'e> = (OutcomeKind::Undetermined, None, None);
                    let rank = strictness(a.0, a.1);
                    if best.as_ref().is_none_or(|(r, _, _)| rank > *r) {
                        best = Some((rank, ci, a));
                    }
                }
            } else {
                let start = out.text.len();
                out.text.push_str(j);
                match ji.and_then(|ji| out.unreached[ji].clone()) {
                    Some(w) => {
                        out.text
                            .push_str(": its measures do not reach this shipment (");
                        out.text.push_str(&out.scratch[w]);
                        out.text.push(')');
                    }
                    None => {
                        unencoded = true;
                        out.text.push_str(
                            ": no measure of this jurisdiction is encoded in chipwatch's data, \
                             so its requirements are not assessed: undetermined (check its \
                             national control list; see docs/controls.md, what chipwatch does \
                             not model)",
                        )
                    }
                }
                out.lines.push(start..out.text.len());
            }
            let lines = first_line..out.lines.len();
            let undetermined = unencoded
                || best
                    .as_ref()
                    .is_some_and(|b| b.2 .0 == OutcomeKind::Undetermined);
            if !undetermined {
                out.missing.truncate(first_missing);
            } else {
                out.missing[first_missing..].sort();
                let mut seen = BTreeSet::new();
                let mut keep = first_missing;
                for i in first_missing..out.missing.len() {
                    if seen.insert(out.missing[i].clone()) {
                        out.missing.swap(keep, i);
                        keep += 1;
                    }
                }
                out.missing.truncate(keep);
            }
            let missing = first_missing..out.missing.len();
            if unencoded {
                out.verdicts.push(VerdictDraft {
                    jurisdiction,
                    outcome: OutcomeKind::Undetermined,
                    review_policy: None,
                    authorisation: None,
                    measure: None,
                    lines,
                    missing,
                });
                continue;
            }
            out.verdicts.push(match best {
                Some((_, ci, (outcome, review_policy, authorisation))) => VerdictDraft {
                    jurisdiction,
                    outcome,
                    review_policy,
                    authorisation,
                    // An undetermined verdict names no measure as deciding it; its
                    // explanation names the measures waiting on values.
                    measure: (outcome != OutcomeKind::Undetermined).then(|| {
                        (
                            &self.measures[ci],
                            self.prepared[ci].verdict_json.as_slice(),
                        )
                    }),
                    lines,
                    missing,
                },
                None => VerdictDraft {
                    jurisdiction,
                    outcome: OutcomeKind::NotRequired,
                    review_policy: None,
                    authorisation: None,
                    measure: None,
                    lines,
                    missing,
                },
            });
        }
        if let Some(o) = cx.origin.filter(|&o| o != cx.from && number(o).is_none()) {
            let start = out.text.len();
            let _ = write!(
                out.text,
                "{o} (origin): no measure of this jurisdiction is encoded; whether it controls \
                 re-exports of its goods is not assessed"
            );
            out.not_reached.push(start..out.text.len());
        }
        for (ji, j) in self.jurisdictions.iter().enumerate() {
            let Some(w) = out.unreached[ji].clone() else {
                continue;
            };
            if jurisdictions.iter().any(|&(_, x)| x == Some(ji)) {
                continue;
            }
            let start = out.text.len();
            out.text.push_str(j);
            out.text.push_str(": not reached (");
            out.text.push_str(&out.scratch[w]);
            out.text.push(')');
            out.not_reached.push(start..out.text.len());
        }
    }
}

/// Render the data-only explanation text of every measure version and number the predicate
/// slots an [`ItemEval`] memoises (one per item predicate, one per rule condition).
fn prepare(
    measures: &[Measure],
    by_id: &[(String, Range<usize>)],
    formulas: &[Formula],
    groups: &BTreeMap<String, Group>,
    jurisdictions: &[String],
) -> (Vec<Prepared>, usize) {
    let mut slots = 0;
    let mut out = Vec::with_capacity(measures.len());
    for (id, range) in by_id {
        let versions = &measures[range.clone()];
        for (idx, m) in versions.iter().enumerate() {
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
            head.push_str("; reaches the shipment: ");
            let item_slot = slots;
            slots += 1;
            let rules = m
                .rules
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    slots += 1;
                    RuleText {
                        name: r.label.clone().unwrap_or_else(|| format!("rule {}", i + 1)),
                        dest: r.destinations.describe(),
                        dest_ix: DestIx::new(&r.destinations, groups),
                        lists: r.end_user_lists.join(", "),
                        when: r.when.as_ref().map(|c| CondInfo::new(c, formulas)),
                        when_slot: slots - 1,
                    }
                })
                .collect();
            let mut verdict_json = Vec::new();
            for (key, v) in [
                ("measure_id", &m.id),
                ("instrument", &m.instrument),
                ("version", &m.version),
                ("citation", &m.citation),
            ] {
                verdict_json.extend_from_slice(b",\"");
                verdict_json.extend_from_slice(key.as_bytes());
                verdict_json.extend_from_slice(b"\":");
                crate::json::push_str(&mut verdict_json, v);
            }
            out.push(Prepared {
                verdict_json,
                jur: jurisdictions
                    .binary_search(&m.jurisdiction)
                    .unwrap_or_default(),
                head,
                exporters: m
                    .reach
                    .exporters
                    .as_ref()
                    .map_or(String::new(), Dest::describe),
                exporters_ix: m.reach.exporters.as_ref().map(|d| DestIx::new(d, groups)),
                origins: m.reach.origins.join("/"),
                item: m.item.as_ref().map(|c| CondInfo::new(c, formulas)),
                item_slot,
                rules,
            });
        }
    }
    (out, slots)
}

/// The item of a shipment, resolved: catalogue values with overrides, derived values, and (on
/// first use) how each item predicate and rule condition of each measure version judges it, with
/// the explanation text. None of this depends on route, date or end user, so batch mode keeps
/// one per distinct (product, parameters) and shares it between the rows that repeat the item.
#[derive(Debug)]
pub(crate) struct ItemEval {
    pub report: ItemReport,
    pub values: BTreeMap<String, Value>,
    /// The catalogue's country of origin of the product.
    pub origin: Option<String>,
    /// Whether the item gives a parameter that describes it (not only classification codes or
    /// reach parameters): only then is a measure defined by other parameters "not applicable".
    pub descriptive: bool,
    /// Per predicate slot (see [`Prepared`]): the verdict and its rendered leaves.
    conds: Vec<OnceCell<(Tri, String)>>,
    /// `report` as JSON, for batch output.
    json: OnceCell<Vec<u8>>,
}

impl ItemEval {
    pub(crate) fn resolve(
        engine: &Engine,
        product: Option<&str>,
        overrides: &BTreeMap<String, Value>,
    ) -> Result<ItemEval, ControlsError> {
        let mut params = BTreeMap::new();
        let (mut pname, mut psource, mut porigin) = (None, None, None);
        if let Some(q) = product {
            let p = engine.catalogue.find(q)?;
            params.extend(p.parameters.clone());
            pname = Some(p.name.clone());
            psource = Some(p.source.clone());
            porigin = p.origin.clone();
        }
        for (k, v) in overrides {
            // A misspelt name would be ignored by every measure and could turn a licence
            // requirement into "not required": refuse it.
            if !engine.known_params.contains(k) {
                return Err(ControlsError::UnknownParameter {
                    name: k.clone(),
                    suggestions: suggest(k, engine.known_params.iter()),
                });
            }
            params.insert(k.clone(), v.clone());
        }
        let mut values = params.clone();
        let mut derived = BTreeMap::new();
        for f in &engine.formulas {
            if values.contains_key(&f.name) {
                continue;
            }
            if let Some(v) = f.expr.eval_opt(&values) {
                derived.insert(f.name.clone(), v);
                values.insert(f.name.clone(), Value::Num(v));
            }
        }
        let unknown_parameters = params
            .keys()
            .filter(|k| !engine.known_params.contains(*k))
            .cloned()
            .collect();
        let descriptive = values
            .keys()
            .any(|k| engine.known_params.contains(k) && !engine.non_descriptive.contains(k));
        Ok(ItemEval {
            report: ItemReport {
                product: pname,
                product_source: psource,
                parameters: params,
                derived,
                unknown_parameters,
            },
            values,
            origin: porigin,
            descriptive,
            conds: (0..engine.cond_slots).map(|_| OnceCell::new()).collect(),
            json: OnceCell::new(),
        })
    }

    /// The item report as JSON (serialised once per item).
    pub(crate) fn report_json(&self) -> Result<&[u8], ControlsError> {
        if let Some(j) = self.json.get() {
            return Ok(j);
        }
        let j = serde_json::to_vec(&self.report)?;
        Ok(self.json.get_or_init(|| j))
    }
}

/// One verdict of a [`Draft`].
#[derive(Debug)]
pub(crate) struct VerdictDraft<'e> {
    /// Span of the draft's text.
    pub jurisdiction: Span,
    pub outcome: OutcomeKind,
    pub review_policy: Option<ReviewPolicy>,
    pub authorisation: Option<&'e str>,
    /// The version whose rule decided (measure id, instrument, version, citation), and those
    /// fields as JSON (see [`Prepared`]).
    pub measure: Option<(&'e Measure, &'e [u8])>,
    /// Range of the draft's `lines`.
    pub lines: Range<usize>,
    /// Range of the draft's `missing` (sorted, distinct): the values an undetermined verdict
    /// waits on.
    pub missing: Range<usize>,
}

/// A determination under construction; reused from shipment to shipment, so once its buffers
/// have grown a determination allocates next to nothing.
#[derive(Debug, Default)]
pub(crate) struct Draft<'e> {
    /// Normalised from, to and origin (spans below).
    pub ids: String,
    pub from: Span,
    pub to: Span,
    pub origin: Option<Span>,
    pub out: DraftOut<'e>,
}

#[derive(Debug, Default)]
pub(crate) struct DraftOut<'e> {
    /// Explanation lines, jurisdiction names, not-reached entries.
    pub text: String,
    /// Explanation lines of all verdicts in order (spans of `text`).
    pub lines: Vec<Span>,
    pub verdicts: Vec<VerdictDraft<'e>>,
    /// `overall.not_reached` (spans of `text`).
    pub not_reached: Vec<Span>,
    /// Missing parameter names of all verdicts (see [`VerdictDraft::missing`]).
    pub missing: Vec<String>,
    /// Reasons a measure reaches, or its jurisdiction is not reached.
    scratch: String,
    /// (index of `by_id`, measure version, reason in `scratch`), in id order.
    reached: Vec<(usize, usize, Span)>,
    /// Per jurisdiction number: whether a measure reaches (or may reach) the shipment.
    jur_reached: Vec<bool>,
    /// Measure versions that may reach the shipment through content the user did not state.
    reach_unknown: Vec<(usize, usize)>,
    /// Per jurisdiction number: why its first measure (by id) does not reach it (in `scratch`).
    unreached: Vec<Option<Span>>,
}

impl DraftOut<'_> {
    /// Empty, for an engine with `jurisdictions` numbered jurisdictions.
    fn clear(&mut self, jurisdictions: usize) {
        self.text.clear();
        self.lines.clear();
        self.verdicts.clear();
        self.not_reached.clear();
        self.missing.clear();
        self.scratch.clear();
        self.reached.clear();
        self.reach_unknown.clear();
        self.jur_reached.clear();
        self.jur_reached.resize(jurisdictions, false);
        self.unreached.clear();
        self.unreached.resize(jurisdictions, None);
    }

    /// Strictness of the strictest verdict: the overall verdict is the first verdict of that
    /// strictness, and `overall.jurisdictions` lists them all.
    pub(crate) fn top(&self) -> u8 {
        self.verdicts
            .iter()
            .map(|v| strictness(v.outcome, v.review_policy))
            .max()
            .unwrap_or(0)
    }

    /// The verdicts that are undetermined.
    pub(crate) fn undetermined(&self) -> impl Iterator<Item = &VerdictDraft<'_>> {
        self.verdicts
            .iter()
            .filter(|v| v.outcome == OutcomeKind::Undetermined)
    }

    /// Every missing parameter, sorted, distinct.
    pub(crate) fn all_missing(&self) -> Vec<String> {
        let mut v = self.missing.clone();
        v.sort();
        v.dedup();
        v
    }

    pub(crate) fn winners(&self) -> impl Iterator<Item = &VerdictDraft<'_>> {
        let top = self.top();
        self.verdicts
            .iter()
            .filter(move |v| strictness(v.outcome, v.review_policy) == top)
    }
}

impl<'e> Draft<'e> {
    /// Normalise from, to and origin (the checks that come before the item is resolved).
    pub(crate) fn start(&mut self, s: &Shipment) -> Result<(), ControlsError> {
        self.ids.clear();
        self.from = push_country(&mut self.ids, "from", &s.from)?;
        self.to = push_country(&mut self.ids, "to", &s.to)?;
        self.origin = match &s.origin {
            None => None,
            Some(o) => Some(push_country(&mut self.ids, "origin", o)?),
        };
        Ok(())
    }

    /// The public form (owned strings).
    pub(crate) fn to_determination(
        &self,
        engine: &Engine,
        s: &Shipment,
        item: &ItemEval,
        hits: Vec<Hit>,
        parties: Vec<PartyScreening>,
    ) -> Determination {
        let o = &self.out;
        let t = |r: &Span| o.text[r.clone()].to_string();
        let verdicts: Vec<Verdict> = o
            .verdicts
            .iter()
            .map(|v| Verdict {
                jurisdiction: t(&v.jurisdiction),
                outcome: v.outcome,
                review_policy: v.review_policy,
                authorisation: v.authorisation.map(str::to_string),
                measure_id: v.measure.map(|(m, _)| m.id.clone()),
                instrument: v.measure.map(|(m, _)| m.instrument.clone()),
                version: v.measure.map(|(m, _)| m.version.clone()),
                citation: v.measure.map(|(m, _)| m.citation.clone()),
                missing_parameters: o.missing[v.missing.clone()].to_vec(),
                explanation: o.lines[v.lines.clone()].iter().map(t).collect(),
            })
            .collect();
        let first = o.winners().next();
        let overall = Overall {
            outcome: first.map_or(OutcomeKind::NotRequired, |v| v.outcome),
            review_policy: first.and_then(|v| v.review_policy),
            authorisation: first.and_then(|v| v.authorisation.map(str::to_string)),
            jurisdictions: o.winners().map(|v| t(&v.jurisdiction)).collect(),
            measure_ids: o
                .winners()
                .filter_map(|v| v.measure.map(|(m, _)| m.id.clone()))
                .collect(),
            undetermined: o.undetermined().map(|v| t(&v.jurisdiction)).collect(),
            missing_parameters: o.all_missing(),
            not_reached: o.not_reached.iter().map(t).collect(),
        };
        Determination {
            date: s.date,
            from: self.ids[self.from.clone()].to_string(),
            to: self.ids[self.to.clone()].to_string(),
            origin: self.origin.clone().map(|r| self.ids[r].to_string()),
            end_user: s.end_user.clone(),
            end_use: s.end_use.clone(),
            item: item.report.clone(),
            end_user_screening: hits,
            party_screening: parties,
            verdicts,
            overall,
            ruleset: engine.ruleset().clone(),
        }
    }
}

/// Append `s` and return its span.
fn push_span(out: &mut String, s: &str) -> Span {
    let start = out.len();
    out.push_str(s);
    start..out.len()
}

/// Append a country code as [`crate::normalise_country`] normalises it, or fail naming `field`
/// (appending nothing) when it is not an ISO 3166-1 alpha-3 code.
fn push_country(out: &mut String, field: &str, s: &str) -> Result<Span, ControlsError> {
    if !crate::country::is_iso3(s) {
        return Err(ControlsError::Country {
            field: field.to_string(),
            value: s.to_string(),
            suggestions: crate::country::suggest(s),
        });
    }
    let t = s.trim();
    let start = out.len();
    out.extend(t.chars().map(|c| c.to_ascii_uppercase()));
    Ok(start..out.len())
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
struct EvalCtx<'e, 'a> {
    engine: &'e Engine,
    date: Date,
    from: &'a str,
    to: &'a str,
    from_code: u32,
    to_code: u32,
    origin: Option<&'a str>,
    end_user: Option<&'a str>,
    end_use: Option<&'a str>,
    item: &'a ItemEval,
    hits: &'a [Hit],
    parties: &'a [PartyScreening],
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Tri {
    Yes,
    No,
    Unknown,
}

impl<'e> EvalCtx<'e, '_> {
    /// Whether the measure reaches the shipment; if so, the reason is appended to `out`.
    fn reach(&self, m: &Measure, p: &Prepared, out: &mut String) -> bool {
        let r = &m.reach;
        if let Some(e) = &p.exporters_ix {
            if self.engine.in_dest_ix(e, self.from_code, self.date) {
                out.push_str("export from ");
                out.push_str(self.from);
                // The exporters' group, unless it is just the country again ("NLD (NLD)").
                if p.exporters != self.from {
                    out.push_str(" (");
                    out.push_str(&p.exporters);
                    out.push(')');
                }
                return true;
            }
        }
        if let Some(o) = self.origin {
            if r.origins.iter().any(|c| c == o) {
                out.push_str("item of ");
                out.push_str(o);
                out.push_str(" origin");
                return true;
            }
        }
        if let Some(t) = r.de_minimis_pct {
            if let Some(v) = self.value(&r.de_minimis_param).and_then(Value::as_num) {
                if v > t {
                    out.push_str(&r.de_minimis_param);
                    out.push_str(" = ");
                    push_num(out, v);
                    out.push_str("% exceeds the de minimis level of ");
                    push_num(out, t);
                    out.push('%');
                    return true;
                }
            }
        }
        if let Some(fdp) = &r.fdp_param {
            if self.value(fdp) == Some(&Value::Bool(true)) {
                out.push_str("foreign direct product (");
                out.push_str(fdp);
                out.push_str(" = true)");
                return true;
            }
        }
        false
    }

    /// Whether the measure might reach the shipment through content subject to it that the
    /// user did not state: a de minimis level, the content parameter missing, the version in
    /// force on the date, and the item caught or undecided by its predicate. (A Dutch scanner
    /// with US parts can be subject to US rules at 0% de minimis: silence is not "no".)
    fn reach_undecided(&self, m: &Measure, p: &Prepared) -> bool {
        if m.reach.de_minimis_pct.is_none()
            || self.value(&m.reach.de_minimis_param).is_some()
            || m.in_force_from > self.date
            || m.in_force_until.is_some_and(|u| self.date > u)
        {
            return false;
        }
        if let Some(fdp) = &m.reach.fdp_param {
            // Stated as a direct product or not: the user knows the item's US connection.
            if self.value(fdp).is_some() {
                return false;
            }
        }
        match (&m.item, &p.item) {
            (Some(c), Some(info)) => self.judged(p.item_slot, c, info).0 != Tri::No,
            // A measure on every item (the Entity List) matters only with a listed party,
            // which its rules check; it does not make the reach undecided by itself.
            _ => false,
        }
    }

    /// Why the measure does not reach the shipment (each way it could have, "; "-separated).
    fn why_not_reached(&self, m: &Measure, p: &Prepared, out: &mut String) {
        let r = &m.reach;
        let start = out.len();
        let sep = |out: &mut String| {
            if out.len() > start {
                out.push_str("; ");
            }
        };
        if r.exporters.is_some() {
            out.push_str("export from ");
            out.push_str(self.from);
            out.push_str(" is not from ");
            out.push_str(&p.exporters);
        }
        if !r.origins.is_empty() {
            sep(out);
            out.push_str("origin ");
            out.push_str(self.origin.unwrap_or("(not given)"));
            out.push_str(" is not ");
            out.push_str(&p.origins);
        }
        if let Some(t) = r.de_minimis_pct {
            sep(out);
            out.push_str(&r.de_minimis_param);
            match self.value(&r.de_minimis_param).and_then(Value::as_num) {
                Some(v) => {
                    out.push_str(" = ");
                    push_num(out, v);
                    out.push_str("% does not exceed ");
                    push_num(out, t);
                    out.push('%');
                }
                None => out.push_str(" not given"),
            }
        }
        if let Some(fdp) = &r.fdp_param {
            sep(out);
            out.push_str(fdp);
            out.push_str(" is not true");
        }
    }

    fn value(&self, param: &str) -> Option<&Value> {
        self.item.values.get(param)
    }

    /// The memoised verdict and text of predicate `c` (slot `slot` of the item).
    fn judged(&self, slot: usize, c: &Cond, info: &CondInfo) -> &(Tri, String) {
        // The item carries the memo, so the text is computed once per item and predicate.
        self.item.conds[slot].get_or_init(|| {
            let mut text = String::with_capacity(128);
            let mut count = 0;
            let t = self.cond_at(c, info, &mut text, "; ", &mut count, true);
            (t, text)
        })
    }

    /// Evaluate measure `by_id[bi]` on the date, given why its jurisdiction reaches the shipment;
    /// explanation lines are appended to `text` / `lines`.
    fn evaluate(
        &self,
        bi: usize,
        why: &str,
        text: &mut String,
        lines: &mut Vec<Span>,
        missing: &mut Vec<String>,
    ) -> Option<Applied<'e>> {
        let engine = self.engine;
        let (id, range) = &engine.by_id[bi];
        let versions = &engine.measures[range.clone()];
        let start = text.len();
        let Some(idx) = versions.iter().rposition(|m| m.in_force_from <= self.date) else {
            let first = &versions[0];
            text.push_str(id);
            text.push_str(" (");
            text.push_str(&first.instrument);
            text.push_str("): not yet in force on ");
            self.date.push_to(text);
            text.push_str(" — enters into force on ");
            first.in_force_from.push_to(text);
            text.push_str(" (version ");
            text.push_str(&first.version);
            text.push_str("); not applied");
            lines.push(start..text.len());
            return None;
        };
        let m = &versions[idx];
        let p = &engine.prepared[range.start + idx];
        if let Some(u) = m.in_force_until {
            if self.date > u {
                text.push_str(id);
                text.push_str(" (");
                text.push_str(&m.instrument);
                text.push_str("), version ");
                text.push_str(&m.version);
                text.push_str(": no longer in force on ");
                self.date.push_to(text);
                text.push_str(" — in force from ");
                m.in_force_from.push_to(text);
                text.push_str(" until ");
                u.push_to(text);
                text.push_str("; not applied");
                lines.push(start..text.len());
                return None;
            }
        }
        text.push_str(&p.head);
        text.push_str(why);
        lines.push(start..text.len());
        let mut line = |text: &mut String, f: &dyn Fn(&mut String)| {
            let start = text.len();
            f(text);
            lines.push(start..text.len());
        };
        if let Some(s) = m
            .suspensions
            .iter()
            .find(|s| s.from <= self.date && self.date <= s.until)
        {
            line(text, &|t| {
                t.push_str("  suspended ");
                push_suspension(t, s);
                t.push_str(": does not apply on ");
                self.date.push_to(t);
            });
            return None;
        }
        // The item predicate could not be decided: the rules still run, since a destination
        // for which the measure requires nothing settles the verdict either way.
        let mut item_unknown = None;
        match (&m.item, &p.item) {
            (Some(c), Some(info)) => {
                let (verdict, leaves) = self.judged(p.item_slot, c, info);
                match verdict {
                    Tri::Yes => line(text, &|t| {
                        t.push_str("  item caught: ");
                        t.push_str(leaves);
                    }),
                    Tri::No => {
                        line(text, &|t| {
                            t.push_str("  item not caught: ");
                            t.push_str(leaves);
                        });
                        return None;
                    }
                    Tri::Unknown => {
                        if let Some(code) = self
                            .classified_by(c)
                            .or_else(|| self.ear99(&m.jurisdiction))
                        {
                            // The item's own classification under this list decides.
                            line(text, &|t| {
                                let _ = write!(
                                    t,
                                    "  item not caught: classified as {code}, which this \
                                     measure does not list ({leaves})"
                                );
                            });
                            return None;
                        }
                        line(text, &|t| {
                            t.push_str(
                                "  cannot decide whether the item is caught (missing \
                                 parameters): ",
                            );
                            t.push_str(leaves);
                        });
                        item_unknown = Some(c);
                    }
                }
            }
            _ => line(text, &|t| {
                t.push_str("  applies to every item the jurisdiction reaches")
            }),
        }
        // The measure reaches the item: say where chipwatch's model of it stops.
        for g in &m.gaps {
            line(text, &|t| {
                t.push_str("  not modelled (gap): ");
                t.push_str(g);
            });
        }
        // A stricter rule whose condition could not be decided: (outcome, review policy, where
        // its missing parameters start in `missing`). The next rule that applies settles it if
        // it imposes the same kind of outcome; otherwise the measure is undetermined.
        let mut pending: Option<(OutcomeKind, Option<ReviewPolicy>, usize)> = None;
        for (r, rt) in m.rules.iter().zip(&p.rules) {
            let name = rt.name.as_str();
            if !engine.in_dest_ix(&rt.dest_ix, self.to_code, self.date) {
                continue;
            }
            let mut policy_from_list = None;
            if !r.end_user_lists.is_empty() {
                let on_list = |h: &&Hit| {
                    r.end_user_lists.contains(&h.list)
                        && (r.end_user_entries.is_empty()
                            || r.end_user_entries.contains(&h.entry_name))
                };
                // An entity listed after the shipment date does not trigger the requirement.
                // Listed by the date, and for an affiliate the affiliates rule in force then.
                let listed_by_date = |h: &&Hit| h.applies_on(self.date);
                let hit = self.hits.iter().filter(on_list).find(listed_by_date);
                // Any other party but the exporter, when the end user is not listed.
                let party_hit = if hit.is_none() {
                    self.parties
                        .iter()
                        .filter(|p| p.role != PartyRole::Exporter)
                        .find_map(|p| {
                            p.hits
                                .iter()
                                .filter(on_list)
                                .find(listed_by_date)
                                .map(|h| (p, h))
                        })
                } else {
                    None
                };
                if let Some((p, h)) = party_hit {
                    line(text, &|t| {
                        let _ = write!(
                            t,
                            "  {name}: {} `{}` matches `{}` on {} (score {:.2}; {}{})",
                            p.role.as_str().replace('_', " "),
                            p.name,
                            h.entry_name,
                            h.list,
                            h.score,
                            h.citation,
                            h.affiliate_of.as_ref().map_or(String::new(), |a| format!(
                                "; {:.0}% owned by `{}` under {}",
                                a.total_percent, a.owner_entry, a.rule.id
                            ))
                        );
                    });
                    policy_from_list = h.review_policy;
                } else if hit.is_none() {
                    if let Some(h) = self.hits.iter().find(on_list) {
                        line(text, &|t| match &h.affiliate_of {
                            Some(a) => {
                                let _ = write!(
                                    t,
                                    "  {name}: end user `{}` is {:.0}% owned by `{}` ({}), but \
                                     {} ({}) does not apply on {}",
                                    h.entry_name,
                                    a.total_percent,
                                    a.owner_entry,
                                    a.owner_list,
                                    a.rule.id,
                                    a.rule.citation,
                                    self.date
                                );
                            }
                            None => {
                                let _ = write!(
                                    t,
                                    "  {name}: end user matches `{}` on {} but it is listed \
                                     only from {} (after {})",
                                    h.entry_name,
                                    h.list,
                                    h.listed_on.as_deref().unwrap_or("?"),
                                    self.date
                                );
                            }
                        });
                        continue;
                    }
                }
                match (self.end_user, hit) {
                    _ if party_hit.is_some() => {}
                    (None, _) => continue,
                    // A rule limited to named entries is silent for other end users.
                    (Some(_), None) if !r.end_user_entries.is_empty() => continue,
                    (Some(eu), None) => {
                        line(text, &|t| {
                            let _ = write!(
                                t,
                                "  {name}: end user `{eu}` is not on {} (no match scoring {} or \
                                 more)",
                                rt.lists, END_USER_THRESHOLD
                            );
                        });
                        continue;
                    }
                    (Some(eu), Some(h)) => {
                        line(text, &|t| {
                            let _ = write!(
                                t,
                                "  {name}: end user `{eu}` matches `{}` on {} (score {:.2}; {})",
                                h.entry_name, h.list, h.score, h.citation
                            );
                        });
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
            if let (Some(w), Some(info)) = (&r.when, &rt.when) {
                let (verdict, leaves) = self.judged(rt.when_slot, w, info);
                if *verdict == Tri::Unknown && self.reads_only_party_facts(w) {
                    // Facts about the end user that were not declared are treated like an
                    // undeclared end use: the rule does not apply, and the line says so.
                    line(text, &|t| {
                        t.push_str("  ");
                        t.push_str(name);
                        t.push_str(
                            " does not apply (end-user facts not declared are taken as \
                                    absent; declare them with --param to check): ",
                        );
                        t.push_str(leaves);
                    });
                    continue;
                }
                if *verdict == Tri::Unknown {
                    if matches!(
                        r.outcome,
                        OutcomeKind::NotRequired
                            | OutcomeKind::GeneralAuthorisation
                            | OutcomeKind::ExceptionWithNotification
                    ) {
                        // A permission is claimed only when its conditions are shown.
                        line(text, &|t| {
                            t.push_str("  ");
                            t.push_str(name);
                            t.push_str(" cannot be claimed: its conditions are not established (");
                            t.push_str(leaves);
                            t.push(')');
                        });
                        continue;
                    }
                    // Whether this rule or a later one decides depends on a missing value.
                    line(text, &|t| {
                        t.push_str("  ");
                        t.push_str(name);
                        t.push_str(" may apply (");
                        t.push_str(r.outcome.as_str());
                        t.push_str("), depending on: ");
                        t.push_str(leaves);
                    });
                    let rp = rule_policy(r, policy_from_list);
                    match pending {
                        // Another undecided rule of the same kind: keep the stricter policy.
                        Some((po, pp, mark)) if po == r.outcome => {
                            self.missing_params(w, missing);
                            let keep = if strictness(po, pp) >= strictness(po, rp) {
                                pp
                            } else {
                                rp
                            };
                            pending = Some((po, keep, mark));
                        }
                        Some(_) => {
                            self.missing_params(w, missing);
                            self.undetermined_line(id, missing, text, lines);
                            return Some((OutcomeKind::Undetermined, None, None));
                        }
                        None => {
                            let mark = missing.len();
                            self.missing_params(w, missing);
                            pending = Some((r.outcome, rp, mark));
                        }
                    }
                    continue;
                }
                if *verdict != Tri::Yes {
                    line(text, &|t| {
                        t.push_str("  ");
                        t.push_str(name);
                        t.push_str(" does not apply: ");
                        t.push_str(leaves);
                    });
                    continue;
                }
            }
            if let Some(s) = r
                .suspensions
                .iter()
                .find(|s| s.from <= self.date && self.date <= s.until)
            {
                line(text, &|t| {
                    t.push_str("  ");
                    t.push_str(name);
                    t.push_str(" would apply to ");
                    t.push_str(self.to);
                    t.push_str(" but is suspended ");
                    push_suspension(t, s);
                    t.push_str(" (does not apply on ");
                    self.date.push_to(t);
                    t.push(')');
                });
                continue;
            }
            if let Some(c) = item_unknown {
                if r.outcome == OutcomeKind::NotRequired && pending.is_none() {
                    line(text, &|t| {
                        t.push_str("  ");
                        t.push_str(name);
                        t.push_str(" applies: destination ");
                        t.push_str(self.to);
                        t.push_str(" needs no licence under this measure, caught or not");
                    });
                    return Some((OutcomeKind::NotRequired, None, None));
                }
                line(text, &|t| {
                    t.push_str("  ");
                    t.push_str(name);
                    t.push_str(" would apply to destination ");
                    t.push_str(self.to);
                    t.push_str(" -> ");
                    t.push_str(r.outcome.as_str());
                    t.push_str(" if the item is caught");
                });
                self.missing_params(c, missing);
                self.undetermined_line(id, missing, text, lines);
                return Some((OutcomeKind::Undetermined, None, None));
            }
            let policy = rule_policy(r, policy_from_list);
            if let Some((po, pp, mark)) = pending {
                if po != r.outcome {
                    line(text, &|t| {
                        t.push_str("  otherwise ");
                        t.push_str(name);
                        t.push_str(" applies -> ");
                        t.push_str(r.outcome.as_str());
                    });
                    self.undetermined_line(id, missing, text, lines);
                    return Some((OutcomeKind::Undetermined, None, None));
                }
                // Either way the same requirement: assume the stricter review policy until
                // the missing value is given.
                let stricter = if strictness(po, pp) >= strictness(r.outcome, policy) {
                    pp
                } else {
                    policy
                };
                missing.sort();
                let names = missing[mark..].join(", ");
                missing.truncate(mark);
                line(text, &|t| {
                    let _ = write!(
                        t,
                        "  {name} applies otherwise: {} either way; review policy {} assumed \
                         (the stricter) until {names} is given",
                        r.outcome.as_str(),
                        stricter.map_or("-", |p| p.as_str()),
                    );
                });
                return Some((r.outcome, stricter, r.authorisation.as_deref()));
            }
            line(text, &|t| {
                t.push_str("  ");
                t.push_str(name);
                t.push_str(" applies: destination ");
                t.push_str(self.to);
                t.push_str(" (");
                t.push_str(&rt.dest);
                t.push_str(") -> ");
                t.push_str(r.outcome.as_str());
                if let Some(p) = policy {
                    t.push_str(" (");
                    t.push_str(p.as_str());
                    t.push(')');
                }
                if let Some(a) = &r.authorisation {
                    t.push_str(" under ");
                    t.push_str(a);
                }
                if let Some(n) = &r.note {
                    t.push_str(" — ");
                    t.push_str(n);
                }
            });
            if matches!(
                r.outcome,
                OutcomeKind::LicenceRequired | OutcomeKind::Prohibited
            ) {
                if let Some(g) = &m.grandfathering {
                    line(text, &|t| {
                        t.push_str("  grandfathering: ");
                        t.push_str(g);
                    });
                }
            }
            return Some((r.outcome, policy, r.authorisation.as_deref()));
        }
        if pending.is_some() {
            line(text, &|t| {
                t.push_str("  otherwise no rule of ");
                t.push_str(id);
                t.push_str(" covers destination ");
                t.push_str(self.to);
            });
            self.undetermined_line(id, missing, text, lines);
            return Some((OutcomeKind::Undetermined, None, None));
        }
        line(text, &|t| {
            t.push_str("  no rule of ");
            t.push_str(id);
            t.push_str(" covers destination ");
            t.push_str(self.to);
            t.push_str(" with this end user and end use: no requirement under this measure");
        });
        // Nothing was decided by this measure: it is not named as the verdict's measure.
        None
    }

    /// "ID: undetermined — give ..." (the missing parameters, sorted and deduplicated).
    fn undetermined_line(
        &self,
        id: &str,
        missing: &mut Vec<String>,
        text: &mut String,
        lines: &mut Vec<Span>,
    ) {
        missing.sort();
        missing.dedup();
        let start = text.len();
        let _ = write!(
            text,
            "  {id}: undetermined — give {} with --param to decide",
            missing.join(", ")
        );
        lines.push(start..text.len());
    }

    /// Whether every parameter `c` is missing is a fact about a party (see
    /// [`PARTY_PARAMETERS`]), not about the item.
    fn reads_only_party_facts(&self, c: &Cond) -> bool {
        let mut missing = Vec::new();
        self.missing_params(c, &mut missing);
        !missing.is_empty()
            && missing
                .iter()
                .all(|m| PARTY_PARAMETERS.contains(&m.as_str()))
    }

    /// `eccn = "EAR99"` for a US measure: an item the user classified EAR99 is on no Commerce
    /// Control List entry, so no US list-based measure catches it, whatever values are missing.
    fn ear99(&self, jurisdiction: &str) -> Option<String> {
        (jurisdiction == "USA"
            && self
                .value("eccn")
                .and_then(Value::as_str)
                .is_some_and(|e| e.trim().eq_ignore_ascii_case("EAR99")))
        .then(|| "eccn = \"EAR99\"".to_string())
    }

    /// The classification code the item gives and predicate `c` reads (`eccn = EAR99`), if any.
    fn classified_by(&self, c: &Cond) -> Option<String> {
        match c {
            Cond::All(v, _) | Cond::Any(v, _) => v.iter().find_map(|x| self.classified_by(x)),
            Cond::Not(x, _) => self.classified_by(x),
            Cond::Cmp { param, .. } => CLASSIFICATION_PARAMETERS
                .contains(&param.as_str())
                .then(|| self.value(param))
                .flatten()
                .map(|v| {
                    let mut s = format!("{param} = ");
                    push_value(&mut s, v);
                    s
                }),
        }
    }

    /// The given-parameter names that would decide predicate `c`: each missing parameter it
    /// reads, a derived one replaced by the missing inputs of its formula.
    /// Sub-entries that are "not applicable" (see [`Self::cond_at`]) are skipped: a scanner
    /// does not wait on the epitaxy entry's `equipment_type`.
    fn missing_params(&self, c: &Cond, out: &mut Vec<String>) {
        self.missing_params_at(c, out, true);
    }

    fn missing_params_at(&self, c: &Cond, out: &mut Vec<String>, top: bool) {
        let labelled = match c {
            Cond::All(_, l) | Cond::Any(_, l) | Cond::Not(_, l) => l.is_some(),
            Cond::Cmp { label, .. } => label.is_some(),
        };
        if (top || labelled) && self.item.descriptive && !self.any_param_given(c) {
            return;
        }
        match c {
            Cond::All(v, _) | Cond::Any(v, _) => {
                for x in v {
                    self.missing_params_at(x, out, false);
                }
            }
            Cond::Not(x, _) => self.missing_params_at(x, out, false),
            Cond::Cmp { param, .. } => self.missing_param(param, out, 0),
        }
    }

    fn missing_param(&self, param: &str, out: &mut Vec<String>, depth: usize) {
        if self.item.values.contains_key(param) {
            return;
        }
        match self.engine.formulas.iter().find(|f| f.name == param) {
            // Formulas are acyclic (topologically sorted); the depth bound is a second guard.
            Some(f) if depth < 16 => {
                for v in f.expr.variables() {
                    self.missing_param(&v, out, depth + 1);
                }
            }
            _ => out.push(param.to_string()),
        }
    }

    /// Whether the item gives any parameter the predicate reads (no allocation: hot path).
    fn any_param_given(&self, c: &Cond) -> bool {
        match c {
            Cond::All(v, _) | Cond::Any(v, _) => v.iter().any(|x| self.any_param_given(x)),
            Cond::Not(x, _) => self.any_param_given(x),
            Cond::Cmp { param, .. } => self.item.values.contains_key(param),
        }
    }

    /// Evaluate a predicate and render its leaves into `out`. A labelled sub-entry (or the whole
    /// item predicate, `top`) none of whose parameters the item has is "not applicable" (false),
    /// not "unknown": a gallium shipment has no wavelength, so lithography entries simply do not
    /// describe it. That holds only for an item described by some parameter: an item given by
    /// classification codes alone (`hs_code=8486.20`) might be a scanner, so there it is unknown.
    ///
    /// Rendering: leaves are separated by `sep` ("; " at the top); the leaves under a labelled
    /// node (a `not` is labelled "not") become one leaf "label [a, b]"; unlabelled nodes add
    /// their leaves to the enclosing list. `count` is the number of leaves in that list so far.
    fn cond_at(
        &self,
        c: &Cond,
        info: &CondInfo,
        out: &mut String,
        sep: &str,
        count: &mut usize,
        top: bool,
    ) -> Tri {
        let label = match c {
            Cond::All(_, l) | Cond::Any(_, l) | Cond::Not(_, l) => l,
            Cond::Cmp { label, .. } => label,
        };
        if (top || label.is_some()) && !self.any_param_given(c) {
            next_leaf(out, sep, count);
            if let Some(l) = label {
                out.push_str(l);
                out.push_str(": ");
            }
            if !self.item.descriptive {
                // Only classification codes (or nothing) describe the item: it is not known
                // to lie outside this entry.
                out.push_str("unknown (the item is not described by any of ");
                out.push_str(&info.none_of);
                out.push(')');
                return Tri::Unknown;
            }
            out.push_str("not applicable (the item has none of ");
            out.push_str(&info.none_of);
            out.push(')');
            return Tri::No;
        }
        match c {
            Cond::All(v, label) | Cond::Any(v, label) => {
                // Three-valued AND / OR: `absorb` decides at once, Unknown beats `unit`.
                let (unit, absorb) = if matches!(c, Cond::All(..)) {
                    (Tri::Yes, Tri::No)
                } else {
                    (Tri::No, Tri::Yes)
                };
                let mut r = unit;
                let mut eval = |out: &mut String, sep: &str, count: &mut usize| {
                    for (sub, si) in v.iter().zip(&info.children) {
                        match self.cond_at(sub, si, out, sep, count, false) {
                            t if t == absorb => r = absorb,
                            Tri::Unknown if r == unit => r = Tri::Unknown,
                            _ => {}
                        }
                    }
                };
                match label {
                    Some(l) => group(out, sep, count, l, |out, inner| eval(out, ", ", inner)),
                    None => eval(out, sep, count),
                }
                r
            }
            Cond::Not(sub, label) => {
                let mut r = Tri::Unknown;
                let l = label.as_deref().unwrap_or("not");
                group(out, sep, count, l, |out, inner| {
                    r = match self.cond_at(sub, &info.children[0], out, ", ", inner, false) {
                        Tri::Yes => Tri::No,
                        Tri::No => Tri::Yes,
                        Tri::Unknown => Tri::Unknown,
                    };
                });
                r
            }
            Cond::Cmp {
                param,
                op,
                values,
                label,
            } => {
                next_leaf(out, sep, count);
                if let Some(l) = label {
                    out.push_str(l);
                    out.push_str(": ");
                }
                out.push_str(param);
                let engine = self.engine;
                let Some(v) = self.value(param) else {
                    if let Some(fi) = info.formula {
                        out.push_str(" (= ");
                        out.push_str(&engine.formulas[fi].text);
                        out.push_str("; needs ");
                        out.push_str(&engine.formula_needs[fi]);
                        out.push(')');
                    }
                    out.push_str(" not given, needed for ");
                    out.push_str(op.as_str());
                    out.push(' ');
                    write_values(out, *op, values);
                    return Tri::Unknown;
                };
                let res = compare(v, *op, values);
                out.push_str(" = ");
                push_value(out, v);
                if let Some(fi) = info.formula {
                    if self.item.report.derived.contains_key(param) {
                        out.push_str(" (derived: ");
                        out.push_str(&engine.formulas[fi].text);
                        out.push(')');
                    }
                }
                out.push(' ');
                out.push_str(op.as_str());
                out.push(' ');
                write_values(out, *op, values);
                out.push_str(match res {
                    Tri::Yes => ": met",
                    Tri::No => ": not met",
                    Tri::Unknown => ": not comparable",
                });
                res
            }
        }
    }
}

/// Start a leaf in a list of `count` leaves separated by `sep`.
fn next_leaf(out: &mut String, sep: &str, count: &mut usize) {
    if *count > 0 {
        out.push_str(sep);
    }
    *count += 1;
}

/// Render the leaves `body` produces as one leaf "label [a, b]"; nothing when it produces none.
fn group(
    out: &mut String,
    sep: &str,
    count: &mut usize,
    label: &str,
    body: impl FnOnce(&mut String, &mut usize),
) {
    let (mark, before) = (out.len(), *count);
    next_leaf(out, sep, count);
    out.push_str(label);
    out.push_str(" [");
    let mut inner = 0;
    body(out, &mut inner);
    if inner == 0 {
        out.truncate(mark);
        *count = before;
    } else {
        out.push(']');
    }
}

fn write_values(out: &mut String, op: CmpOp, values: &[Value]) {
    match op {
        CmpOp::In | CmpOp::NotIn | CmpOp::Prefix if values.len() > 1 => {
            out.push('[');
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_value(out, v);
            }
            out.push(']');
        }
        _ => {
            if let Some(v) = values.first() {
                push_value(out, v);
            }
        }
    }
}

/// Whether `s` starts with `prefix` once both are lowercased (ASCII) and stripped of '.' and ' '
/// (HS codes are written "8110.10", "8110 10" or "811010"); compares in place.
fn starts_with_loose(s: &str, prefix: &str) -> bool {
    let strip = |b: &u8| *b != b'.' && *b != b' ';
    let mut s = s.bytes().filter(strip).map(|b| b.to_ascii_lowercase());
    prefix
        .bytes()
        .filter(strip)
        .all(|p| s.next() == Some(p.to_ascii_lowercase()))
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
            Value::Str(s) => b(values.iter().any(|p| match p {
                Value::Str(p) => starts_with_loose(s, p),
                _ => false,
            })),
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

/// "from D1 to D2 by INSTRUMENT", the span of a suspension as explanations state it.
fn push_suspension(t: &mut String, s: &crate::measure::Suspension) {
    t.push_str("from ");
    s.from.push_to(t);
    t.push_str(" to ");
    s.until.push_to(t);
    t.push_str(" by ");
    t.push_str(&s.instrument);
}

/// The review policy a rule applies (a list entry's own when the rule takes it from the list).
fn rule_policy(r: &crate::measure::Rule, from_list: Option<ReviewPolicy>) -> Option<ReviewPolicy> {
    match r.review_policy {
        Some(PolicySource::Fixed(p)) => Some(p),
        Some(PolicySource::FromList) => Some(from_list.unwrap_or(ReviewPolicy::PerApplication)),
        None => None,
    }
}

/// Lowercase hexadecimal of a digest.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Up to five of `known` closest to `q` (Jaro-Winkler >= 0.8), best first.
pub(crate) fn suggest<'a>(q: &str, known: impl Iterator<Item = &'a String>) -> Vec<String> {
    let q = q.trim().to_ascii_lowercase();
    let mut v: Vec<(f64, &String)> = known
        .map(|k| (strsim::jaro_winkler(&q, &k.to_ascii_lowercase()), k))
        .filter(|(d, _)| *d >= 0.8)
        .collect();
    v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    v.into_iter().take(5).map(|(_, k)| k.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_prefix_matches_the_allocating_form() {
        let old = |s: &str, p: &str| {
            s.to_ascii_lowercase()
                .replace(['.', ' '], "")
                .starts_with(&p.to_ascii_lowercase().replace(['.', ' '], ""))
        };
        let words = [
            "", ".", " ", "8110.10", "8110 10", "811010", "8110", "81", "8111", "2504.10", "ab.C",
            "A B c", "abc", "äb", "Äb", ". .",
        ];
        for s in words {
            for p in words {
                assert_eq!(starts_with_loose(s, p), old(s, p), "{s:?} {p:?}");
            }
        }
    }
}
