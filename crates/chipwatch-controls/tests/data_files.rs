//! The measure format: every shipped file loads, every file in data/ is embedded, malformed files
//! give errors naming the file and field, and the determination does not depend on the order of
//! the measure files.

use chipwatch_controls::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn engine_from(files: &[(&str, &str)]) -> Result<Engine, ControlsError> {
    Engine::from_sources(
        files,
        default_catalogue().unwrap(),
        Screener::new(default_normaliser(), vec![default_list().unwrap()]),
    )
}

#[test]
fn every_data_file_is_embedded_and_loads() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/controls");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| format!("data/controls/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|n| n.ends_with(".toml"))
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = EMBEDDED_MEASURES
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    embedded.sort();
    assert_eq!(on_disk, embedded);
    let e = default_engine().unwrap();
    // Every measure of BRIEF 3.5 is present with a citation.
    for id in [
        "EU-3B001.f.1",
        "EU-3B501.f.1.b",
        "NL-semiconductor-equipment",
        "US-3A090",
        "US-SME",
        "US-744.23",
        "US-EL",
        "JP-FEFTA-materials",
        "JP-2023-SME",
        "CN-2023-23-gallium-germanium",
        "CN-2023-39-graphite",
        "CN-2024-33-antimony",
        "CN-2024-46",
        "US-CCL-NS1",
        "US-CCL-NS2",
        "US-CCL-AT1",
        "US-746.8",
        "EU-Annex-I",
        "EU-Annex-I-5xx",
    ] {
        let vs = e.versions(id).unwrap_or_else(|| panic!("missing {id}"));
        assert!(vs.iter().all(|m| !m.citation.is_empty()));
    }
    assert_eq!(e.versions("NL-semiconductor-equipment").unwrap().len(), 3);
    assert_eq!(e.versions("US-3A090").unwrap().len(), 4);
    assert!(e
        .catalogue()
        .products()
        .iter()
        .all(|p| !p.source.is_empty()));
}

const GOOD: &str = r#"
[measure]
id = "T-1"
version = "v1"
jurisdiction = "EU"
authority = "a"
instrument = "i"
citation = "c"
title = "t"
in_force_from = "2020-01-01"
[reach]
exporters = { groups = ["EU"] }
[item]
param = "wavelength_nm"
op = "<"
value = 193
[[rule]]
destinations = { outside = "EU-CU" }
outcome = "licence_required"
review_policy = "per_application"
"#;

fn err_of(text: &str) -> String {
    let mut files: Vec<(&str, &str)> = EMBEDDED_MEASURES.to_vec();
    files.push(("data/controls/test-bad.toml", text));
    engine_from(&files).unwrap_err().to_string()
}

#[test]
fn good_test_file_loads() {
    let mut files: Vec<(&str, &str)> = EMBEDDED_MEASURES.to_vec();
    files.push(("data/controls/test-good.toml", GOOD));
    assert!(engine_from(&files).is_ok());
}

