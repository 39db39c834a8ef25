//! Plain data types of the model: what the model file holds, one-to-one.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An id that references an item, stage or provider: short ids are stored inline (no heap
/// allocation), which matters for the millions of references of a large model. Reads as `&str`.
pub type Id = compact_str::CompactString;

/// Current version of the model format written by `chipwatch-data`.
pub const FORMAT_VERSION: u32 = 1;

/// A whole value-chain model: metadata, sources, stages, items, providers and provision shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub meta: Meta,
    #[serde(default, rename = "source", skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
    #[serde(default, rename = "stage", skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<Stage>,
    #[serde(default, rename = "item", skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
    #[serde(default, rename = "provider", skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<Provider>,
    #[serde(default, rename = "share", skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<Share>,
}

/// Provenance of the model as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub format_version: u32,
    pub name: String,
    /// The dataset the model was built from, e.g. "ETO Advanced Semiconductor Supply Chain Dataset".
    pub dataset: String,
    /// Vintage of the dataset (commit, date) so every figure can be traced.
    pub vintage: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub licence: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub attribution: String,
    /// What produced this file (e.g. "chipwatch import eto").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub generated_by: String,
}

/// A citation, referred to by id from shares and market sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub id: String,
    pub label: String,
}

/// One of the three stages of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    Design,
    Fabrication,
    Atp,
}

impl StageKind {
    pub const ALL: [StageKind; 3] = [StageKind::Design, StageKind::Fabrication, StageKind::Atp];
    pub fn as_str(self) -> &'static str {
        match self {
            StageKind::Design => "design",
            StageKind::Fabrication => "fabrication",
            StageKind::Atp => "atp",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "design" => Some(Self::Design),
            "fabrication" | "fab" => Some(Self::Fabrication),
            "atp" | "assembly" | "assembly-test-packaging" | "packaging" => Some(Self::Atp),
            _ => None,
        }
    }
}

impl fmt::Display for StageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stage with its own market size (stage-level shares are stored as ordinary shares on the
/// stage id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub id: String,
    pub name: String,
    pub kind: StageKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market_size: Option<MarketSize>,
}

/// What an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    DesignResource,
    Tool,
    Material,
    Process,
    FinalOutput,
}

impl ItemKind {
    pub const ALL: [ItemKind; 5] = [
        ItemKind::DesignResource,
        ItemKind::Tool,
        ItemKind::Material,
        ItemKind::Process,
        ItemKind::FinalOutput,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::DesignResource => "design_resource",
            ItemKind::Tool => "tool",
            ItemKind::Material => "material",
            ItemKind::Process => "process",
            ItemKind::FinalOutput => "final_output",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.to_ascii_lowercase().replace('-', "_"))
    }
    /// Consumables stop production when inventory runs out; capital goods limit capacity with a lag.
    pub fn is_consumable(self) -> bool {
        matches!(self, ItemKind::Material)
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A market size with its vintage and any qualifier kept from the source text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketSize {
    pub usd: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// e.g. "all photoresists", "microprocessors".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// An item of the value chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: String,
    pub name: String,
    pub kind: ItemKind,
    /// The stage declared by the source (processes); tools and materials get theirs derived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<StageKind>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub is_type_of: Vec<Id>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub goes_into: Vec<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market_size: Option<MarketSize>,
    /// Year the source gives for the item's figures (may differ from the market size's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hs_codes: Vec<String>,
    /// Control-list entries, e.g. "EU:3B001.f.1", "US:3B001".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub control_entries: Vec<String>,
    /// Technical parameters (name with unit -> value) for later rules.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub parameters: std::collections::BTreeMap<String, f64>,
}

/// Type of provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderType {
    Country,
    Organisation,
    /// Residual or aggregate ("Various countries", "Various companies", "EUR"): never a country.
    Bucket,
}

impl ProviderType {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderType::Country => "country",
            ProviderType::Organisation => "organisation",
            ProviderType::Bucket => "bucket",
        }
    }
}

impl fmt::Display for ProviderType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Is a bucket a stand-in for countries or for firms? Decides which view its shares belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BucketOf {
    Countries,
    Organisations,
}

/// A country, an organisation or a bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub provider_type: ProviderType,
    /// ISO 3166-1 alpha-3 for countries; HQ country for organisations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// For buckets: whether it groups countries or organisations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_of: Option<BucketOf>,
}

impl Provider {
    /// Whether this provider's shares belong to the country view of an item.
    pub fn in_country_view(&self) -> bool {
        match self.provider_type {
            ProviderType::Country => true,
            ProviderType::Organisation => false,
            ProviderType::Bucket => self.bucket_of != Some(BucketOf::Organisations),
        }
    }
}

/// Whether a share counts where the provider is headquartered (who controls supply) or where the
/// capacity physically is (where a disruption hits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Hq,
    Location,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Hq => "hq",
            Basis::Location => "location",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "hq" => Some(Basis::Hq),
            "location" => Some(Basis::Location),
            _ => None,
        }
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One provision figure: provider x item (or stage) x share x year x source x basis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Share {
    pub provider: Id,
    /// Item id or stage id.
    pub item: Id,
    /// Percent of the global market; `None` means "listed as a provider, no number".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Source id (see [`Source`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub basis: Basis,
}
