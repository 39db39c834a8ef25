//! Streaming writer of the hive-partitioned Parquet dataset.
//!
//! Rows are appended one at a time into Arrow column builders, one set per `(source, year)`
//! partition; a full batch is handed to that partition's open Parquet writer, so memory stays
//! bounded by one batch per partition whatever the number of rows (the generator writes 10^8
//! rows through it).

use crate::schema::{file_schema, Flow, Source, TradeRecord};
use crate::{Result, TradeError};
use datafusion::arrow::array::{
    ArrayRef, Float64Builder, Int32Builder, RecordBatch, StringBuilder,
};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows per Arrow batch handed to the Parquet writer.
const BATCH_ROWS: usize = 64 * 1024;

/// One row to append, borrowing its strings.
#[derive(Debug, Clone, Copy)]
pub struct RowRef<'a> {
    /// Reference year (partition).
    pub year: i32,
    /// Month, or `None` for annual data.
    pub month: Option<u8>,
    /// Reporter ISO3.
    pub reporter: &'a str,
    /// Partner ISO3 or `_X`.
    pub partner: &'a str,
    /// Flow.
    pub flow: Flow,
    /// Product code.
    pub code: &'a str,
    /// Value.
    pub value: f64,
    /// Currency.
    pub currency: &'a str,
    /// Quantity.
    pub quantity: Option<f64>,
    /// Unit.
    pub unit: Option<&'a str>,
    /// Vintage.
    pub vintage: &'a str,
}

impl<'a> From<&'a TradeRecord> for RowRef<'a> {
    fn from(r: &'a TradeRecord) -> Self {
        RowRef {
            year: r.year,
            month: r.month,
            reporter: &r.reporter,
            partner: &r.partner,
            flow: r.flow,
            code: &r.code,
            value: r.value,
            currency: r.currency,
            quantity: r.quantity,
            unit: r.unit.as_deref(),
            vintage: &r.vintage,
        }
    }
}

struct Builders {
    month: Int32Builder,
    reporter: StringBuilder,
    partner: StringBuilder,
    flow: StringBuilder,
    code: StringBuilder,
    code_level: Int32Builder,
    value: Float64Builder,
    currency: StringBuilder,
    quantity: Float64Builder,
    unit: StringBuilder,
    vintage: StringBuilder,
    len: usize,
}

impl Builders {
    fn new() -> Self {
        Builders {
            month: Int32Builder::with_capacity(BATCH_ROWS),
            reporter: StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 3),
            partner: StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 3),
            flow: StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 6),
            code: StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 6),
            code_level: Int32Builder::with_capacity(BATCH_ROWS),
            value: Float64Builder::with_capacity(BATCH_ROWS),
            currency: StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 3),
            quantity: Float64Builder::with_capacity(BATCH_ROWS),
            unit: StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS),
            vintage: StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 8),
            len: 0,
        }
    }

    fn push(&mut self, r: &RowRef<'_>) {
        self.month.append_option(r.month.map(i32::from));
        self.reporter.append_value(r.reporter);
        self.partner.append_value(r.partner);
        self.flow.append_value(r.flow.as_str());
        self.code.append_value(r.code);
        let level = r.code.bytes().take_while(u8::is_ascii_digit).count() as i32;
        self.code_level.append_value(level);
        self.value.append_value(r.value);
        self.currency.append_value(r.currency);
        self.quantity.append_option(r.quantity);
        self.unit.append_option(r.unit);
        self.vintage.append_value(r.vintage);
        self.len += 1;
    }

    fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.month.finish()),
            Arc::new(self.reporter.finish()),
            Arc::new(self.partner.finish()),
            Arc::new(self.flow.finish()),
            Arc::new(self.code.finish()),
            Arc::new(self.code_level.finish()),
            Arc::new(self.value.finish()),
            Arc::new(self.currency.finish()),
            Arc::new(self.quantity.finish()),
            Arc::new(self.unit.finish()),
            Arc::new(self.vintage.finish()),
        ];
        self.len = 0;
        Ok(RecordBatch::try_new(schema.clone(), cols)?)
    }
}

