//! Scenarios on the value-chain model: shocks (export blocks, capacity losses, demand surges)
//! propagated through the AND/OR availability model of BRIEF 3.3, day by day, with inventories of
//! consumables, tool lags, headroom and substitution. The public API here is a contract with the
//! other areas of chipwatch (controls impact, monitor alerts, server): see
//! `/work/notes/scenario-api.md` and `docs/scenarios.md`; it only ever gains fields.
//!
//! Shares are taken from the **country view** of each item: a shock naming a firm is turned into
//! the matching part of its headquarters country's share, so the two views are never added and a
//! country shock hits that country's firms consistently.

pub(crate) mod engine;
pub(crate) mod segments;

use chipwatch_model::StageKind;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use crate::kernel::TaxonomyRule;
pub use engine::run;
pub use segments::{
    run_with_production, BaselineView, EconomyResult, ProductionRow, SegmentProvenance,
    SegmentResult, WorldSegment, EU27_MEMBERS,
};

/// A scenario: what happens to whom if X stops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    /// Length of the simulated period (days).
    #[serde(default = "default_horizon")]
    pub horizon_days: u32,
    /// Spacing of the reported series (days); the simulation itself steps daily.
    #[serde(default = "default_step")]
    pub step_days: u32,
    #[serde(default)]
    pub assumptions: Assumptions,
    #[serde(default, rename = "shock")]
    pub shocks: Vec<Shock>,
    /// Explicit consumers; `None` derives them from the model (fabrication and ATP capacity by
    /// location, ETO stage shares S2/S3). See `docs/scenarios.md`.
    #[serde(default, rename = "consumer", skip_serializing_if = "Option::is_none")]
    pub consumers: Option<Vec<ConsumerSpec>>,
    /// The day the scenario starts from (`YYYY-MM-DD`): fabs producing in that year, and the
    /// export-control measures in force that day (`baseline_denial`, filled from the controls
    /// data by the CLI) shape the baseline, so results are changes against the world as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_date: Option<String>,
    /// How a shortage of a segment's chips is shared among consumers.
    #[serde(default)]
    pub allocation: Allocation,
    /// A bilateral chip trade matrix (CSV, `segment,from,to,value`): the path is read by the CLI
    /// (relative to the scenario file); without one, output reaches consumers pro rata to demand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_matrix: Option<String>,
    /// Flows already denied on the baseline date (who may not receive which items since when).
    #[serde(
        default,
        rename = "baseline_denial",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub baseline_denials: Vec<BaselineDenial>,
}

/// A flow already denied on the baseline date by a measure in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineDenial {
    /// Measure id (`nl-2023-18212`) or a description.
    pub measure: String,
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub items: Vec<String>,
    /// Part of the items' flows the measure covers (the measure file's documented assumption).
    #[serde(default = "one")]
    pub fraction: f64,
    /// Date the denial took effect (`YYYY-MM-DD`).
    pub since: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

fn one() -> f64 {
    1.0
}

/// Rule sharing a segment's output among consumers when it falls short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllocationRule {
    /// Every consumer loses the same fraction of what it received from each producer.
    #[default]
    ProRata,
    /// A producing economy serves its own demand first, then exports pro rata.
    HomeFirst,
    /// A producing economy serves itself and the members of its groups first.
    AlliesFirst,
}

impl AllocationRule {
    pub fn as_str(self) -> &'static str {
        match self {
            AllocationRule::ProRata => "pro_rata",
            AllocationRule::HomeFirst => "home_first",
            AllocationRule::AlliesFirst => "allies_first",
        }
    }
}

/// `[allocation]`: the rule and, for `allies_first`, the named groups (`chip4 = ["USA", ...]`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allocation {
    #[serde(default)]
    pub rule: AllocationRule,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub groups: std::collections::BTreeMap<String, Vec<String>>,
}

fn default_horizon() -> u32 {
    365
}
fn default_step() -> u32 {
    7
}