#[test]
fn malformed_files_name_file_and_field() {
    let cases: Vec<(String, &str)> = vec![
        (GOOD.replace("\"licence_required\"", "\"licensed\""), "field `rule[0].outcome`: unknown outcome `licensed`"),
        (GOOD.replace("2020-01-01", "2020-02-30"), "field `measure.in_force_from`"),
        (GOOD.replace("op = \"<\"", "op = \"=<\""), "field `item.op`: unknown operator"),
        (GOOD.replace("\"EU-CU\"", "\"EU-XX\""), "field `rule[0].destinations`: unknown country group `EU-XX`"),
        (GOOD.replace("review_policy = \"per_application\"", ""), "field `rule[0].review_policy`"),
        (GOOD.replace("value = 193", "value = [193]"), "field `item.value`"),
        (GOOD.replace("title = \"t\"", "title = \"t\"\ncolour = \"red\""), "unknown field `colour`"),
        (GOOD.replace("[reach]\nexporters = { groups = [\"EU\"] }", ""), "field `reach`"),
        (GOOD.replace("citation = \"c\"", "citation = \"\""), "field `measure.citation`: must not be empty"),
        (format!("{GOOD}\n[[formula]]\nname = \"x\"\nexpr = \"1 +\"\n"), "field `formula[0].expr`"),
        (format!("{GOOD}\n[[formula]]\nname = \"mrf_k035_nm\"\nexpr = \"wavelength_nm * 0.3 / numerical_aperture\"\n"), "derived parameter `mrf_k035_nm`"),
        (GOOD.replace("exporters = { groups = [\"EU\"] }", "exporters = { countries = [\"Netherlands\"] }"), "field `reach.exporters.countries[0]`"),
        (format!("{GOOD}\n[[coverage]]\nitem = \"N20\"\nfraction = 1.5\nassumption = \"x\"\n"), "field `coverage[0].fraction`"),
        ("this is not toml".to_string(), "data/controls/test-bad.toml"),
        (GOOD.replace("title = \"t\"", "title = \"t\"\ngaps = [\"ok\", \" \"]"), "field `measure.gaps[1]`: must not be empty"),
        (GOOD.replace("title = \"t\"", "title = \"t\"\ngaps = \"not a list\""), "line 10, column 8"),
        (GOOD.replace("outcome = \"licence_required\"", "end_user_entries = [\"SMIC\"]\noutcome = \"licence_required\""), "field `rule[0].end_user_entries`: end_user_entries needs end_user_lists"),
        (GOOD.replace("outcome = \"licence_required\"", "end_user_lists = [\"US-EL\"]\nend_user_entries = [\"\"]\noutcome = \"licence_required\""), "field `rule[0].end_user_entries[0]`: must not be empty"),
        (GOOD.replace("id = \"T-1\"", "id = \"EU-3B001.f.1\"").replace("v1", "Reg. 428/2009 Annex I"), "clash"),
    ];
    for (text, want) in cases {
        let e = err_of(&text);
        assert!(e.contains(want), "want `{want}` in: {e}");
        assert!(
            e.contains("test-bad.toml") || want == "clash",
            "no file name in: {e}"
        );
    }
}

#[test]
fn malformed_catalogue_and_list_name_file_and_field() {
    let e = Catalogue::from_sources(&[(
        "data/products/x.toml",
        "[[product]]\nname = \"A\"\nmanufacturer = \"m\"\ncategory = \"c\"\nsource = \"\"\n",
    )])
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "data/products/x.toml: field `product[0].source`: every product needs its source"
    );
    let e = RestrictedList::from_toml_str("[meta]\nname = \"n\"\nsource = \"s\"\n[[entry]]\nlist = \"L\"\nname = \"X\"\ncitation = \"\"\n", "l.toml").unwrap_err();
    assert_eq!(
        e.to_string(),
        "l.toml: field `entry[0].citation`: every entry needs its citation"
    );
}

fn shipments() -> Vec<Shipment> {
    let d = |s: &str| Date::parse(s).unwrap();
    let mk = |p: &str, from: &str, to: &str, date: &str, eu: Option<&str>| Shipment {
        product: Some(p.into()),
        params: BTreeMap::new(),
        from: from.into(),
        to: to.into(),
        origin: None,
        end_user: eu.map(str::to_string),
        end_use: None,
        date: d(date),
        parties: Vec::new(),
    };
    vec![
        mk("NXT:2000i", "NLD", "CHN", "2026-11-21", None),
        mk("NXT:1980i", "NLD", "CHN", "2024-09-07", None),
        mk("NXE:3800E", "NLD", "USA", "2022-01-01", None),
        mk("H800", "USA", "CHN", "2023-06-01", None),
        mk("H20", "USA", "CHN", "2026-11-21", Some("Huawei")),
        mk("gallium", "CHN", "USA", "2025-11-09", None),
        mk("graphite", "CHN", "USA", "2025-01-01", None),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn determination_does_not_depend_on_file_order(seed in any::<u64>()) {
        let mut files: Vec<(&str, &str)> = EMBEDDED_MEASURES.to_vec();
        // Fisher-Yates with a small LCG from the seed.
        let mut x = seed | 1;
        for i in (1..files.len()).rev() {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let j = (x >> 33) as usize % (i + 1);
            files.swap(i, j);
        }
        let shuffled = engine_from(&files).unwrap();
        let reference = default_engine().unwrap();
        for s in shipments() {
            let a = serde_json::to_string(&reference.determine(&s).unwrap()).unwrap();
            let b = serde_json::to_string(&shuffled.determine(&s).unwrap()).unwrap();
            prop_assert_eq!(a, b);
        }
    }
}