struct Partition {
    builders: Builders,
    writer: ArrowWriter<File>,
    path: PathBuf,
    rows: u64,
}

/// Writes rows into `DIR/source=S/year=Y/part-NNNNN.parquet`, one file per partition and writer.
pub struct DatasetWriter {
    dir: PathBuf,
    schema: SchemaRef,
    parts: BTreeMap<(Source, i32), Partition>,
    files: Vec<PathBuf>,
    rows: u64,
}

impl std::fmt::Debug for DatasetWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatasetWriter")
            .field("dir", &self.dir)
            .field("rows", &self.rows)
            .finish()
    }
}

/// The partition directory of `source` and `year` under `dir`.
pub fn partition_dir(dir: &Path, source: Source, year: i32) -> PathBuf {
    dir.join(format!("source={source}"))
        .join(format!("year={year}"))
}

impl DatasetWriter {
    /// A writer into `dir` (created if missing). Files already there are kept: new files take
    /// the next free part number, so importing more files adds to the dataset.
    pub fn new(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| TradeError::io(dir, e))?;
        Ok(DatasetWriter {
            dir: dir.to_path_buf(),
            schema: file_schema(),
            parts: BTreeMap::new(),
            files: Vec::new(),
            rows: 0,
        })
    }

    /// Appends one record.
    pub fn push_record(&mut self, r: &TradeRecord) -> Result<()> {
        self.push(r.source, &RowRef::from(r))
    }

    /// Appends one row of `source`.
    pub fn push(&mut self, source: Source, r: &RowRef<'_>) -> Result<()> {
        // The `bilateral` view takes every BACI row as an export without testing the flow
        // (engine::BILATERAL_VIEW): a BACI row with another flow would be misread there.
        if source == Source::Baci && r.flow != Flow::Export {
            return Err(TradeError::Invalid(format!(
                "a BACI row must be an export (BACI reconciles both declarations into one flow), not `{}`",
                r.flow
            )));
        }
        let key = (source, r.year);
        if !self.parts.contains_key(&key) {
            let p = self.open(source, r.year)?;
            self.parts.insert(key, p);
        }
        let schema = self.schema.clone();
        let part = self.parts.get_mut(&key).expect("opened above");
        part.builders.push(r);
        part.rows += 1;
        self.rows += 1;
        if part.builders.len >= BATCH_ROWS {
            let batch = part.builders.finish(&schema)?;
            part.writer.write(&batch)?;
        }
        Ok(())
    }

    fn open(&mut self, source: Source, year: i32) -> Result<Partition> {
        let pdir = partition_dir(&self.dir, source, year);
        std::fs::create_dir_all(&pdir).map_err(|e| TradeError::io(&pdir, e))?;
        let mut n = 0u32;
        let path = loop {
            let p = pdir.join(format!("part-{n:05}.parquet"));
            if !p.exists() {
                break p;
            }
            n += 1;
        };
        let file = File::create(&path).map_err(|e| TradeError::io(&path, e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(1 << 20))
            .build();
        let writer = ArrowWriter::try_new(file, self.schema.clone(), Some(props))?;
        Ok(Partition {
            builders: Builders::new(),
            writer,
            path,
            rows: 0,
        })
    }

    /// Rows appended so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes and closes every file; returns the files written with their row counts.
    pub fn finish(mut self) -> Result<Vec<(PathBuf, u64)>> {
        let schema = self.schema.clone();
        let mut out = Vec::new();
        for (_, mut p) in std::mem::take(&mut self.parts) {
            if p.builders.len > 0 {
                let batch = p.builders.finish(&schema)?;
                p.writer.write(&batch)?;
            }
            p.writer.close()?;
            out.push((p.path, p.rows));
        }
        self.files = out.iter().map(|(p, _)| p.clone()).collect();
        Ok(out)
    }
}
