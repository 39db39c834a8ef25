//! Importer tests: a small hand-made fixture with the dataset's quirks, the real dataset (when the
//! reference copy is present), malformed inputs, and the embedded default's regeneration.

use chipwatch_data::eto::{import, import_dir, EtoFiles, ImportOptions};
use chipwatch_data::{format, load_model_str, DEFAULT_MODEL_TOML};
use chipwatch_model::{Basis, ProviderType, StageKind, ValueChain};
use std::path::{Path, PathBuf};

/// The miniature ETO fixture, copied under the real file names into a temporary folder (the
/// committed copies end in `.csv.in`; see tests/fixtures/eto-small/README.md).
fn fixture() -> PathBuf {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eto-small");
        let dir = tempfile::tempdir().unwrap();
        for f in chipwatch_data::eto::FILES {
            std::fs::copy(src.join(format!("{f}.in")), dir.path().join(f)).unwrap();
        }
        dir
    })
    .path()
    .to_path_buf()
}

/// The reference copy of the ETO dataset, beside the repository (see DEVELOPERS.md).
fn eto_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/eto");
    p.join("provision.csv").exists().then_some(p)
}

#[test]
fn small_fixture_keeps_quirks_apart() {
    let imp = import_dir(&fixture(), &ImportOptions::default()).unwrap();
    let c = imp.counts;
    assert_eq!(
        (c.stages, c.items, c.providers, c.provider_rows),
        (2, 5, 7, 8)
    );
    assert_eq!((c.sequence, c.provision, c.provision_blank), (4, 9, 1));
    let vc = ValueChain::new(imp.model).unwrap();
    // Buckets are typed as buckets, Canon's two alias rows are merged.
    let p = |id: &str| vc.provider_by_id(id).unwrap();
    assert_eq!(p("P3").provider_type, ProviderType::Bucket);
    assert_eq!(p("P4").provider_type, ProviderType::Bucket);
    assert_eq!(p("P7").provider_type, ProviderType::Bucket);
    assert_eq!(p("P1").provider_type, ProviderType::Country);
    assert_eq!(p("P6").aliases, vec!["Canon ANELVA".to_string()]);
    assert_eq!(p("P5").country.as_deref(), Some("NLD"));
    // Market size with a qualifier and the row's year.
    let n4 = vc.item(vc.item_idx("N4").unwrap());
    let ms = n4.market_size.as_ref().unwrap();
    assert_eq!((ms.usd, ms.year), (3.3e9, Some(2019)));
    assert_eq!(ms.qualifier.as_deref(), Some("all photoresists"));
    // Stage derived through the flow: the tool feeds a fabrication process; its variant inherits.
    assert_eq!(
        vc.stage(vc.item_idx("N1").unwrap()),
        Some(StageKind::Fabrication)
    );
    assert_eq!(
        vc.stage(vc.item_idx("N2").unwrap()),
        Some(StageKind::Fabrication)
    );
    assert_eq!(
        vc.stage(vc.item_idx("N4").unwrap()),
        Some(StageKind::Fabrication)
    );
    // The latest vintage wins; country and firm views are kept apart.
    let n1 = vc.item_idx("N1").unwrap();
    let nld: Vec<_> = vc
        .country_shares(n1, None)
        .into_iter()
        .filter(|s| s.provider == "P1")
        .collect();
    assert_eq!(nld.len(), 1);
    assert_eq!((nld[0].share, nld[0].year), (Some(80.0), Some(2025)));
    assert_eq!(vc.all_shares(n1).count(), 4);
    let n2 = vc.item_idx("N2").unwrap();
    assert_eq!(vc.country_shares(n2, None).len(), 1);
    assert_eq!(vc.firm_shares(n2).len(), 1);
    // Fabrication stage shares are location-based, item shares HQ-based.
    assert!(vc
        .stage_shares("S2")
        .iter()
        .all(|s| s.basis == Basis::Location));
    assert!(vc.all_shares(n2).all(|s| s.basis == Basis::Hq));
    // The stale provider name in provision.csv is reported with file and line.
    assert!(imp_diags_contain(
        &fixture(),
        "stale_name",
        "provision.csv:6"
    ));
}

fn imp_diags_contain(dir: &Path, code: &str, text: &str) -> bool {
    import_dir(dir, &ImportOptions::default())
        .unwrap()
        .diagnostics
        .iter()
        .any(|d| d.code == code && d.message.contains(text))
}

