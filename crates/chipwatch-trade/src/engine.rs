//! The query engine: a DataFusion session over the dataset.
//!
//! [`Engine::open`] registers the hive-partitioned dataset under `DIR` as the table `trade`
//! (the columns of [`schema`](crate::schema), `source` and `year` from the directory names, so
//! filters on them prune whole directories) and the view `bilateral`, which puts every flow the
//! same way round: `exporter`, `importer`, `code`, `value` … BACI rows are exports (BACI
//! reconciles both declarations into one flow); for Comtrade and Comext the view takes the
//! importers' declarations, which are the ones customs check most (and are CIF). Every
//! indicator reads `bilateral`.

use crate::schema::{file_schema, partition_columns};
use crate::{Result, TradeError};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::ListingOptions;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The SQL of the `bilateral` view. A `UNION ALL` of the two orientations rather than `CASE`
/// expressions: a filter on `importer` or `exporter` then reaches the Parquet scan as a filter on
/// a plain column (statistics pruning, late materialisation), and the `source` partition prunes
/// the branch that does not apply. The indicator queries ran about 5x faster on 10^7 rows
/// (docs/benchmarks.md, "Trade statistics").
///
/// The BACI branch does not test `flow`: every BACI row is an export (BACI reconciles both
/// declarations into one flow, and [`DatasetWriter`](crate::writer::DatasetWriter) refuses a
/// BACI row with any other flow). The test would decode and compare a string per row to keep
/// them all: 0.05-0.2 s of world export concentration's 1.5 s on 10^8 rows (docs/benchmarks.md,
/// "Session 16"). DuckDB drops such a test itself when the column's statistics show one value;
/// DataFusion evaluates it.
pub const BILATERAL_VIEW: &str = "CREATE VIEW bilateral AS \
SELECT source, year, month, reporter AS exporter, partner AS importer, \
  code, code_level, value, currency, quantity, unit \
FROM trade WHERE source = 'baci' \
UNION ALL \
SELECT source, year, month, partner AS exporter, reporter AS importer, \
  code, code_level, value, currency, quantity, unit \
FROM trade WHERE source <> 'baci' AND flow = 'import'";

/// The `bilateral` view without a union, for a Ballista cluster: Ballista 55.0's scheduler
/// fails to account for a stage whose `UNION ALL` has an empty branch (the source the filter
/// pruned), logs "task metrics array size … does not equal …" and never finishes the job. The
/// same rows, oriented by `CASE` expressions on the source (BACI rows are exports, the others
/// kept are imports); slower on selective filters (docs/trade.md).
pub const BILATERAL_VIEW_NO_UNION: &str = "CREATE VIEW bilateral AS \
SELECT source, year, month, \
  CASE WHEN source = 'baci' THEN reporter ELSE partner END AS exporter, \
  CASE WHEN source = 'baci' THEN partner ELSE reporter END AS importer, \
  code, code_level, value, currency, quantity, unit \
FROM trade \
WHERE source = 'baci' OR flow = 'import'";

/// The environment variable that caps the embedded engine's memory (`8G`, `512M`): beyond it,
/// sorts and aggregations spill to disk.
pub const MEMORY_LIMIT_VAR: &str = "CHIPWATCH_TRADE_MEMORY_LIMIT";

/// Reads a memory limit as bytes with DataFusion's own parser (a number, then `K`, `M` or `G`:
/// `8G`, `1.5G`, `512M`); a limit of zero bytes is refused too.
pub fn memory_limit(v: &str) -> Result<usize> {
    let bad = |why: String| TradeError::Invalid(format!("{MEMORY_LIMIT_VAR}=`{v}`: {why}"));
    match SessionContext::parse_capacity_limit(MEMORY_LIMIT_VAR, v.trim()) {
        Ok(0) => Err(bad("a limit of zero bytes".into())),
        Ok(n) => Ok(n),
        Err(e) => Err(bad(format!("expected a size such as 8G or 512M ({e})"))),
    }
}

/// A DataFusion session with the dataset registered.
pub struct Engine {
    ctx: SessionContext,
    dir: PathBuf,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("dir", &self.dir).finish()
    }
}

/// The full table schema (file columns and partition columns), as the engine sees it.
pub fn table_schema() -> Arc<Schema> {
    let mut fields: Vec<Field> = file_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    for (n, t) in partition_columns() {
        fields.push(Field::new(n, t, false));
    }
    Arc::new(Schema::new(fields))
}

