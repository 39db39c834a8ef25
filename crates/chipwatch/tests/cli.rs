//! Integration tests of the real `chipwatch` binary on the embedded default model: golden
//! snapshots of tables and JSON (regenerate with `INSTA_UPDATE=always cargo test -p chipwatch
//! --test cli`, then review the diff), exit codes and error messages.

use assert_cmd::Command;
use std::path::Path;

fn chipwatch() -> Command {
    let mut c = Command::cargo_bin("chipwatch").unwrap();
    c.env_remove("CHIPWATCH_MODEL");
    c
}

/// The same binary as a plain process, for tests that wire its stdout themselves.
fn chipwatch_process() -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("chipwatch"));
    c.env_remove("CHIPWATCH_MODEL");
    c
}

fn run_ok(args: &[&str]) -> String {
    let out = chipwatch().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "chipwatch {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn run_err(args: &[&str]) -> String {
    let out = chipwatch().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "chipwatch {args:?} should exit 2"
    );
    assert!(out.stdout.is_empty(), "errors print nothing on stdout");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn chokepoints_table() {
    insta::assert_snapshot!(run_ok(&["chokepoints"]));
}

#[test]
fn chokepoints_json() {
    let out = run_ok(&["chokepoints", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = v.as_array().unwrap();
    let euv = rows.iter().find(|r| r["item_id"] == "N20").unwrap();
    assert_eq!(euv["hhi"], 10000.0);
    assert_eq!(euv["top_country"], "NLD");
    assert_eq!(euv["countries_to_75"], 1);
    assert_eq!(euv["single_point_of_failure"], true);
    let arf = rows.iter().find(|r| r["item_id"] == "N22").unwrap();
    assert!((arf["hhi"].as_f64().unwrap() - (99.3f64 * 99.3 + 0.7 * 0.7)).abs() < 1e-9);
    // Buckets never appear as a top country.
    for r in rows {
        let top = r["top_country"].as_str().unwrap_or("");
        assert!(top != "Various countries" && top != "EUR", "{r}");
    }
    insta::assert_snapshot!(out);
}

#[test]
fn chokepoints_threshold_and_basis() {
    let all: serde_json::Value =
        serde_json::from_str(&run_ok(&["chokepoints", "--json", "--threshold", "99"])).unwrap();
    let spof: Vec<_> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["single_point_of_failure"] == true)
        .map(|r| r["item_id"].as_str().unwrap().to_string())
        .collect();
    assert!(spof.contains(&"N20".to_string()) && spof.contains(&"N22".to_string()));
    assert!(!spof.contains(&"N21".to_string())); // 94.4% < 99%
    let loc: serde_json::Value =
        serde_json::from_str(&run_ok(&["chokepoints", "--json", "--basis", "location"])).unwrap();
    let ids: Vec<_> = loc
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["item_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["S3", "S2"]); // fab and ATP capacity by location
    let e = run_err(&["chokepoints", "--threshold", "250"]);
    assert!(e.contains("--threshold"), "{e}");
    let e = run_err(&["chokepoints", "--basis", "moon"]);
    assert!(e.contains("moon"), "{e}");
}

#[test]
fn items_json_and_filters() {
    let v: serde_json::Value = serde_json::from_str(&run_ok(&["items", "--json"])).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 126);
    let first = &v[0];
    for k in ["id", "name", "kind", "stage", "market_size_usd", "year"] {
        assert!(first.get(k).is_some(), "missing {k}");
    }
    let tools: serde_json::Value = serde_json::from_str(&run_ok(&[
        "items", "--json", "--kind", "tool", "--stage", "atp",
    ]))
    .unwrap();
    assert!(tools
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["kind"] == "tool"));
    assert!(tools.as_array().unwrap().iter().any(|t| t["id"] == "N83"));
    insta::assert_snapshot!(run_ok(&["items", "--kind", "material"]));
}