/// A disruption. Item references are ids, names, `"*"` (everything) or a stage (`S1`/`S2`/`S3`
/// or `design`/`fabrication`/`atp`: the processes of that stage); a taxonomy parent covers its
/// variants. Provider references are ISO alpha-3 country codes, provider ids or names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Shock {
    /// Flows of `items` from providers in `from` to consumers in `to` (`"*"`: everyone) stop.
    ExportBlock {
        from: Vec<String>,
        to: Vec<String>,
        items: Vec<String>,
        #[serde(default)]
        start_day: u32,
        /// `None`: until the end of the horizon.
        #[serde(default)]
        duration_days: Option<u32>,
        /// Part of the flows stopped (`None`: all of them); for a measure that covers part of
        /// an item or is licensed case by case.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fraction: Option<f64>,
    },
    /// A provider (or a whole country, including its own process capacity) loses `fraction` of
    /// its capacity for `items`; after `duration_days` it ramps back linearly over
    /// `recovery_days`.
    CapacityLoss {
        provider: String,
        items: Vec<String>,
        fraction: f64,
        #[serde(default)]
        start_day: u32,
        #[serde(default)]
        duration_days: Option<u32>,
        #[serde(default)]
        recovery_days: u32,
    },
    /// A consumer's need for `items` (and everything upstream of them) is multiplied by `factor`.
    DemandSurge {
        consumer: String,
        items: Vec<String>,
        factor: f64,
        #[serde(default)]
        start_day: u32,
    },
}

impl Shock {
    /// The shock's kind as written in files.
    pub fn kind(&self) -> &'static str {
        match self {
            Shock::ExportBlock { .. } => "export_block",
            Shock::CapacityLoss { .. } => "capacity_loss",
            Shock::DemandSurge { .. } => "demand_surge",
        }
    }
    /// First day the shock acts.
    pub fn start_day(&self) -> u32 {
        match self {
            Shock::ExportBlock { start_day, .. }
            | Shock::CapacityLoss { start_day, .. }
            | Shock::DemandSurge { start_day, .. } => *start_day,
        }
    }
}

/// Every number the engine assumes, named, documented in `docs/scenarios.md`, overridable in the
/// `[assumptions]` table and echoed in every result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Assumptions {
    /// Spare capacity of providers that are not hit (fabs and tool makers run at ~90%).
    pub headroom: f64,
    /// Days of normal use held in stock by consumers, per item kind.
    pub inventory_days: InventoryDays,
    /// Days of finished chips consumers hold (US Commerce 2021 RFI: about 5; 40 in 2019).
    pub chip_inventory_days: f64,
    /// Days over which a tool shortage reaches its full effect on capacity (installed tools keep
    /// running; service, spare parts and replacements come due over this period).
    pub tool_lag_days: u32,
    /// How a taxonomy parent combines its variants.
    pub taxonomy: TaxonomyRule,
    /// Which share basis to use when an item has both (`hq`: who controls supply, the default;
    /// `location`: where capacity is).
    pub share_basis: chipwatch_model::Basis,
    /// Country shares the user supplies where the model has none (or to replace the model's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub share_override: Vec<ShareOverride>,
    /// Segment layer: share of a blocked tool's installed base lost per year without new
    /// tools, spare parts and service (project assumption, docs/scenarios.md).
    pub installed_base_erosion: f64,
    /// Segment layer: yearly growth of wafer capacity the world would have had, which a tool
    /// block forgoes (SEMI World Fab Forecast: about 6-7% a year in 2024-2025).
    pub capacity_growth: f64,
    /// Segment layer: days over which deliveries of tools make good a year's erosion after a
    /// block ends.
    pub tool_recovery_days: u32,
    /// Segment layer: demand shares the scenario sets (percent of world demand in a segment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub demand_override: Vec<DemandOverride>,
}

/// A consumer's share of world demand set by the scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemandOverride {
    pub consumer: String,
    /// A segment or `all`.
    pub segment: String,
    pub share_pct: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Default for Assumptions {
    fn default() -> Self {
        Assumptions {
            headroom: 0.10,
            inventory_days: InventoryDays::default(),
            chip_inventory_days: 5.0,
            tool_lag_days: 180,
            taxonomy: TaxonomyRule::WeightedMean,
            share_basis: chipwatch_model::Basis::Hq,
            share_override: Vec::new(),
            installed_base_erosion: 0.10,
            capacity_growth: 0.06,
            tool_recovery_days: 365,
            demand_override: Vec::new(),
        }
    }
}

/// Inventory held by consumers, in days of normal use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InventoryDays {
    /// Consumables (materials, gases, chemicals): production stops when this runs out.
    pub material: f64,
    /// Spare tools (capital equipment also acts through `tool_lag_days`).
    pub tool: f64,
}

impl Default for InventoryDays {
    fn default() -> Self {
        InventoryDays {
            material: 30.0,
            tool: 0.0,
        }
    }
}

