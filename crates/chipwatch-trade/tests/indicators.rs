//! Indicator formulas against hand-computed cases and an independent computation in plain Rust;
//! alerts against the generator's injected shocks.

use chipwatch_trade::engine::{Engine, Table};
use chipwatch_trade::gen::{generate, GenOptions};
use chipwatch_trade::hs::Mapping;
use chipwatch_trade::import::{self, ImportOptions, Layout};
use chipwatch_trade::indicators::{self as ind, AlertSettings, DependenceThresholds, Scope};
use chipwatch_trade::schema::{Flow, Source, TradeRecord};
use chipwatch_trade::writer::DatasetWriter;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
}

fn rec(year: i32, from: &str, to: &str, code: &str, value: f64) -> TradeRecord {
    TradeRecord {
        year,
        month: None,
        reporter: from.into(),
        partner: to.into(),
        flow: Flow::Export,
        code: code.into(),
        value,
        currency: "USD",
        quantity: None,
        unit: None,
        source: Source::Baci,
        vintage: "hand".into(),
    }
}

fn write(dir: &Path, rows: &[TradeRecord]) {
    let mut w = DatasetWriter::new(dir).unwrap();
    for r in rows {
        w.push_record(r).unwrap();
    }
    w.finish().unwrap();
}

fn get<'a>(t: &'a Table, row: usize, col: &str) -> &'a serde_json::Value {
    &t.rows[row][t
        .column(col)
        .unwrap_or_else(|| panic!("no column {col}: {:?}", t.columns))]
}

fn f(t: &Table, row: usize, col: &str) -> f64 {
    get(t, row, col).as_f64().unwrap()
}

fn s<'a>(t: &'a Table, row: usize, col: &str) -> &'a str {
    get(t, row, col).as_str().unwrap_or("")
}

#[tokio::test]
async fn concentration_hand_computed() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[
            rec(2022, "NLD", "KOR", "848620", 50.0),
            rec(2022, "JPN", "KOR", "848620", 30.0),
            rec(2022, "USA", "KOR", "848620", 20.0),
            rec(2022, "NLD", "CHN", "848620", 100.0),
        ],
    );
    let e = Engine::open(tmp.path(), Some(4)).await.unwrap();
    let scope = Scope::default();
    let t = e
        .query(&ind::import_concentration(&scope, Some("KOR")).unwrap())
        .await
        .unwrap();
    assert_eq!(t.rows.len(), 1);
    // Shares 50, 30, 20 %: 2500 + 900 + 400.
    assert!((f(&t, 0, "hhi") - 3800.0).abs() < 1e-9, "{t:?}");
    assert_eq!((s(&t, 0, "top1"), f(&t, 0, "top1_share")), ("NLD", 50.0));
    assert_eq!((s(&t, 0, "top3"), f(&t, 0, "top3_share")), ("USA", 20.0));
    assert_eq!(f(&t, 0, "partners"), 3.0);
    // World exports: NLD 150, JPN 30, USA 20 of 200 → 75, 15, 10 %: 5625 + 225 + 100.
    let t = e
        .query(&ind::export_concentration(&scope).unwrap())
        .await
        .unwrap();
    assert!((f(&t, 0, "hhi") - 5950.0).abs() < 1e-9, "{t:?}");
    assert_eq!(f(&t, 0, "world_exports"), 200.0);
}

