//! Trade statistics of critical items, on Apache DataFusion.
//!
//! Governments watch disruptions of critical items first of all in trade statistics. This crate
//! turns the published layouts of UN Comtrade, CEPII BACI and Eurostat Comext into one
//! normalised Parquet dataset ([`schema`]), writes realistic synthetic data of any size
//! ([`gen`]), and computes dependency indicators and short-term alerts as DataFusion SQL plans
//! ([`indicators`]) over that dataset, so the same plans can run embedded (the default) or on a
//! cluster.
//!
//! - [`import`]: the three importers; each writes a hive-partitioned Parquet dataset
//!   (`source=…/year=…/part-….parquet`) and an import summary with diagnostics.
//! - [`engine`]: a DataFusion session with the dataset registered as the table `trade` and the
//!   view `bilateral` (exporter, importer, code, value per period).
//! - [`indicators`]: import and export concentration (HHI on the 0–10,000 scale), imports over
//!   exports, the GeoDep strategic-dependency flag, bilateral dependence over time, alerts, and
//!   the chip trade matrix for the scenario engine.
//! - [`hs`]: the HS-to-model mapping of `data/hs/mapping.toml`.
//!
//! Formulas and their sources are in `docs/trade.md`.

pub mod engine;
pub mod error;
pub mod gen;
pub mod hs;
pub mod import;
pub mod indicators;
pub mod schema;
pub mod writer;

pub use error::TradeError;

/// A `Result` with this crate's error.
pub type Result<T> = std::result::Result<T, TradeError>;