/// The file schema as the scan reads it: text columns as `Utf8View` (DataFusion's string view
/// arrays, which compare and hash short strings such as country codes inline instead of through
/// an offsets buffer).
pub fn scan_schema() -> Arc<Schema> {
    let fields: Vec<Field> = file_schema()
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8 => Field::new(f.name(), DataType::Utf8View, f.is_nullable()),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// Registers the dataset at `dir` as `trade` and the view `bilateral` on `ctx`.
pub async fn register(ctx: &SessionContext, dir: &Path) -> Result<()> {
    register_with_view(ctx, dir, BILATERAL_VIEW).await
}

/// Registers the dataset at `dir` as `trade` and `view` (a `CREATE VIEW bilateral` statement).
pub async fn register_with_view(ctx: &SessionContext, dir: &Path, view: &str) -> Result<()> {
    if !dir.is_dir() {
        return Err(TradeError::Invalid(format!(
            "{}: no trade dataset here (run `chipwatch trade import` or `trade gen` first)",
            dir.display()
        )));
    }
    let abs = std::fs::canonicalize(dir).map_err(|e| TradeError::io(dir, e))?;
    let url = format!("file://{}/", abs.display());
    let opts = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(partition_columns());
    ctx.register_listing_table("trade", url, opts, Some(scan_schema()), None)
        .await?;
    ctx.sql(view).await?.collect().await?;
    check_baci_flows(ctx, dir).await
}

/// Fails if a BACI row is not an export: both `bilateral` views read every BACI row as an
/// export without testing its flow, and [`DatasetWriter`](crate::writer::DatasetWriter) never
/// writes another, but files put into the directory by other means could. The row-group
/// statistics answer it (a BACI file's `flow` is `export` from minimum to maximum), so only the
/// footers are read, but they are read: opening 10^8 rows (six files) went from 3-5 ms to
/// 12-16 ms, and the first query did not get faster for it (docs/benchmarks.md, "Session 16").
async fn check_baci_flows(ctx: &SessionContext, dir: &Path) -> Result<()> {
    let sql = "SELECT COUNT(*) AS n FROM trade WHERE source = 'baci' AND flow <> 'export'";
    let t = Table::collect(ctx.sql(sql).await?).await?;
    match t
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(|v| v.as_i64())
    {
        Some(0) => Ok(()),
        Some(n) => Err(TradeError::Invalid(format!(
            "{}: {n} row(s) under source=baci are not exports (column `flow`); BACI rows are \
             exports, and the indicators read them so: re-import the BACI files with \
             `chipwatch trade import`",
            dir.display()
        ))),
        None => Err(TradeError::Invalid(format!(
            "{}: could not count the BACI rows that are not exports",
            dir.display()
        ))),
    }
}

impl Engine {
    /// Opens the dataset at `dir`; `partitions` sets DataFusion's target partitions (default:
    /// the number of cores).
    pub async fn open(dir: &Path, partitions: Option<usize>) -> Result<Self> {
        // DataFusion's own options can be tuned from the environment (for example
        // DATAFUSION_EXECUTION_PARQUET_PUSHDOWN_FILTERS=true); a bad value is an error here.
        let mut config = SessionConfig::from_env()?.with_information_schema(true);
        if let Some(n) = partitions {
            config = config.with_target_partitions(n.max(1));
        }
        // Without a limit DataFusion keeps every sort and hash table in memory: the alert series
        // of 10^8 rows held 13.5 GB (docs/benchmarks.md). With one, sorts and aggregations spill
        // to the temporary directory instead. A fair pool, not DataFusion's default greedy one
        // (`SET datafusion.runtime.memory_limit`): with the greedy pool the two sorts of that
        // query took the whole limit and the aggregation beside them failed for want of 1 MB.
        let ctx = match std::env::var(MEMORY_LIMIT_VAR) {
            Ok(limit) => {
                let pool = FairSpillPool::new(memory_limit(&limit)?);
                let runtime = RuntimeEnvBuilder::new()
                    .with_memory_pool(Arc::new(pool))
                    .build_arc()?;
                SessionContext::new_with_config_rt(config, runtime)
            }
            Err(_) => SessionContext::new_with_config(config),
        };
        register(&ctx, dir).await?;
        Ok(Engine {
            ctx,
            dir: dir.to_path_buf(),
        })
    }

    /// Registers the dataset at `dir` on a session made elsewhere, with `view` as the
    /// `bilateral` view: a Ballista cluster's remote context (crate `chipwatch-cluster`, with
    /// [`BILATERAL_VIEW_NO_UNION`]) runs the same indicator SQL as the embedded engine.
    pub async fn with_context(ctx: SessionContext, dir: &Path, view: &str) -> Result<Self> {
        register_with_view(&ctx, dir, view).await?;
        Ok(Engine {
            ctx,
            dir: dir.to_path_buf(),
        })
    }

    /// The session (to run DataFrame plans or register more tables).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Runs one SQL statement and collects the result.
    pub async fn batches(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        Ok(self.ctx.sql(sql).await?.collect().await?)
    }

    /// Runs one SQL statement into a [`Table`].
    pub async fn query(&self, sql: &str) -> Result<Table> {
        Table::collect(self.ctx.sql(sql).await?).await
    }

    /// Runs one SQL statement that keeps few of the rows it reads (one importer's trade) into a
    /// [`Table`], with its filters evaluated inside the Parquet scan: the filter columns are
    /// decoded first and the other columns only for the rows that pass (late materialisation).
    /// On 10^8 rows the KOR-NLD monthly view took 0.05 s instead of 0.07 s (docs/benchmarks.md).
    /// Not the default: on filters that keep a fifth of the rows (the matrix's chip codes) the
    /// same setting made the scan slower (0.31 -> 0.39-0.49 s on 10^7 rows). The same rows
    /// either way; the session's own settings are left as they are.
    pub async fn query_selective(&self, sql: &str) -> Result<Table> {
        let state = self.ctx.state();
        let mut config = state.config().clone();
        config.options_mut().execution.parquet.pushdown_filters = true;
        config.options_mut().execution.parquet.reorder_filters = true;
        // The session's catalog (the `trade` table and the `bilateral` view) is shared, not
        // replaced by a new empty default catalog.
        config
            .options_mut()
            .catalog
            .create_default_catalog_and_schema = false;
        let state = SessionStateBuilder::new_from_existing(state)
            .with_config(config)
            .build();
        Table::collect(SessionContext::new_with_state(state).sql(sql).await?).await
    }

    /// The source asked for, or the dataset's only source when none is asked for (sources
    /// overlap and differ in currency, so indicators read one at a time).
    pub async fn source_or_only(&self, asked: Option<&str>) -> Result<String> {
        if let Some(s) = asked {
            return Ok(s.to_string());
        }
        let all = self.sources().await?;
        match all.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(TradeError::Invalid("the dataset is empty".into())),
            many => Err(TradeError::Invalid(format!(
                "the dataset holds several sources ({}); choose one",
                many.join(", ")
            ))),
        }
    }

    /// The dataset's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The sources present in the dataset.
    pub async fn sources(&self) -> Result<Vec<String>> {
        let t = self
            .query("SELECT DISTINCT source FROM trade ORDER BY source")
            .await?;
        Ok(t.rows
            .iter()
            .filter_map(|r| r[0].as_str().map(str::to_string))
            .collect())
    }
}

