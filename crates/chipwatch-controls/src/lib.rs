//! chipwatch-controls: the export-control rules engine.
//!
//! - [`measure`]: control measures as data (one TOML file per legal instrument and version under
//!   `data/controls/`): jurisdiction, instrument and citation, validity in time (entry into force,
//!   replacement, suspensions, grandfathering), item predicates over parameters and derived
//!   parameters ([`expr`] formulas kept in the data), destinations with dated country groups, end
//!   users, end uses, outcomes with review policy, general authorisations and licence exceptions.
//! - [`engine`]: licence determination per jurisdiction with an explanation, plus the strictest
//!   overall verdict.
//! - [`screening`]: restricted-party screening with normalisation, aliases, Chinese script and
//!   romanisation variants, typos and word order; every list and every hit carries its
//!   provenance ([`ListInfo`]). [`csl`] imports the US Consolidated Screening List (CSV, JSON);
//!   [`lists`] the EU FSF XML, the UK Sanctions List and Japan's End User List, ownership data
//!   for the BIS affiliates rule, and screens every party of a shipment.
//!   [`catalogue`]: named products with public specification values.
//! - [`impact`]: turns a measure into export blocks on the value-chain model and runs the
//!   scenario engine.
//!
//! The crate does no IO: the default data are embedded with `include_str!` and parsed on demand;
//! user files are read by the CLI and handed in as text with their file name.

pub mod baseline;
pub mod batch;
pub mod catalogue;
pub mod country;
pub mod csl;
pub mod date;
pub mod denials;
pub mod engine;
pub mod expr;
pub mod impact;
mod json;
pub mod licence;
pub mod licence_impact;
pub mod lists;
pub mod measure;
pub mod screening;
pub mod value;
pub mod views;

pub use batch::Batch;
pub use catalogue::{Catalogue, Product};
pub use date::Date;
pub use engine::{strictness, Determination, Engine, Overall, RuleSet, Shipment, Verdict};
pub use lists::ownership::{AffiliatesRule, Affiliation, OwnershipData};
pub use lists::parties::{Party, PartyRole, PartyScreening};
pub use measure::{Measure, OutcomeKind, ReviewPolicy};
pub use screening::{Hit, ListEntry, ListInfo, Normaliser, RestrictedList, Screener};
pub use value::Value;

/// Errors of the rules engine; every one names the file and field (or line) at fault.
#[derive(Debug, thiserror::Error)]
pub enum ControlsError {
    #[error("{file}: {message}")]
    Toml { file: String, message: String },
    #[error("{file}: field `{field}`: {message}")]
    Field {
        file: String,
        field: String,
        message: String,
    },
    #[error("{file}:{line}: {message}")]
    Csv {
        file: String,
        line: u64,
        message: String,
    },
    #[error("{file}:{line}: {path}: {message}")]
    Xml {
        file: String,
        line: u64,
        /// Element path, e.g. `export/sanctionEntity[3]/regulation`.
        path: String,
        message: String,
    },
    #[error("{file}: missing column `{column}`")]
    MissingColumn { file: String, column: String },
    #[error("{0}")]
    Conflict(String),
    #[error("field `product`: unknown product `{query}` (names match exactly or by a listed alias){}", if candidates.is_empty() { "; `chipwatch licence products` lists the catalogue".to_string() } else { format!("; did you mean one of: {}", candidates.join(", ")) })]
    UnknownProduct {
        query: String,
        candidates: Vec<String>,
    },
    #[error(
        "field `{field}`: `{value}` is not an ISO 3166-1 alpha-3 country code{}",
        suggestions_text(suggestions, "e.g. NLD, CHN, USA")
    )]
    Country {
        field: String,
        value: String,
        suggestions: Vec<String>,
    },
    #[error(
        "field `end_use`: unknown end use `{value}`{}",
        suggestions_text(suggestions, known)
    )]
    UnknownEndUse {
        value: String,
        suggestions: Vec<String>,
        known: String,
    },
    #[error(
        "field `param`: unknown parameter `{name}`{}",
        suggestions_text(suggestions, "`docs/controls.md` lists the parameters")
    )]
    UnknownParameter {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("the item has no parameter a control measure reads (give --product or --param, e.g. eccn, wavelength_nm, tpp, material)")]
    EmptyItem,
    #[error("unknown measure `{0}`; `chipwatch measure list` shows the measure ids")]
    UnknownMeasure(String),
    #[error("{0}")]
    Licence(String),
    #[error("impact: {0}")]
    Impact(String),
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Uppercase an ISO 3166-1 alpha-3 country code; `None` when it is not one (see [`country`]).
pub fn normalise_country(s: &str) -> Option<String> {
    country::is_iso3(s).then(|| s.trim().to_ascii_uppercase())
}