/// A country share the scenario supplies (percent of the world market), with its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareOverride {
    pub item: String,
    /// Country (alpha-3) or country-view provider id/name.
    pub provider: String,
    pub share: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// An explicit consumer: a country that runs some stages of the chain and consumes their inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerSpec {
    /// ISO alpha-3 code (or a country provider's id/name).
    pub country: String,
    /// Weight in world aggregates (default: its share of world fabrication capacity, ETO S2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// Stages it runs (default: those where it has design, fabrication or ATP share).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stages: Option<Vec<StageKind>>,
}

/// Errors reading or running a scenario. Each names the file, line or field at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScenarioError {
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("field `{field}`: {message}")]
    Field { field: String, message: String },
    #[error("cyclic flow in the model: item {item} is on a cycle of goes_into/is_type_of links")]
    Cycle { item: String },
    #[error("the model has no final output item (kind = \"final_output\")")]
    NoFinalOutput,
    #[error("no consumers: the model has no fabrication/ATP stage shares and the scenario names no [[consumer]]")]
    NoConsumers,
}

impl ScenarioError {
    fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ScenarioError::Field {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl Scenario {
    /// A scenario with default horizon, step and assumptions, and no shocks.
    pub fn new(name: impl Into<String>) -> Scenario {
        Scenario {
            name: name.into(),
            horizon_days: default_horizon(),
            step_days: default_step(),
            assumptions: Assumptions::default(),
            shocks: Vec::new(),
            consumers: None,
            baseline_date: None,
            allocation: Allocation::default(),
            trade_matrix: None,
            baseline_denials: Vec::new(),
        }
    }

    /// Parse a scenario file (TOML). `origin` names the file in errors. Checks everything that
    /// does not need the model (ranges, required fields); references are checked by [`run`].
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let s: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            origin: origin.to_string(),
            message: describe_toml_error(text, &e),
        })?;
        s.validate().map_err(|e| match e {
            ScenarioError::Field { field, message } => ScenarioError::Parse {
                origin: origin.to_string(),
                message: format!("field `{field}`: {message}"),
            },
            other => other,
        })?;
        Ok(s)
    }

    /// Range checks on every number; errors name the field (`shock[1].fraction`).
    pub fn validate(&self) -> Result<(), ScenarioError> {
        if self.name.trim().is_empty() {
            return Err(ScenarioError::field("name", "must not be empty"));
        }
        if self.horizon_days == 0 || self.horizon_days > 36_500 {
            return Err(ScenarioError::field(
                "horizon_days",
                format!("{} is outside 1..=36500", self.horizon_days),
            ));
        }
        if self.step_days == 0 || self.step_days > 36_500 {
            return Err(ScenarioError::field(
                "step_days",
                format!("{} is outside 1..=36500", self.step_days),
            ));
        }
        if self.consumers.as_ref().is_some_and(|c| c.is_empty()) {
            return Err(ScenarioError::field(
                "consumer",
                "an explicit list must name at least one consumer (leave it out to derive them from the model)",
            ));
        }
        let a = &self.assumptions;
        check_range("assumptions.headroom", a.headroom, 0.0, 10.0)?;
        check_range(
            "assumptions.inventory_days.material",
            a.inventory_days.material,
            0.0,
            3650.0,
        )?;
        check_range(
            "assumptions.inventory_days.tool",
            a.inventory_days.tool,
            0.0,
            3650.0,
        )?;
        check_range(
            "assumptions.chip_inventory_days",
            a.chip_inventory_days,
            0.0,
            3650.0,
        )?;
        if a.tool_lag_days > 3650 {
            return Err(ScenarioError::field(
                "assumptions.tool_lag_days",
                format!("{} is outside 0..=3650", a.tool_lag_days),
            ));
        }
        check_range(
            "assumptions.installed_base_erosion",
            a.installed_base_erosion,
            0.0,
            1.0,
        )?;
        check_range("assumptions.capacity_growth", a.capacity_growth, 0.0, 1.0)?;
        if a.tool_recovery_days == 0 || a.tool_recovery_days > 36_500 {
            return Err(ScenarioError::field(
                "assumptions.tool_recovery_days",
                format!("{} is outside 1..=36500", a.tool_recovery_days),
            ));
        }
        for (i, o) in a.demand_override.iter().enumerate() {
            check_range(
                &format!("assumptions.demand_override[{i}].share_pct"),
                o.share_pct,
                0.0,
                100.0,
            )?;
            if o.segment != "all"
                && chipwatch_model::production::Segment::parse(&o.segment).is_none()
            {
                return Err(ScenarioError::field(
                    format!("assumptions.demand_override[{i}].segment"),
                    format!(
                        "unknown segment `{}` (all or one of {})",
                        o.segment, SEGMENT_NAMES
                    ),
                ));
            }
        }
        if let Some(d) = &self.baseline_date {
            if !valid_date(d) {
                return Err(ScenarioError::field(
                    "baseline_date",
                    format!("`{d}` is not a date (YYYY-MM-DD)"),
                ));
            }
        }
        for (i, d) in self.baseline_denials.iter().enumerate() {
            let f = |n: &str| format!("baseline_denial[{i}].{n}");
            non_empty(&f("from"), &d.from)?;
            non_empty(&f("to"), &d.to)?;
            non_empty(&f("items"), &d.items)?;
            check_range(&f("fraction"), d.fraction, 0.0, 1.0)?;
            if !valid_date(&d.since) {
                return Err(ScenarioError::field(
                    f("since"),
                    format!("`{}` is not a date (YYYY-MM-DD)", d.since),
                ));
            }
        }
        if self.allocation.rule == AllocationRule::AlliesFirst && self.allocation.groups.is_empty()
        {
            return Err(ScenarioError::field(
                "allocation.groups",
                "allies_first needs at least one named group (chip4 = [\"USA\", \"JPN\", \"KOR\", \"TWN\"])",
            ));
        }
        for (i, o) in a.share_override.iter().enumerate() {
            check_range(
                &format!("assumptions.share_override[{i}].share"),
                o.share,
                0.0,
                100.0,
            )?;
        }
        for (i, sh) in self.shocks.iter().enumerate() {
            let f = |name: &str| format!("shock[{i}].{name}");
            // A shock that starts after the last simulated day changes nothing: an error, not
            // a quiet "no effect".
            if sh.start_day() >= self.horizon_days {
                return Err(ScenarioError::field(
                    f("start_day"),
                    format!(
                        "day {} is at or after the end of the horizon ({} days): the shock would \
                         never start",
                        sh.start_day(),
                        self.horizon_days
                    ),
                ));
            }
            match sh {
                Shock::ExportBlock {
                    from,
                    to,
                    items,
                    fraction,
                    ..
                } => {
                    non_empty(&f("from"), from)?;
                    non_empty(&f("to"), to)?;
                    non_empty(&f("items"), items)?;
                    if let Some(x) = fraction {
                        check_range(&f("fraction"), *x, 0.0, 1.0)?;
                    }
                }
                Shock::CapacityLoss {
                    provider,
                    items,
                    fraction,
                    ..
                } => {
                    if provider.trim().is_empty() {
                        return Err(ScenarioError::field(f("provider"), "must not be empty"));
                    }
                    non_empty(&f("items"), items)?;
                    check_range(&f("fraction"), *fraction, 0.0, 1.0)?;
                }
                Shock::DemandSurge {
                    consumer,
                    items,
                    factor,
                    ..
                } => {
                    if consumer.trim().is_empty() {
                        return Err(ScenarioError::field(f("consumer"), "must not be empty"));
                    }
                    non_empty(&f("items"), items)?;
                    if !(factor.is_finite() && *factor > 0.0 && *factor <= 100.0) {
                        return Err(ScenarioError::field(
                            f("factor"),
                            format!("{factor} is outside (0, 100]"),
                        ));
                    }
                }
            }
        }
        if let Some(cs) = &self.consumers {
            for (i, c) in cs.iter().enumerate() {
                if let Some(w) = c.weight {
                    check_range(&format!("consumer[{i}].weight"), w, 0.0, 1e12)?;
                }
            }
        }
        Ok(())
    }
}