/// A query result as plain values: column names and rows of JSON values (numbers stay
/// numbers, nulls stay null).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows.
    pub rows: Vec<Vec<serde_json::Value>>,
}

impl Table {
    /// Runs a planned query and converts its result.
    async fn collect(df: datafusion::dataframe::DataFrame) -> Result<Self> {
        let schema = df.schema().as_arrow().clone();
        let batches = df.collect().await?;
        Table::from_batches(&schema, &batches)
    }

    /// Converts Arrow batches.
    pub fn from_batches(schema: &Schema, batches: &[RecordBatch]) -> Result<Self> {
        use datafusion::arrow::array::*;
        let columns = schema.fields().iter().map(|f| f.name().clone()).collect();
        let mut rows = Vec::new();
        let opts = FormatOptions::default();
        for b in batches {
            let mut out: Vec<Vec<serde_json::Value>> = vec![Vec::new(); b.num_rows()];
            for col in b.columns() {
                let fmt = ArrayFormatter::try_new(col.as_ref(), &opts)?;
                for (i, row) in out.iter_mut().enumerate() {
                    let v = if col.is_null(i) {
                        serde_json::Value::Null
                    } else {
                        match col.data_type() {
                            DataType::Float64 => {
                                let x = col
                                    .as_any()
                                    .downcast_ref::<Float64Array>()
                                    .map(|a| a.value(i));
                                x.and_then(serde_json::Number::from_f64)
                                    .map(serde_json::Value::Number)
                                    .unwrap_or(serde_json::Value::Null)
                            }
                            DataType::Int32 => col
                                .as_any()
                                .downcast_ref::<Int32Array>()
                                .map(|a| a.value(i))
                                .into(),
                            DataType::Int64 => col
                                .as_any()
                                .downcast_ref::<Int64Array>()
                                .map(|a| a.value(i))
                                .into(),
                            DataType::UInt64 => col
                                .as_any()
                                .downcast_ref::<UInt64Array>()
                                .map(|a| a.value(i))
                                .into(),
                            DataType::Boolean => col
                                .as_any()
                                .downcast_ref::<BooleanArray>()
                                .map(|a| a.value(i))
                                .into(),
                            _ => serde_json::Value::String(fmt.value(i).to_string()),
                        }
                    };
                    row.push(v);
                }
            }
            rows.extend(out);
        }
        Ok(Table { columns, rows })
    }

    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The rows as JSON objects in column order, serialised straight from the table: no map
    /// is built per row (for 52,000 rows of the import concentration, building the maps took
    /// longer than the query's window and outer aggregation together; docs/benchmarks.md).
    pub fn records(&self) -> Records<'_> {
        Records(self)
    }

    /// The rows as JSON objects keyed by column name (keys sorted).
    pub fn to_records(&self) -> Vec<serde_json::Map<String, serde_json::Value>> {
        self.rows
            .iter()
            .map(|r| {
                self.columns
                    .iter()
                    .cloned()
                    .zip(r.iter().cloned())
                    .collect()
            })
            .collect()
    }

    /// Writes the table as CSV (header, then rows; nulls empty).
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(&self.columns);
        for r in &self.rows {
            let _ = w.write_record(r.iter().map(cell));
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// Renders an aligned text table.
    pub fn to_text(&self) -> String {
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(cell).collect())
            .collect();
        let mut width: Vec<usize> = self.columns.iter().map(|c| c.len()).collect();
        for r in &cells {
            for (i, c) in r.iter().enumerate() {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let mut s = String::new();
        let line = |s: &mut String, vals: &[String]| {
            let l: Vec<String> = vals
                .iter()
                .enumerate()
                .map(|(i, v)| format!("{v:<w$}", w = width[i]))
                .collect();
            s.push_str(l.join("  ").trim_end());
            s.push('\n');
        };
        line(
            &mut s,
            &self
                .columns
                .iter()
                .map(|c| c.to_uppercase())
                .collect::<Vec<_>>(),
        );
        line(
            &mut s,
            &width.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(),
        );
        for r in &cells {
            line(&mut s, r);
        }
        s
    }
}

/// A [`Table`]'s rows as a JSON array of objects whose keys follow the column order
/// ([`Table::records`]).
#[derive(Debug, Clone, Copy)]
pub struct Records<'a>(&'a Table);

impl Serialize for Records<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.rows.len()))?;
        for r in &self.0.rows {
            seq.serialize_element(&Record(&self.0.columns, r))?;
        }
        seq.end()
    }
}

struct Record<'a>(&'a [String], &'a [serde_json::Value]);

impl Serialize for Record<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0.iter().zip(self.1) {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => {
                if f.abs() >= 1e15 || f.fract() == 0.0 {
                    format!("{f:.0}")
                } else {
                    let s = format!("{f:.6}");
                    s.trim_end_matches('0').trim_end_matches('.').to_string()
                }
            }
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::memory_limit;

    #[test]
    fn memory_limits_are_sizes_with_a_unit() {
        assert_eq!(memory_limit("8G").unwrap(), 8 << 30);
        assert_eq!(memory_limit(" 512M ").unwrap(), 512 << 20);
        assert_eq!(memory_limit("1.5G").unwrap(), 3 << 29);
        for bad in ["", "8", "G", "0G", "8T", "8GB", "512m", "8G'; DROP", "-1G"] {
            let e = memory_limit(bad).unwrap_err().to_string();
            assert!(e.contains("CHIPWATCH_TRADE_MEMORY_LIMIT"), "{bad}: {e}");
        }
    }
}