#[test]
fn show_by_id_and_name() {
    insta::assert_snapshot!(run_ok(&["show", "N22"]));
    let by_name = run_ok(&["show", "ArF immersion (DUV) lithography tools"]);
    assert_eq!(by_name, run_ok(&["show", "N22"]));
    let v: serde_json::Value = serde_json::from_str(&run_ok(&["show", "N20", "--json"])).unwrap();
    assert_eq!(v["id"], "N20");
    let shares = v["shares"].as_array().unwrap();
    let kinds: Vec<_> = shares
        .iter()
        .map(|s| s["provider_type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"country") && kinds.contains(&"organisation"));
    for k in [
        "provider_id",
        "provider",
        "provider_type",
        "country",
        "share",
        "year",
        "source",
        "basis",
    ] {
        assert!(shares[0].get(k).is_some(), "missing {k}");
    }
    assert!(v["inputs"].is_array() && v["used_by"].is_array());
    insta::assert_snapshot!(run_ok(&["show", "N25", "--json"]));
}

#[test]
fn show_accepts_a_firm() {
    let by_name = run_ok(&["show", "ASML"]);
    assert_eq!(by_name, run_ok(&["show", "P88"]));
    assert!(by_name.starts_with("P88 ASML (firm)"), "{by_name}");
    assert!(by_name.contains("headquarters: NLD"), "{by_name}");
    // What it supplies, largest share first: EUV tools at 100%.
    let first = by_name
        .lines()
        .find(|l| l.starts_with("N"))
        .unwrap_or_default();
    assert!(
        first.starts_with("N20") && first.contains("100"),
        "{by_name}"
    );
    let v: serde_json::Value = serde_json::from_str(&run_ok(&["show", "asml", "--json"])).unwrap();
    assert_eq!(v["id"], "P88");
    assert_eq!(v["supplies"][0]["item_id"], "N20");
    // A country is not a firm: still the item error.
    let e = run_err(&["show", "Japan"]);
    assert!(e.contains("Japan"), "{e}");
}

#[test]
fn show_unknown_or_ambiguous_item() {
    let e = run_err(&["show", "N9999"]);
    assert!(e.contains("N9999"), "{e}");
    let e = run_err(&["show", "lithography"]);
    assert!(e.contains("ambiguous"), "{e}");
}

#[test]
fn value_share_and_refusal() {
    insta::assert_snapshot!(run_ok(&[
        "value-share",
        "N20",
        "N21",
        "N22",
        "N105",
        "N106"
    ]));
    let e = run_err(&["value-share", "N19", "N20"]);
    assert!(
        e.contains("variant") && e.contains("N19") && e.contains("N20"),
        "{e}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&run_ok(&["value-share", "--json", "N31", "N20"])).unwrap();
    // Photoresists are listed without numbers: coverage is below 100%.
    assert!(v["coverage"].as_f64().unwrap() < 1.0);
}

#[test]
fn dependence_kor_nld() {
    insta::assert_snapshot!(run_ok(&[
        "dependence",
        "--consumer",
        "KOR",
        "--supplier",
        "NLD"
    ]));
    let v: serde_json::Value = serde_json::from_str(&run_ok(&[
        "dependence",
        "--consumer",
        "NLD",
        "--supplier",
        "KOR",
        "--min-share",
        "10",
        "--json",
    ]))
    .unwrap();
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["supplier_share"].as_f64().unwrap() >= 10.0));
    let e = run_err(&["dependence", "--consumer", "XXX", "--supplier", "NLD"]);
    assert!(e.contains("XXX"), "{e}");
    // Lithography tools are not added to their own variants (was $63.6B).
    let text = run_ok(&["dependence", "--consumer", "KOR", "--supplier", "NLD"]);
    assert!(text.contains("$36.7B of market value"), "{text}");
    assert!(
        text.contains("not added again: N105, N20, N21, N22"),
        "{text}"
    );
    for bad in ["--min-share=150", "--min-share=-1"] {
        let e = run_err(&["dependence", "--consumer", "KOR", "--supplier", "NLD", bad]);
        assert!(e.contains("--min-share"), "{e}");
    }
}

#[test]
fn import_then_use_own_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.toml");
    let src =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../chipwatch-data/tests/fixtures/eto-small");
    let fixture = dir.path().join("eto");
    std::fs::create_dir(&fixture).unwrap();
    for f in [
        "stages.csv",
        "inputs.csv",
        "providers.csv",
        "sequence.csv",
        "provision.csv",
    ] {
        std::fs::copy(src.join(format!("{f}.in")), fixture.join(f)).unwrap();
    }
    let summary = run_ok(&[
        "import",
        "eto",
        fixture.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(summary.contains("items 5"), "{summary}");
    assert!(summary.contains("stale_name"), "{summary}");
    let v: serde_json::Value = serde_json::from_str(&run_ok(&[
        "--model",
        out.to_str().unwrap(),
        "chokepoints",
        "--json",
    ]))
    .unwrap();
    let n1 = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["item_id"] == "N1")
        .unwrap();
    assert_eq!(n1["hhi"], 80.0 * 80.0 + 15.0 * 15.0); // the 5% bucket is not a country
    assert_eq!(n1["bucket_share"], 5.0);
}

#[test]
fn bad_model_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.toml");
    std::fs::write(&p, "[meta]\nformat_version = 1\nname = 3\n").unwrap();
    let e = run_err(&["--model", p.to_str().unwrap(), "items"]);
    assert!(e.contains("bad.toml") && e.contains("line 3"), "{e}");
    let e = run_err(&["--model", "/nonexistent/model.toml", "items"]);
    assert!(e.contains("/nonexistent/model.toml"), "{e}");
    let e = run_err(&[
        "import",
        "eto",
        "/nonexistent",
        "--out",
        p.to_str().unwrap(),
    ]);
    assert!(e.contains("/nonexistent/stages.csv"), "{e}");
    // A failed import leaves the existing file untouched.
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "[meta]\nformat_version = 1\nname = 3\n"
    );
}