/// "; did you mean A, B" or "; " + `fallback` when there is nothing to suggest.
fn suggestions_text(suggestions: &[String], fallback: &str) -> String {
    if suggestions.is_empty() {
        format!(" ({fallback})")
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

/// `("data/<path>", contents)` of a file under the repository's `data/` directory.
macro_rules! embed {
    ($p:literal) => {
        (
            concat!("data/", $p),
            include_str!(concat!("../../../data/", $p)),
        )
    };
}

/// Embedded measure and country-group files (file name as shown in messages, text).
pub const EMBEDDED_MEASURES: &[(&str, &str)] = &[
    embed!("controls/country-groups.toml"),
    embed!("controls/eu-2000-1334-3b001f1.toml"),
    embed!("controls/eu-2009-428-3b001f1.toml"),
    embed!("controls/eu-2021-821-3b001f1.toml"),
    embed!("controls/eu-2025-3b501.toml"),
    embed!("controls/eu-2000-1334-annex-i.toml"),
    embed!("controls/eu-2009-428-annex-i.toml"),
    embed!("controls/eu-2021-821-annex-i.toml"),
    embed!("controls/eu-2025-2003-annex-i-5xx.toml"),
    embed!("controls/nl-2023-18212.toml"),
    embed!("controls/nl-2024-amendment.toml"),
    embed!("controls/nl-2025-amendment.toml"),
    embed!("controls/us-3a090-2022.toml"),
    embed!("controls/us-3a090-2023.toml"),
    embed!("controls/us-3a090-2024-04.toml"),
    embed!("controls/us-3a090-2024.toml"),
    embed!("controls/us-744-23-2022.toml"),
    embed!("controls/us-sme-2022.toml"),
    embed!("controls/us-sme-2023.toml"),
    embed!("controls/us-sme-2024.toml"),
    embed!("controls/us-entity-list.toml"),
    embed!("controls/us-ccl-ns1.toml"),
    embed!("controls/us-ccl-ns2.toml"),
    embed!("controls/us-ccl-at1.toml"),
    embed!("controls/us-746-8-russia-belarus.toml"),
    embed!("controls/us-746-8-2022-04.toml"),
    embed!("controls/us-744-21-meu.toml"),
    embed!("controls/us-is-informed-2025-h20.toml"),
    embed!("controls/jp-2004-materials.toml"),
    embed!("controls/jp-2019-korea.toml"),
    embed!("controls/jp-2023-korea-lifted.toml"),
    embed!("controls/jp-2023-sme.toml"),
    embed!("controls/cn-2023-23-gallium-germanium.toml"),
    embed!("controls/cn-2023-39-graphite.toml"),
    embed!("controls/cn-2024-33-antimony.toml"),
    embed!("controls/cn-2024-46-usa.toml"),
    embed!("controls/cn-2024-51-list-gallium-germanium.toml"),
    embed!("controls/cn-2024-51-list-graphite.toml"),
    embed!("controls/cn-2024-51-list-antimony.toml"),
];

/// Embedded product catalogue files.
pub const EMBEDDED_PRODUCTS: &[(&str, &str)] = &[
    embed!("products/asml.toml"),
    embed!("products/nvidia.toml"),
    embed!("products/materials.toml"),
];

/// Embedded default restricted-party list.
pub const EMBEDDED_LIST: (&str, &str) = embed!("screening/default-list.toml");
/// The BIS affiliates rule (50% ownership), with its dates.
pub const EMBEDDED_AFFILIATES_RULE: (&str, &str) = embed!("screening/us-affiliates-rule.toml");
/// Traditional -> simplified character table.
pub const EMBEDDED_T2S: &str = include_str!("../../../data/screening/zh-t2s.txt");
/// Character -> pinyin table.
pub const EMBEDDED_PINYIN: &str = include_str!("../../../data/screening/pinyin.txt");

/// The normalisation tables shipped with chipwatch.
pub fn default_normaliser() -> Normaliser {
    Normaliser::from_tables(EMBEDDED_T2S, EMBEDDED_PINYIN)
}

/// The default restricted-party list.
pub fn default_list() -> Result<RestrictedList, ControlsError> {
    RestrictedList::from_toml_str(EMBEDDED_LIST.1, EMBEDDED_LIST.0)
}

/// The BIS affiliates rule shipped with chipwatch.
pub fn default_affiliates_rule() -> Result<AffiliatesRule, ControlsError> {
    AffiliatesRule::from_toml_str(EMBEDDED_AFFILIATES_RULE.1, EMBEDDED_AFFILIATES_RULE.0)
}

/// The default product catalogue.
pub fn default_catalogue() -> Result<Catalogue, ControlsError> {
    Catalogue::from_sources(EMBEDDED_PRODUCTS)
}

/// The engine over the embedded measures, catalogue and restricted-party list.
pub fn default_engine() -> Result<Engine, ControlsError> {
    let screener = Screener::new(default_normaliser(), vec![default_list()?]);
    Engine::from_sources(EMBEDDED_MEASURES, default_catalogue()?, screener)
}