#[test]
fn real_dataset_matches_reference_numbers() {
    let Some(dir) = eto_dir() else {
        eprintln!("skipped: ../shared/data/eto not present");
        return;
    };
    let imp = import_dir(&dir, &ImportOptions::default()).unwrap();
    let c = imp.counts;
    // BRIEF section 4: 126 items, 403 providers rows, 1300 provision rows, 139 sequence rows.
    assert_eq!(
        (
            c.items,
            c.provider_rows,
            c.provision,
            c.sequence,
            c.provision_blank
        ),
        (126, 403, 1300, 139, 246)
    );
    let vc = ValueChain::new(imp.model).unwrap();
    let share = |item: &str, prov: &str| {
        vc.latest_shares(vc.item_idx(item).unwrap())
            .into_iter()
            .find(|s| s.provider == prov)
            .and_then(|s| s.share)
    };
    assert_eq!(share("N20", "P45"), Some(100.0)); // EUV: NLD 100%
    assert_eq!(share("N20", "P88"), Some(100.0)); // EUV: ASML 100%
    assert_eq!(share("N22", "P45"), Some(99.3)); // ArF immersion: NLD 99.3%
    assert_eq!(share("N22", "P7"), Some(0.7)); // JPN 0.7%
                                               // No error-level diagnostics on the real data.
    assert!(vc
        .diagnostics()
        .iter()
        .all(|d| d.severity != chipwatch_model::Severity::Error));
}

/// The committed default model is exactly what the importer produces from the reference copy.
/// Regenerate with `cargo run -p chipwatch -- import eto ../shared/data/eto --out data/default-model.toml`.
#[test]
fn embedded_default_is_regenerated_identically() {
    let Some(dir) = eto_dir() else {
        eprintln!("skipped: ../shared/data/eto not present");
        return;
    };
    let imp = import_dir(&dir, &ImportOptions::default()).unwrap();
    let fresh = format::to_toml_string(&imp.model);
    assert!(
        fresh == DEFAULT_MODEL_TOML,
        "data/default-model.toml is stale: regenerate it with \
         `cargo run -p chipwatch -- import eto ../shared/data/eto --out data/default-model.toml`"
    );
}

#[test]
fn embedded_default_round_trips_byte_for_byte() {
    let vc = load_model_str(DEFAULT_MODEL_TOML, "default").unwrap();
    assert_eq!(format::to_toml_string(vc.model()), DEFAULT_MODEL_TOML);
    assert_eq!(vc.model().items.len(), 126);
}

fn files_with<'a>(which: &str, body: &'a [u8], base: &'a [Vec<u8>; 5]) -> EtoFiles<'a> {
    let mut f = EtoFiles {
        stages: ("stages.csv", &base[0]),
        inputs: ("inputs.csv", &base[1]),
        providers: ("providers.csv", &base[2]),
        sequence: ("sequence.csv", &base[3]),
        provision: ("provision.csv", &base[4]),
    };
    match which {
        "stages" => f.stages.1 = body,
        "inputs" => f.inputs.1 = body,
        "providers" => f.providers.1 = body,
        "sequence" => f.sequence.1 = body,
        _ => f.provision.1 = body,
    }
    f
}

fn base() -> [Vec<u8>; 5] {
    let r = |f: &str| std::fs::read(fixture().join(f)).unwrap();
    [
        r("stages.csv"),
        r("inputs.csv"),
        r("providers.csv"),
        r("sequence.csv"),
        r("provision.csv"),
    ]
}

fn err_of(which: &str, body: &str) -> String {
    let b = base();
    import(
        files_with(which, body.as_bytes(), &b),
        &ImportOptions::default(),
    )
    .unwrap_err()
    .to_string()
}

#[test]
fn malformed_inputs_name_file_line_and_field() {
    let head = "provider_name,provider_id,provided_name,provided_id,share_provided,year,source\n";
    let e = err_of("provision", &format!("{head}NLD,P1,x,N2,lots,2025,s\n"));
    assert_eq!(
        e,
        "provision.csv:2: field `share_provided`: not a number: `lots`"
    );
    let e = err_of(
        "provision",
        &format!("{head}NLD,P1,x,N2,10,2025,s\nX,P999,x,N2,1,2025,s\n"),
    );
    assert_eq!(
        e,
        "provision.csv:3: field `provider_id`: unknown provider id `P999`"
    );
    let e = err_of("provision", &format!("{head}NLD,P1,x,N77,1,2025,s\n"));
    assert!(e.contains("provided_id") && e.contains("N77"), "{e}");
    let e = err_of("provision", &format!("{head}NLD,P1,x,N2,101,2025,s\n"));
    assert!(e.contains("outside 0..100"), "{e}");
    let e = err_of("provision", &format!("{head}NLD,P1,x,N2,1,twenty,s\n"));
    assert!(e.contains("field `year`"), "{e}");
    // Broken quoting: an unterminated quote swallows the rest, leaving a short record.
    let e = err_of(
        "provision",
        &format!("{head}NLD,P1,\"x,N2,1,2025,s\nJPN,P2,y,N2,1,2025,s\n"),
    );
    assert!(e.starts_with("provision.csv:"), "{e}");
    let e = err_of("provision", &format!("{head}NLD,P1,x,N2,1,2025\n"));
    assert!(e.contains("provision.csv:2") && e.contains("fields"), "{e}");
    let e = err_of("provision", "provider_id,share\nP1,1\n");
    assert_eq!(e, "provision.csv: missing column `provider_name`");
    let e = err_of(
        "sequence",
        "input_name,input_id,goes_into_name,goes_into_id,is_type_of_name,is_type_of_id\nx,N2,y,N3,z,N1\n",
    );
    assert!(
        e.contains("sequence.csv:2") && e.contains("exactly one"),
        "{e}"
    );
    let e = err_of(
        "inputs",
        "input_id,input_name,type,stage_name,stage_id,description,year,market_share_chart_global_market_size_info\nN1,x,gizmo,,,,,\n",
    );
    assert_eq!(e, "inputs.csv:2: field `type`: unknown item type `gizmo`");
    let e = err_of(
        "inputs",
        "input_id,input_name,type,stage_name,stage_id,description,year,market_share_chart_global_market_size_info\nN1,x,tool_resource,,,,,about 3 billion\n",
    );
    assert!(
        e.contains("market_share_chart_global_market_size_info"),
        "{e}"
    );
    let e = err_of(
        "providers",
        "provider_name,alias,provider_id,provider_type,country\nA,,P1,country,\nB,,P1,country,\n",
    );
    assert!(e.contains("providers.csv:3") && e.contains("P1"), "{e}");
    let b = base();
    let bad = [0xff, 0xfe, b'\n', 0xc3];
    let e = import(files_with("providers", &bad, &b), &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("providers.csv"), "{e}");
}