#[tokio::test]
async fn dependence_flag_needs_two_of_three_years() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    for y in 2019..=2022 {
        // KOR buys 848620 mostly from NLD; NLD dominates world exports.
        rows.push(rec(y, "NLD", "KOR", "848620", 90.0));
        rows.push(rec(y, "JPN", "KOR", "848620", 10.0));
        rows.push(rec(y, "NLD", "CHN", "848620", 100.0));
        // KOR exports the code in 2019 and 2022 more than it imports: not "non-substitutable".
        if y == 2019 || y == 2022 {
            rows.push(rec(y, "KOR", "USA", "848620", 500.0));
        }
    }
    write(tmp.path(), &rows);
    let e = Engine::open(tmp.path(), Some(3)).await.unwrap();
    let t = e
        .query(
            &ind::dependence(
                &Scope::default(),
                Some("KOR"),
                &DependenceThresholds::default(),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let by_year: BTreeMap<i64, (bool, i64, bool)> = (0..t.rows.len())
        .map(|i| {
            (
                get(&t, i, "year").as_i64().unwrap(),
                (
                    get(&t, i, "criteria_met").as_bool().unwrap(),
                    get(&t, i, "years_met").as_i64().unwrap(),
                    get(&t, i, "dependent").as_bool().unwrap(),
                ),
            )
        })
        .collect();
    // Import HHI 8200; world export HHI (NLD 190 of 200 + 500 KOR in 2019/22) ...
    assert_eq!(by_year[&2019], (false, 0, false));
    assert_eq!(by_year[&2020], (true, 1, false));
    assert_eq!(by_year[&2021], (true, 2, true));
    assert_eq!(by_year[&2022], (false, 2, true));
    assert!((f(&t, 1, "import_hhi") - 8200.0).abs() < 1e-9);
    assert_eq!(f(&t, 1, "ratio"), 9999.0, "no exports in 2020");
}

/// Independent computation: HHI per importer, code and year from the parsed fixture rows.
#[tokio::test]
async fn indicators_match_plain_rust_over_the_fixture() {
    let tmp = tempfile::tempdir().unwrap();
    let files = [
        fixture("baci/country_codes_V202401.csv"),
        fixture("baci/BACI_HS22_Y2022_V202401.csv"),
    ];
    import::import(Layout::Baci, &files, tmp.path(), &ImportOptions::default()).unwrap();
    // The same rows, parsed again, summed in plain Rust.
    let c = {
        let f = &files[0];
        chipwatch_trade::import::baci::Countries::parse(f, std::fs::File::open(f).unwrap()).unwrap()
    };
    let mut rows = Vec::new();
    let mut col = chipwatch_trade::import::Collector::default();
    chipwatch_trade::import::baci::parse(
        &files[1],
        std::fs::File::open(&files[1]).unwrap(),
        &c,
        "v",
        &mut col,
        &mut |r| {
            rows.push(r);
            Ok(())
        },
    )
    .unwrap();
    let mut by: BTreeMap<(String, String, i32), BTreeMap<String, f64>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.reporter != r.partner) {
        *by.entry((r.partner.clone(), r.code.clone(), r.year))
            .or_default()
            .entry(r.reporter.clone())
            .or_default() += r.value;
    }
    let expect: Vec<(String, String, i32, f64, f64)> = by
        .iter()
        .map(|((imp, code, y), parts)| {
            let total: f64 = parts.values().sum();
            let hhi: f64 = parts.values().map(|v| (100.0 * v / total).powi(2)).sum();
            (imp.clone(), code.clone(), *y, total, hhi)
        })
        .collect();
    let e = Engine::open(tmp.path(), Some(2)).await.unwrap();
    let t = e
        .query(&ind::import_concentration(&Scope::default(), None).unwrap())
        .await
        .unwrap();
    assert_eq!(t.rows.len(), expect.len(), "{t:#?}");
    for (i, (imp, code, y, total, hhi)) in expect.iter().enumerate() {
        assert_eq!(
            (s(&t, i, "reporter"), s(&t, i, "code")),
            (imp.as_str(), code.as_str())
        );
        assert_eq!(get(&t, i, "year").as_i64().unwrap(), i64::from(*y));
        assert!((f(&t, i, "imports") - total).abs() < 1e-6);
        assert!(
            (f(&t, i, "hhi") - hhi).abs() < 1e-6,
            "{imp} {code}: {} vs {hhi}",
            f(&t, i, "hhi")
        );
    }
    // Imports over exports: CHN imports 854232 (7M) and exports none: 9999.
    let t = e
        .query(&ind::imports_over_exports(&Scope::default()).unwrap())
        .await
        .unwrap();
    let i = (0..t.rows.len())
        .find(|&i| s(&t, i, "country") == "CHN" && s(&t, i, "code") == "854232")
        .unwrap();
    assert_eq!(
        (f(&t, i, "imports"), f(&t, i, "ratio")),
        (7_000_000.0, 9999.0)
    );
    // Bilateral dependence KOR on NLD for 848620: 3,500,500 of 5,510,500.
    let t = e
        .query(&ind::bilateral_dependence(&Scope::default(), "KOR", "NLD", false).unwrap())
        .await
        .unwrap();
    let i = (0..t.rows.len())
        .find(|&i| s(&t, i, "code") == "848620")
        .unwrap();
    assert!((f(&t, i, "share") - 100.0 * 3_500_500.0 / 5_510_500.0).abs() < 1e-9);
    // Every code KOR imports has a row, with 0 (never null) where NLD sold none of it.
    let codes: std::collections::BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.partner == "KOR" && r.reporter != "KOR")
        .map(|r| r.code.as_str())
        .collect();
    assert_eq!(t.rows.len(), codes.len());
    for j in 0..t.rows.len() {
        let (v, total) = (f(&t, j, "value"), f(&t, j, "imports"));
        assert!(v >= 0.0 && (f(&t, j, "share") - 100.0 * v / total).abs() < 1e-9);
    }
    // The same rows with the filters evaluated inside the Parquet scan.
    let sel = e
        .query_selective(
            &ind::bilateral_dependence(&Scope::default(), "KOR", "NLD", false).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(sel, t);
}

