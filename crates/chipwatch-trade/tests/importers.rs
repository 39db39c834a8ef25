//! The importers on fixtures of each published layout, including their quirks, and on
//! malformed input.

use chipwatch_trade::import::{self, baci, comext, comtrade, Collector, ImportOptions, Layout};
use chipwatch_trade::schema::{Flow, TradeRecord};
use chipwatch_trade::TradeError;
use std::path::{Path, PathBuf};

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
}

fn parse_with(
    f: impl FnOnce(
        &mut Collector,
        &mut dyn FnMut(TradeRecord) -> chipwatch_trade::Result<()>,
    ) -> chipwatch_trade::Result<()>,
) -> (Vec<TradeRecord>, Collector) {
    let mut col = Collector::default();
    let mut rows = Vec::new();
    f(&mut col, &mut |r| {
        rows.push(r);
        Ok(())
    })
    .unwrap();
    (rows, col)
}

fn countries() -> baci::Countries {
    let f = fixture("baci/country_codes_V202401.csv");
    baci::Countries::parse(&f, std::fs::File::open(&f).unwrap()).unwrap()
}

#[test]
fn baci_rows_are_exports_in_usd_and_tonnes_with_unknown_codes_as_x() {
    let f = fixture("baci/BACI_HS22_Y2022_V202401.csv");
    let c = countries();
    assert_eq!(c.len(), 7);
    assert_eq!(
        c.resolve(251),
        Some("FRA"),
        "BACI's France is 251, not ISO 250"
    );
    assert_eq!(c.resolve(490), None, "S19 is not an ISO country");
    let (rows, col) = parse_with(|col, sink| {
        baci::parse(
            &f,
            std::fs::File::open(&f).unwrap(),
            &c,
            "V202401",
            col,
            sink,
        )
    });
    assert_eq!(rows.len(), 10);
    let r = &rows[0];
    assert_eq!((r.reporter.as_str(), r.partner.as_str()), ("NLD", "KOR"));
    assert_eq!(r.flow, Flow::Export);
    assert_eq!(r.value, 3_500_500.0);
    assert_eq!(r.currency, "USD");
    assert_eq!(r.quantity, Some(120.25));
    assert_eq!(r.unit.as_deref(), Some("t"));
    assert_eq!(r.month, None);
    assert_eq!(rows[2].quantity, None, "NA with spaces");
    assert_eq!(rows[4].reporter, "_X", "490 Other Asia nes");
    assert_eq!(rows[5].value, 7_000_000.0, "quoted value");
    assert_eq!(rows[8].reporter, "_X", "999 is not in the country file");
    assert_eq!(rows[9].code, "010121", "leading zero restored");
    assert_eq!(col.summary.counts["unknown_reporter"], 2);
    assert_eq!(col.summary.counts["padded_code"], 1);
    assert_eq!(col.summary.unknown_values["i=999"], 1);
}

#[test]
fn comtrade_api_csv_skips_aggregates_and_breakdowns_and_keeps_reexports() {
    let f = fixture("comtrade/comtrade_api_2023.csv");
    let (rows, col) = parse_with(|col, sink| {
        comtrade::parse(&f, std::fs::File::open(&f).unwrap(), "v1", col, sink)
    });
    assert_eq!(col.summary.rows_read, 10);
    // World, customs breakdown and MIP rows are skipped.
    assert_eq!(rows.len(), 7, "{rows:#?}");
    assert_eq!(col.summary.counts["skipped_aggregate"], 1);
    assert_eq!(col.summary.counts["skipped_breakdown"], 1);
    assert_eq!(col.summary.counts["skipped_flow"], 1);
    assert_eq!(col.summary.counts["unknown_partner"], 1);
    assert_eq!(col.summary.counts["confidential"], 1);
    assert_eq!(col.summary.confidential_value["USD"], 70000.0);
    let r = &rows[0];
    assert_eq!((r.year, r.month), (2023, Some(1)));
    assert_eq!(
        (r.reporter.as_str(), r.partner.as_str(), r.flow),
        ("KOR", "NLD", Flow::Import)
    );
    assert_eq!(r.value, 300_000_000.0);
    assert_eq!((r.quantity, r.unit.as_deref()), (Some(2.0), Some("u")));
    let rx = rows.iter().find(|r| r.flow == Flow::ReExport).unwrap();
    assert_eq!(
        (rx.quantity, rx.unit.as_deref()),
        (Some(3.5), Some("kg")),
        "net weight when qty has no unit"
    );
    assert!(rows.iter().any(|r| r.partner == "_X"));
}

#[test]
fn comtrade_legacy_bulk_csv() {
    let f = fixture("comtrade/legacy_bulk_2021.csv");
    let (rows, _) = parse_with(|col, sink| {
        comtrade::parse(&f, std::fs::File::open(&f).unwrap(), "legacy", col, sink)
    });
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].flow, Flow::Import);
    assert_eq!(rows[0].month, None);
    assert_eq!(
        rows[1].quantity,
        Some(5000.0),
        "net weight when Qty is empty"
    );
    assert_eq!(rows[2].flow, Flow::ReExport, "legacy code 3 is a re-export");
}

#[test]
fn comext_monthly_cn8_with_confidential_rows() {
    let f = fixture("comext/full202301.csv");
    let (rows, col) = parse_with(|col, sink| {
        comext::parse(&f, std::fs::File::open(&f).unwrap(), "202301", col, sink)
    });
    assert_eq!(rows.len(), 8);
    let r = &rows[0];
    assert_eq!(
        (r.reporter.as_str(), r.partner.as_str(), r.flow),
        ("NLD", "KOR", Flow::Export)
    );
    assert_eq!((r.code.as_str(), r.code_level()), ("84862000", 8));
    assert_eq!(r.currency, "EUR");
    assert_eq!(rows[3].reporter, "GRC", "EL is Greece");
    assert_eq!(rows[4].partner, "_X", "QZ");
    assert_eq!(
        (rows[5].code.as_str(), rows[5].code_level()),
        ("85SSS000", 2)
    );
    assert_eq!(rows[6].partner, "_X", "XS");
    assert_eq!(rows[7].month, None, "PERIOD month 52 is annual");
    assert_eq!(col.summary.counts["confidential"], 2);
    assert_eq!(col.summary.counts["unknown_partner"], 1);
}