#[test]
fn validate_reports_warnings() {
    let out = run_ok(&["validate"]);
    assert!(
        out.contains("126 items") && out.contains("0 diagnostic(s)"),
        "{out}"
    );
    // A copy of the default with a second "ASML" and EUV shares inflated past 110%.
    let text = chipwatch_data_default().replacen("name = \"Nvidia\"", "name = \"ASML\"", 1);
    let text = text.replacen(
        "[[share]]\nprovider = \"P88\"\nitem = \"N20\"",
        "[[share]]\nprovider = \"P7\"\nitem = \"N20\"\nshare = 30.0\nyear = 2025\nbasis = \"hq\"\n\n[[share]]\nprovider = \"P88\"\nitem = \"N20\"",
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.toml");
    std::fs::write(&p, text).unwrap();
    let out = run_ok(&["--model", p.to_str().unwrap(), "validate"]);
    assert!(
        out.contains("duplicate_name") && out.contains("asml"),
        "{out}"
    );
    assert!(out.contains("share_sum") && out.contains("N20"), "{out}");
    let v: serde_json::Value = serde_json::from_str(&run_ok(&[
        "--model",
        p.to_str().unwrap(),
        "validate",
        "--json",
    ]))
    .unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
}

fn chipwatch_data_default() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/default-model.toml"),
    )
    .unwrap()
}

/// `chipwatch ... | head`: a reader that goes away ends the command quietly, table or JSON,
/// instead of a panic about a broken pipe.
#[test]
fn closed_stdout_is_not_a_panic() {
    for args in [&["items"][..], &["items", "--json"][..]] {
        let mut child = chipwatch_process()
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Close the read end before the command writes (it reads the model first).
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(out.status.success(), "{args:?}: {:?} {err}", out.status);
    }
}

/// Any other failure to write the output is an error that names it (exit 2), not a quiet end.
#[test]
fn full_stdout_is_an_error() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // not Linux
    };
    let out = chipwatch_process()
        .args(["items", "--json"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: writing to standard output: No space left on device"),
        "{err}"
    );
}

/// `--json` prints exactly one JSON document on every query command (`monitor events` prints
/// lines by design and is tested with the monitor).
#[test]
fn json_is_one_document_on_every_command() {
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/scenarios/nld-duv-china-2023.toml"
    );
    for args in [
        vec!["items"],
        vec!["show", "N20"],
        vec!["show", "ASML"],
        vec!["chokepoints"],
        vec!["value-share", "N20", "N21"],
        vec!["dependence", "--consumer", "KOR", "--supplier", "NLD"],
        vec!["measure", "list"],
        vec!["measure", "show", "US-3A090"],
        vec![
            "measure",
            "impact",
            "NL-semiconductor-equipment",
            "--deny",
            "CHN",
        ],
        vec!["licence", "products"],
        vec!["screening", "Huawei"],
        vec!["risk", "--samples", "5"],
        vec!["validate"],
        vec!["scenario", "run", scenario],
    ] {
        let mut a = args.clone();
        a.push("--json");
        let out = run_ok(&a);
        let v: Result<serde_json::Value, _> = serde_json::from_str(&out);
        assert!(
            v.is_ok(),
            "chipwatch {args:?} --json is not one JSON document: {out:.200}"
        );
    }
}