#[tokio::test]
async fn matrix_has_the_scenario_header_and_segments_from_the_mapping() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[
            rec(2022, "TWN", "USA", "854231", 100.0),
            rec(2023, "TWN", "USA", "854231", 50.0),
            rec(2023, "MYS", "CHN", "854233", 7.0),
            rec(2023, "NLD", "KOR", "848620", 9.0),
        ],
    );
    let e = Engine::open(tmp.path(), None).await.unwrap();
    let t = e
        .query(&ind::matrix(&Scope::default(), &Mapping::embedded()).unwrap())
        .await
        .unwrap();
    let csv = t.to_csv();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("segment,from,to,value,currency,period,source")
    );
    assert_eq!(lines.next(), Some("all,TWN,USA,150,USD,2022-2023,baci"));
    assert_eq!(
        lines.next(),
        Some("analog_power,MYS,CHN,7,USD,2022-2023,baci")
    );
    assert_eq!(lines.next(), None, "848620 is not a chip code");
}

#[test]
fn the_mapping_names_model_items_that_exist() {
    let m = Mapping::embedded();
    let model = chipwatch_data::default_model();
    let ids: BTreeSet<String> = model.items().map(|(_, i)| i.id.clone()).collect();
    for c in &m.codes {
        for i in c.items.iter() {
            assert!(ids.contains(i), "{}: no model item {i}", c.hs);
        }
    }
    assert_eq!(m.items_of("84862011"), m.items_of("848620"));
    assert!(m.items_of("848620").contains(&"N20".to_string()));
    assert!(m.entries_of("854232")[0].ambiguous.is_some());
}