/// The six segment names, for messages.
pub(crate) const SEGMENT_NAMES: &str =
    "logic_leading, logic_advanced, logic_mature, dram, nand, analog_power";

/// `YYYY-MM-DD` with a plausible month and day.
pub(crate) fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let n = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    matches!((n(0..4), n(5..7), n(8..10)), (Some(y), Some(m), Some(d)) if (1900..=2200).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d))
}

fn check_range(field: &str, v: f64, lo: f64, hi: f64) -> Result<(), ScenarioError> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(ScenarioError::field(
            field,
            format!("{v} is outside {lo}..={hi}"),
        ))
    }
}

fn non_empty(field: &str, v: &[String]) -> Result<(), ScenarioError> {
    if v.is_empty() || v.iter().any(|s| s.trim().is_empty()) {
        Err(ScenarioError::field(
            field,
            "must list at least one non-empty reference",
        ))
    } else {
        Ok(())
    }
}

/// "line L, column C: message" from a TOML error.
pub(crate) fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let (line, col) = line_col(text, span.start);
            format!("line {line}, column {col}: {msg}")
        }
        None => msg,
    }
}

pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = offset
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1)
        + 1;
    (line, col)
}

/// Result of [`run`]; its JSON shape is fixed by issue 3 (fields are only ever added).
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub scenario: String,
    pub assumptions: Assumptions,
    pub consumers: Vec<ConsumerResult>,
    pub horizon_days: u32,
    pub step_days: u32,
    /// Capacity-weighted aggregate of the final output over all consumers.
    pub world: WorldResult,
    /// Shocks as resolved against the model (what each reference matched).
    pub shocks: Vec<ResolvedShock>,
    pub provenance: Provenance,
    /// Things a reader should know: imputed shares, items without supply data, references that
    /// matched nothing.
    pub notes: Vec<String>,
    /// Segment layer (where chips are made against where they are used): every consuming
    /// economy's availability per segment. Empty when the run has no production data.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub economies: Vec<EconomyResult>,
    /// Segment layer: each segment worldwide (capacity, output, wafers lost).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub world_segments: Vec<WorldSegment>,
    /// Segment layer: capacity per country, owner and segment, most wafers lost first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub production: Vec<ProductionRow>,
    /// Segment layer: what the measures in force on the baseline date already deny.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_provenance: Option<SegmentProvenance>,
}