#[test]
fn missing_file_names_the_path() {
    let e = import_dir(Path::new("/nonexistent/eto"), &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/eto/stages.csv"), "{e}");
}

#[test]
fn model_file_errors_name_line() {
    let text = DEFAULT_MODEL_TOML.replacen("provider = \"P88\"", "provider = \"P9999\"", 1);
    let e = load_model_str(&text, "m.toml").unwrap_err().to_string();
    assert!(e.starts_with("m.toml: the model has 1 error(s)"), "{e}");
    assert!(e.contains("line ") && e.contains("P9999"), "{e}");
    let line: usize = e
        .split("line ")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(text.lines().nth(line - 1), Some("[[share]]"));
    assert!(text.lines().nth(line).unwrap().contains("P9999"));
    let text = DEFAULT_MODEL_TOML.replacen("share = 100.0", "share = \"all\"", 1);
    let e = load_model_str(&text, "m.toml").unwrap_err().to_string();
    assert!(e.starts_with("m.toml: line "), "{e}");
    let e = load_model_str("this is = = not toml", "m.toml")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("m.toml: line 1"), "{e}");
    let text = DEFAULT_MODEL_TOML.replacen("share = 100.0", "share = 140.0", 1);
    let e = load_model_str(&text, "m.toml").unwrap_err().to_string();
    assert!(e.contains("outside 0..=100"), "{e}");
    let text = DEFAULT_MODEL_TOML.replacen("[[item]]\n", "[[item]]\ncolour = \"red\"\n", 1);
    let e = load_model_str(&text, "m.toml").unwrap_err().to_string();
    assert!(e.contains("colour"), "{e}");
}

#[test]
fn cycles_are_reported() {
    let text = DEFAULT_MODEL_TOML.replacen(
        "id = \"N99\"\nname = \"Finished logic chip\"\nkind = \"final_output\"\n",
        "id = \"N99\"\nname = \"Finished logic chip\"\nkind = \"final_output\"\ngoes_into = [\"N0\"]\n",
        1,
    );
    assert_ne!(text, DEFAULT_MODEL_TOML);
    let e = load_model_str(&text, "m.toml").unwrap_err().to_string();
    assert!(e.contains("cycle") && e.contains("N99"), "{e}");
}

#[test]
fn json_form_loads_the_same_model() {
    let toml_vc = load_model_str(DEFAULT_MODEL_TOML, "m.toml").unwrap();
    let json = serde_json::to_string_pretty(toml_vc.model()).unwrap();
    let json_vc = chipwatch_data::load_model_json_str(&json, "m.json").unwrap();
    assert_eq!(json_vc.model(), toml_vc.model());
    // Bad input names the file, line and column, and the field.
    let bad = json.replacen("\"share\": 100.0", "\"share\": \"all\"", 1);
    assert_ne!(bad, json);
    let e = chipwatch_data::load_model_json_str(&bad, "m.json")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("m.json: line "), "{e}");
    assert!(e.contains("column"), "{e}");
    // Validation applies as for TOML.
    let bad = json.replacen("\"provider\": \"P88\"", "\"provider\": \"P9999\"", 1);
    let e = chipwatch_data::load_model_json_str(&bad, "m.json")
        .unwrap_err()
        .to_string();
    assert!(e.contains("P9999"), "{e}");
    // And the file loader picks the form by extension.
    let dir = std::env::temp_dir().join(format!("chipwatch-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.json");
    std::fs::write(&path, &json).unwrap();
    let from_file = chipwatch_data::load_model_file(&path).unwrap();
    assert_eq!(from_file.model(), toml_vc.model());
    std::fs::remove_dir_all(&dir).unwrap();
}