#[tokio::test]
async fn alerts_fire_on_injected_shocks_at_their_dates_and_nowhere_else() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = GenOptions {
        rows: 150_000,
        seed: 7,
        shocks: 9,
        ..GenOptions::default()
    };
    let g = generate(&opts, tmp.path()).unwrap();
    assert!(g.rows >= 150_000 && g.rows < 150_000 + 72);
    assert_eq!(g.shocks.len(), 9);
    let e = Engine::open(tmp.path(), Some(4)).await.unwrap();
    let alerts = ind::alerts(
        &e,
        &Scope::default(),
        None,
        &AlertSettings::default(),
        Some(&Mapping::embedded()),
    )
    .await
    .unwrap();
    let got: BTreeSet<(String, String, String, String, i32, u8)> = alerts
        .iter()
        .map(|a| {
            (
                a.kind.clone(),
                a.importer.clone(),
                a.exporter.clone(),
                a.code.clone(),
                a.year,
                a.month,
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String, String, i32, u8)> = g
        .shocks
        .iter()
        .map(|s| {
            (
                s.kind.clone(),
                s.importer.clone(),
                s.exporter.clone(),
                s.code.clone(),
                s.year,
                s.month,
            )
        })
        .collect();
    assert_eq!(got, want, "alerts {alerts:#?}");
    // The manifest on disk is the same.
    let disk: Vec<chipwatch_trade::gen::Shock> = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("_gen/shocks.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(disk, g.shocks);
}

#[test]
fn robust_z_against_hand_values() {
    // Median 2, deviations 1,0,1,... MAD 1 → scale 1.4826.
    let (z, m) = ind::robust_z(5.0, &[1.0, 2.0, 3.0], 0.0);
    assert_eq!(m, 2.0);
    assert!((z - 3.0 / 1.4826).abs() < 1e-12);
}

#[tokio::test]
async fn partner_shares_hand_computed() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[
            rec(2022, "NLD", "KOR", "848620", 60.0),
            rec(2022, "JPN", "KOR", "848620", 30.0),
            rec(2022, "JPN", "KOR", "370790", 10.0),
            rec(2023, "NLD", "KOR", "848620", 20.0),
            rec(2023, "JPN", "KOR", "848620", 60.0),
            rec(2023, "NLD", "CHN", "848620", 500.0),
        ],
    );
    let e = Engine::open(tmp.path(), Some(4)).await.unwrap();
    let t = e
        .query(&ind::partner_shares(&Scope::default(), "KOR").unwrap())
        .await
        .unwrap();
    // 2022: NLD 60, JPN 40 of 100; 2023: JPN 60, NLD 20 of 80 (largest first). CHN's imports
    // are not KOR's.
    let got: Vec<(i64, &str, f64)> = (0..t.rows.len())
        .map(|i| {
            (
                get(&t, i, "year").as_i64().unwrap(),
                s(&t, i, "exporter"),
                f(&t, i, "share"),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (2022, "NLD", 60.0),
            (2022, "JPN", 40.0),
            (2023, "JPN", 75.0),
            (2023, "NLD", 25.0)
        ]
    );
    // A code filter narrows the denominator too.
    let sc = Scope {
        codes: vec!["3707".into()],
        ..Scope::default()
    };
    let t = e
        .query(&ind::partner_shares(&sc, "KOR").unwrap())
        .await
        .unwrap();
    assert_eq!(t.rows.len(), 1);
    assert_eq!((s(&t, 0, "exporter"), f(&t, 0, "share")), ("JPN", 100.0));
    assert!(ind::partner_shares(&Scope::default(), "Korea").is_err());
}

#[tokio::test]
async fn a_stop_carries_the_exporters_share_of_the_previous_twelve_months() {
    // Monthly: NLD sells 30 a month to KOR for two years, JPN 10; NLD stops in the 25th month.
    let tmp = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    for m in 0..30 {
        let (year, month) = (2021 + m / 12, (m % 12) as u8 + 1);
        for (from, v) in [("NLD", 30.0), ("JPN", 10.0)] {
            if from == "NLD" && m >= 24 {
                continue;
            }
            let mut r = rec(year, from, "KOR", "848620", v);
            r.month = Some(month);
            rows.push(r);
        }
    }
    write(tmp.path(), &rows);
    let e = Engine::open(tmp.path(), Some(4)).await.unwrap();
    let alerts = ind::alerts(&e, &Scope::default(), None, &AlertSettings::default(), None)
        .await
        .unwrap();
    let stop = alerts
        .iter()
        .find(|a| a.kind == "stop" && a.exporter == "NLD")
        .unwrap_or_else(|| panic!("{alerts:?}"));
    assert_eq!((stop.year, stop.month), (2023, 1));
    assert_eq!(stop.currency, "USD");
    // 12 x 30 of 12 x 40 over the twelve months before.
    assert!(
        (stop.share_of_imports.unwrap() - 0.75).abs() < 1e-12,
        "{stop:?}"
    );
}

/// The code filter is spelled for speed (`code IN (…)`, then `LIKE` only for longer codes); it
/// must keep exactly the codes that start with a prefix, whatever their length or suffix.
#[tokio::test]
async fn code_prefixes_keep_exactly_the_codes_that_start_with_them() {
    let tmp = tempfile::tempdir().unwrap();
    let codes = [
        "8542", "854231", "85423190", "854239", "8542X", "854110", "85411000", "8541", "848620",
        "84862010", "8486", "284690",
    ];
    let rows: Vec<TradeRecord> = codes
        .iter()
        .enumerate()
        .map(|(i, c)| rec(2022, "NLD", "KOR", c, 1.0 + i as f64))
        .collect();
    write(tmp.path(), &rows);
    let e = Engine::open(tmp.path(), Some(2)).await.unwrap();
    for prefixes in [
        vec!["8542"],
        vec!["854231", "8541"],
        vec!["854110", "848620"],
        vec!["84862010", "2846"],
    ] {
        let scope = Scope {
            level: 2,
            codes: prefixes.iter().map(|p| p.to_string()).collect(),
            ..Scope::default()
        };
        let sql = format!(
            "SELECT code FROM bilateral WHERE {} ORDER BY code",
            scope.filter()
        );
        let t = e.query(&sql).await.unwrap();
        let got: Vec<&str> = (0..t.rows.len()).map(|r| s(&t, r, "code")).collect();
        let mut want: Vec<&str> = codes
            .iter()
            .copied()
            .filter(|c| prefixes.iter().any(|p| c.starts_with(p)))
            .collect();
        want.sort();
        assert_eq!(got, want, "{prefixes:?}");
    }
}

#[tokio::test]
async fn a_baci_row_that_is_not_an_export_is_refused_on_writing_and_on_opening() {
    // The `bilateral` view reads every BACI row as an export without testing its flow.
    let dir = tempfile::tempdir().unwrap();
    let mut w = DatasetWriter::new(dir.path()).unwrap();
    let mut r = rec(2022, "NLD", "KOR", "848620", 5.0);
    r.flow = Flow::Import;
    let e = w.push_record(&r).unwrap_err().to_string();
    assert!(e.contains("BACI row must be an export"), "{e}");
    r.source = Source::Comtrade;
    w.push_record(&r).unwrap();
    w.finish().unwrap();
    // Files put under source=baci by other means (here a Comtrade import declaration moved
    // there) are refused when the dataset is opened, not read as exports.
    std::fs::rename(
        dir.path().join("source=comtrade"),
        dir.path().join("source=baci"),
    )
    .unwrap();
    let e = Engine::open(dir.path(), Some(2))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("1 row(s) under source=baci are not exports (column `flow`)"),
        "{e}"
    );
}