/// One consuming country.
#[derive(Debug, Clone, Serialize)]
pub struct ConsumerResult {
    pub country: String,
    pub name: String,
    pub weight: f64,
    pub stages: Vec<StageKind>,
    /// Shared by consumers whose simulation is shared (identical by construction).
    pub items: Arc<[ItemResult]>,
    pub final_output: FinalOutput,
    /// The consumer's chips per segment (segment layer; empty without production data).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<SegmentResult>,
}

/// Availability of one item for one consumer over time.
#[derive(Debug, Clone, Serialize)]
pub struct ItemResult {
    /// Shared with the same item's results for the other consumers (10^6 items x consumers of
    /// separate strings and series were most of a large run's memory).
    pub item_id: Arc<str>,
    pub availability_min: f64,
    pub availability_end: f64,
    /// Days from the first shock until this item falls short, given inventories; `None` when it
    /// never does within the horizon.
    pub tts_days: Option<f64>,
    /// (day, availability) every `step_days` and at the horizon; shared between consumers whose
    /// simulation is shared, and between all items that never fall short.
    pub series: Arc<[(u32, f64)]>,
    pub name: Arc<str>,
    pub kind: chipwatch_model::ItemKind,
    /// First day at the minimum.
    pub worst_day: u32,
    /// Integral of the shortfall (1 - availability) over the horizon, in days of full supply.
    pub shortfall_days: f64,
}

/// The finished chip for one consumer, with what limits it.
#[derive(Debug, Clone, Serialize)]
pub struct FinalOutput {
    pub item_id: String,
    pub availability_min: f64,
    /// Items from the final output down to the limiting input at the worst day (empty when
    /// nothing limits it).
    pub binding_constraint: Vec<String>,
    /// Providers whose lost supply makes up most of the shortfall of the last item of the chain.
    pub binding_providers: Vec<String>,
    pub worst_day: u32,
    pub availability_end: f64,
    pub tts_days: Option<f64>,
    pub shortfall_days: f64,
    pub series: Vec<(u32, f64)>,
}

/// World aggregate of the final output (weights: consumers' weights).
#[derive(Debug, Clone, Serialize)]
pub struct WorldResult {
    pub item_id: String,
    pub availability_min: f64,
    pub availability_end: f64,
    pub shortfall_days: f64,
    pub series: Vec<(u32, f64)>,
}

/// A shock with its references resolved.
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedShock {
    pub index: usize,
    pub kind: String,
    pub providers: Vec<String>,
    pub consumers: Vec<String>,
    pub items: Vec<String>,
    pub start_day: u32,
    pub end_day: Option<u32>,
}

/// Where the numbers come from.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    pub model: String,
    pub dataset: String,
    pub vintage: String,
    pub share_view: String,
    pub consumers_from: String,
    pub engine: String,
}

#[cfg(test)]
mod tests;
