//! Where chips are made and where they are used: wafer fabs by owner, site and process segment,
//! assembly/test (ATP) capacity by country, consuming economies with their demand per segment,
//! which tools and materials each segment needs, and bilateral chip trade. Plain data: the
//! readers are in `chipwatch-data::fabs`, the scenario engine's segment layer in
//! `chipwatch-analysis`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Process segments of wafer capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    /// Logic at 7 nm and below.
    LogicLeading,
    /// Logic at 10 to 28 nm.
    LogicAdvanced,
    /// Logic above 28 nm (mature foundry, microcontrollers, mixed signal).
    LogicMature,
    Dram,
    Nand,
    /// Analog, power, discrete, sensors, RF, compound semiconductors.
    AnalogPower,
}

impl Segment {
    pub const ALL: [Segment; 6] = [
        Segment::LogicLeading,
        Segment::LogicAdvanced,
        Segment::LogicMature,
        Segment::Dram,
        Segment::Nand,
        Segment::AnalogPower,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Segment::LogicLeading => "logic_leading",
            Segment::LogicAdvanced => "logic_advanced",
            Segment::LogicMature => "logic_mature",
            Segment::Dram => "dram",
            Segment::Nand => "nand",
            Segment::AnalogPower => "analog_power",
        }
    }

    /// A segment from its file name (`logic_leading`, ...).
    pub fn parse(s: &str) -> Option<Segment> {
        Segment::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// What the segment covers, for reports.
    pub fn label(self) -> &'static str {
        match self {
            Segment::LogicLeading => "leading-edge logic (7 nm and below)",
            Segment::LogicAdvanced => "advanced logic (10-28 nm)",
            Segment::LogicMature => "mature logic (above 28 nm)",
            Segment::Dram => "DRAM",
            Segment::Nand => "NAND flash",
            Segment::AnalogPower => "analog, power and discrete",
        }
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Life-cycle state of a fab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FabStatus {
    Operating,
    Ramping,
    Planned,
    Closed,
}

impl FabStatus {
    pub fn parse(s: &str) -> Option<FabStatus> {
        match s.trim() {
            "operating" => Some(FabStatus::Operating),
            "ramping" => Some(FabStatus::Ramping),
            "planned" => Some(FabStatus::Planned),
            "closed" => Some(FabStatus::Closed),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            FabStatus::Operating => "operating",
            FabStatus::Ramping => "ramping",
            FabStatus::Planned => "planned",
            FabStatus::Closed => "closed",
        }
    }
}

/// One fab's capacity in one segment (a fab making several segments has one row per segment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fab {
    pub fab_id: String,
    pub owner: String,
    /// Owner's headquarters (ISO alpha-3).
    pub owner_country: String,
    pub site: String,
    /// Where the fab is (ISO alpha-3): where a physical disruption hits.
    pub country: String,
    pub wafer_mm: u16,
    /// Wafer starts per month in the fab's own wafer size; `None`: not known.
    pub capacity_wspm: Option<f64>,
    pub segment: Segment,
    pub status: FabStatus,
    pub start_year: Option<i32>,
    pub capacity_year: Option<i32>,
    pub sources: Vec<String>,
    pub note: String,
    /// Line in the source file (for messages).
    pub line: u64,
}

impl Fab {
    /// Capacity in 300 mm equivalent wafer starts per month (by wafer area).
    pub fn capacity_300eq(&self) -> Option<f64> {
        let d = f64::from(self.wafer_mm) / 300.0;
        self.capacity_wspm.map(|c| c * d * d)
    }
    /// Whether the fab produces in `year` (operating or ramping and started by then).
    pub fn producing_in(&self, year: i32) -> bool {
        matches!(self.status, FabStatus::Operating | FabStatus::Ramping)
            && self.start_year.is_none_or(|y| y <= year)
    }
}

/// A cited source of the production data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductionSource {
    pub id: String,
    pub publisher: String,
    pub title: String,
    pub year: Option<i32>,
    pub url: String,
}

/// An industry total (world capacity), against which coverage is measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityTotal {
    /// What the total covers as the file writes it: `all`, a segment, or a cross-check scope
    /// such as `all_ic` or `foundry`.
    pub scope: String,
    /// The segment, when `scope` is one.
    pub segment: Option<Segment>,
    pub capacity_wspm_300eq: f64,
    pub year: i32,
    pub source: String,
    pub note: String,
}

/// Share of world assembly/test/packaging capacity located in a country.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AtpShare {
    /// ISO alpha-3, or `ROW` for the rest of the world.
    pub country: String,
    pub share_pct: f64,
    pub year: Option<i32>,
    pub source: String,
}

/// A consuming economy (a country, the EU-27, the rest of the world).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Economy {
    pub code: String,
    pub name: String,
    /// For members shown separately (`DEU` is part of `EU27`): the economy they belong to.
    pub part_of: Option<String>,
}

/// An economy's share of world demand in a segment (`None`: all segments).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemandShare {
    pub consumer: String,
    pub segment: Option<Segment>,
    pub share_pct: f64,
    pub year: Option<i32>,
    pub source: String,
    pub note: String,
}

/// How an input acts on production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeedKind {
    /// Capital equipment: installed tools keep producing; a block stops new tools, spare parts
    /// and service, so capacity erodes and stops growing.
    Tool,
    /// Consumables: production stops when inventories run out.
    Material,
}

/// A segment's need for a model item: `dependence` is the fraction of the segment's capacity
/// that cannot run without it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentNeed {
    pub segment: Segment,
    /// Model item id (`N20` EUV lithography tools, ...).
    pub item: String,
    pub kind: NeedKind,
    pub dependence: f64,
    pub source: String,
    pub note: String,
}

/// Everything the segment layer of the scenario engine reads, with its origin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductionData {
    pub fabs: Vec<Fab>,
    pub sources: Vec<ProductionSource>,
    pub totals: Vec<CapacityTotal>,
    pub atp: Vec<AtpShare>,
    pub economies: Vec<Economy>,
    pub demand: Vec<DemandShare>,
    pub needs: Vec<SegmentNeed>,
    /// Where it came from ("embedded data/fabs", a directory).
    pub origin: String,
}

/// One bilateral flow of chips (a trade matrix row): `value` of `segment` (`None`: every
/// segment) from exporter `from` to importer `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeFlow {
    pub segment: Option<Segment>,
    pub from: String,
    pub to: String,
    pub value: f64,
}

/// A bilateral chip trade matrix loaded by the user (for example from `chipwatch trade matrix`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TradeMatrix {
    pub flows: Vec<TradeFlow>,
    /// File and what it says about itself (period, source).
    pub origin: String,
}