#[tokio::test]
async fn both_bilateral_views_orient_each_source_the_same_way() {
    // BACI rows are exports (exporter = reporter); Comtrade rows count only as the importer's
    // declaration (exporter = partner), its export declarations left out. The union view of
    // the embedded engine and the cluster's view without a union give the same rows.
    let dir = tempfile::tempdir().unwrap();
    let mut rows = vec![
        rec(2022, "NLD", "KOR", "848620", 5.0),
        rec(2022, "JPN", "KOR", "848620", 3.0),
    ];
    let comtrade = |flow, reporter: &str, partner: &str, value| TradeRecord {
        flow,
        source: Source::Comtrade,
        ..rec(2022, reporter, partner, "848620", value)
    };
    rows.push(comtrade(Flow::Import, "KOR", "NLD", 7.0));
    rows.push(comtrade(Flow::Export, "NLD", "KOR", 11.0));
    rows.push(comtrade(Flow::ReImport, "KOR", "USA", 13.0));
    write(dir.path(), &rows);
    let sql = "SELECT source, exporter, importer, value FROM bilateral \
               ORDER BY source, exporter, importer, value";
    let local = Engine::open(dir.path(), Some(2))
        .await
        .unwrap()
        .query(sql)
        .await
        .unwrap();
    let flat = |t: &Table| -> Vec<String> {
        t.rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    assert_eq!(
        flat(&local),
        [
            r#""baci" "JPN" "KOR" 3.0"#,
            r#""baci" "NLD" "KOR" 5.0"#,
            r#""comtrade" "NLD" "KOR" 7.0"#,
        ]
    );
    let no_union = Engine::with_context(
        datafusion::prelude::SessionContext::new(),
        dir.path(),
        chipwatch_trade::engine::BILATERAL_VIEW_NO_UNION,
    )
    .await
    .unwrap()
    .query(sql)
    .await
    .unwrap();
    assert_eq!(flat(&no_union), flat(&local));
}