fn err_of(layout: Layout, text: &str) -> TradeError {
    let f = Path::new("bad.csv");
    let mut col = Collector::default();
    let mut sink = |_r: TradeRecord| Ok(());
    match layout {
        Layout::Baci => baci::parse(f, text.as_bytes(), &countries(), "v", &mut col, &mut sink),
        Layout::Comtrade => comtrade::parse(f, text.as_bytes(), "v", &mut col, &mut sink),
        Layout::Comext => comext::parse(f, text.as_bytes(), "v", &mut col, &mut sink),
    }
    .unwrap_err()
}

const COMTRADE_HEADER: &str = "period,reporterISO,partnerISO,flowCode,cmdCode,primaryValue\n";
const COMEXT_HEADER: &str = "DECLARANT_ISO,PARTNER_ISO,PRODUCT_NC,FLOW,PERIOD,VALUE_IN_EUROS\n";

/// The error for one data row under `header` starts with `prefix` (file, line and field).
fn assert_row_error(layout: Layout, header: &str, row: &str, prefix: &str) {
    let e = err_of(layout, &format!("{header}{row}\n"));
    assert!(e.to_string().starts_with(prefix), "{e}");
}

#[test]
fn malformed_input_names_file_line_and_field() {
    let e = err_of(
        Layout::Baci,
        "t,i,j,k,v,q\n2022,528,410,848620,1,1\n2022,528,410,848620,abc,1\n",
    );
    assert_eq!(e.to_string(), "bad.csv:3: field `v`: `abc` is not a number");
    let e = err_of(Layout::Baci, "t,i,j,k,v,q\n2022,528,410,84A620,1,1\n");
    assert!(e.to_string().starts_with("bad.csv:2: field `k`"), "{e}");
    let e = err_of(Layout::Baci, "t,i,j,k,v,q\n2022,528,410,848620,-5,1\n");
    assert!(e.to_string().contains("field `v`"), "{e}");
    let e = err_of(Layout::Baci, "t,i,j,v,q\n");
    assert!(e.to_string().contains("no column `k`"), "{e}");
    assert_row_error(
        Layout::Comtrade,
        COMTRADE_HEADER,
        "202313,KOR,NLD,M,848620,1",
        "bad.csv:2: field `period`",
    );
    let e = err_of(
        Layout::Comtrade,
        &format!("{COMTRADE_HEADER}2023,KOR,NLD,M,848620,\n"),
    );
    assert_eq!(
        e.to_string(),
        "bad.csv:2: field `primaryValue`: empty; a value is required"
    );
    assert_row_error(
        Layout::Comext,
        COMEXT_HEADER,
        "NL,KR,84862000,3,202301,1",
        "bad.csv:2: field `FLOW`",
    );
    let e = err_of(Layout::Comext, "");
    assert!(e.to_string().contains("empty"), "{e}");
}

#[test]
fn import_writes_a_partitioned_dataset_and_a_summary_with_mirror_gaps() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ds");
    let s = import::import(
        Layout::Comtrade,
        &[fixture("comtrade/comtrade_api_2023.csv")],
        &out,
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(s.rows_written, 7);
    assert!(out
        .join("source=comtrade/year=2023/part-00000.parquet")
        .is_file());
    // KOR declares 300M of imports from NLD in January, NLD 100M of exports to KOR.
    assert_eq!(s.mirror_gap_count, 1, "{:#?}", s.mirror_gaps);
    let g = &s.mirror_gaps[0];
    assert_eq!(
        (g.exporter.as_str(), g.importer.as_str(), g.code.as_str()),
        ("NLD", "KOR", "848620")
    );
    assert_eq!(
        (g.declared_export, g.declared_import),
        (100_000_000.0, 300_000_000.0)
    );
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("_imports/comtrade-0000.summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["rows_written"], 7);
    // A second import adds files instead of overwriting them.
    import::import(
        Layout::Comtrade,
        &[fixture("comtrade/comtrade_api_2023.csv")],
        &out,
        &ImportOptions::default(),
    )
    .unwrap();
    assert!(out
        .join("source=comtrade/year=2023/part-00001.parquet")
        .is_file());
    assert!(out.join("_imports/comtrade-0001.summary.json").is_file());

    // BACI needs its country file among the inputs.
    let e = import::import(
        Layout::Baci,
        &[fixture("baci/BACI_HS22_Y2022_V202401.csv")],
        &out,
        &ImportOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("country-code file"), "{e}");
}

/// Periods of six bytes that are not six ASCII characters (a byte-order mark or a CJK character
/// inside the field) were sliced at byte 4 and panicked; found by the fuzz campaign
/// (`trade_comtrade_csv`, `trade_comext_csv`). They are errors naming the field.
#[test]
fn a_period_with_a_multi_byte_character_is_an_error_not_a_panic() {
    assert_row_error(
        Layout::Comtrade,
        COMTRADE_HEADER,
        "202\u{feff},KOR,NLD,M,848620,1",
        "bad.csv:2: field `period`",
    );
    assert_row_error(
        Layout::Comext,
        COMEXT_HEADER,
        "NL,KR,84862000,1,202\u{fede},1",
        "bad.csv:2: field `PERIOD`",
    );
}
