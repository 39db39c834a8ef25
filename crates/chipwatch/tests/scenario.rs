//! The scenario commands end to end: golden outputs of the example scenarios, reports, TTS on
//! networks, risk determinism, the synthetic generator, and malformed inputs (exit code 2 with
//! the field named).

use assert_cmd::Command;
use serde_json::{json, Value};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chipwatch() -> Command {
    let mut c = Command::cargo_bin("chipwatch").unwrap();
    c.env_remove("CHIPWATCH_MODEL");
    c
}

fn run_json(args: &[&str]) -> Value {
    let out = chipwatch().args(args).arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The part of a result worth pinning: per consumer, the finished chip's numbers and binding
/// constraint, the world aggregate, and which items fall short.
fn summary(r: &Value) -> Value {
    let consumers: Vec<Value> = r["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let f = &c["final_output"];
            let short: Vec<Value> = c["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["availability_min"].as_f64().unwrap() < 0.999_999)
                .map(|i| {
                    json!([
                        i["item_id"],
                        (i["availability_min"].as_f64().unwrap() * 1e4).round() / 1e4
                    ])
                })
                .collect();
            json!({
                "country": c["country"],
                "final_min": (f["availability_min"].as_f64().unwrap() * 1e4).round() / 1e4,
                "final_end": (f["availability_end"].as_f64().unwrap() * 1e4).round() / 1e4,
                "worst_day": f["worst_day"],
                "tts_days": f["tts_days"],
                "binding_constraint": f["binding_constraint"],
                "binding_providers": f["binding_providers"],
                "items_short": short,
            })
        })
        .collect();
    json!({
        "scenario": r["scenario"],
        "world_min": (r["world"]["availability_min"].as_f64().unwrap() * 1e4).round() / 1e4,
        "consumers": consumers,
    })
}

fn golden(file: &str) {
    let path = root().join("examples/scenarios").join(file);
    let r = run_json(&["scenario", "run", path.to_str().unwrap()]);
    // The JSON shape other areas rely on (issue 3).
    for key in [
        "scenario",
        "assumptions",
        "consumers",
        "world",
        "provenance",
        "notes",
    ] {
        assert!(r.get(key).is_some(), "missing {key}");
    }
    let c0 = &r["consumers"][0];
    for key in [
        "item_id",
        "availability_min",
        "availability_end",
        "tts_days",
        "series",
    ] {
        assert!(c0["items"][0].get(key).is_some(), "missing items[].{key}");
    }
    for key in ["item_id", "availability_min", "binding_constraint"] {
        assert!(
            c0["final_output"].get(key).is_some(),
            "missing final_output.{key}"
        );
    }
    insta::assert_json_snapshot!(file.trim_end_matches(".toml"), summary(&r));
}

#[test]
fn golden_nld_duv_china_2023() {
    golden("nld-duv-china-2023.toml");
}

#[test]
fn golden_jpn_korea_2019() {
    golden("jpn-korea-2019.toml");
}

#[test]
fn golden_twn_earthquake() {
    golden("twn-earthquake.toml");
}

#[test]
fn golden_nld_litho_stop() {
    golden("nld-litho-stop.toml");
}

#[test]
fn table_output_and_html_report() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    let path = root().join("examples/scenarios/nld-duv-china-2023.toml");
    let out = chipwatch()
        .args([
            "scenario",
            "run",
            path.to_str().unwrap(),
            "--report",
            html.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Finished chips (N99) by consumer"), "{text}");
    assert!(text.contains("N22"), "{text}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<svg"));
    assert!(page.contains("Dutch DUV controls"));
}

#[test]
fn malformed_scenarios_exit_2_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("name = \"x\"\n[[shock]]\nkind = \"capacity_loss\"\nprovider = \"TWN\"\nitems = [\"*\"]\nfraction = -0.5\n", "shock[0].fraction"),
        ("name = \"x\"\n[[shock]]\nkind = \"export_block\"\nfrom = [\"NLD\"]\nto = [\"CHN\"]\nitems = [\"N9999\"]\n", "shock[0].items[0]`: unknown item `N9999`"),
        ("name = \"x\"\n[[shock]]\nkind = \"export_block\"\nfrom = [\"NLD\"]\nitems = [\"N22\"]\n", "missing field `to`"),
        ("name = \"x\"\n[[consumer]]\ncountry = \"Atlantis\"\n", "consumer[0].country"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let f = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&f, text).unwrap();
        let out = chipwatch()
            .args(["scenario", "run", f.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains(want) && err.contains(&format!("bad{i}.toml")),
            "{want}: {err}"
        );
    }
    let out = chipwatch()
        .args(["scenario", "run", "/nonexistent.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn tts_on_a_network_and_malformed_networks() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("n.json");
    std::fs::write(&net, r#"{"nodes": [{"id": "P1", "kind": "product", "demand_per_day": 10.0, "inventory": 40.0,
        "capacity_per_day": 15.0, "profit_margin": 1.0, "ttr_days": 20.0},
       {"id": "S1", "kind": "supplier", "inventory": 30.0, "capacity_per_day": 12.0, "ttr_days": 30.0}],
      "edges": [{"from": "S1", "to": "P1", "part": "wafer", "units_per_output": 2.0}]}"#).unwrap();
    let r = run_json(&["tts", net.to_str().unwrap(), "--ttr", "--horizon", "100"]);
    assert_eq!(r["horizon_days"], 100.0);
    assert_eq!(r["nodes"][0]["tts_days"], 4.0);
    assert_eq!(r["nodes"][1]["tts_days"], 5.5);
    assert_eq!(r["nodes"][1]["rei"], 1.0);
    assert_eq!(r["nodes"][0]["tts_capped"], false);
    std::fs::write(&net, r#"{"nodes": [{"id": "P1", "kind": "product", "demand_per_day": 1}], "edges": [{"from": "S9", "to": "P1", "part": "x"}]}"#).unwrap();
    let out = chipwatch()
        .args(["tts", net.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("edges[0].from") && err.contains("S9"), "{err}");
}

#[test]
fn gen_writes_a_model_the_engine_runs() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.toml");
    let out = chipwatch()
        .args([
            "gen",
            "--nodes",
            "2000",
            "--avg-degree",
            "8",
            "--seed",
            "4",
            "--out",
            model.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("checksum"));
    let sc = dir.path().join("s.toml");
    std::fs::write(&sc, "name = \"synthetic\"\nhorizon_days = 30\n[[shock]]\nkind = \"export_block\"\nfrom = [\"ZAB\"]\nto = [\"*\"]\nitems = [\"*\"]\n").unwrap();
    let r = run_json(&[
        "--model",
        model.to_str().unwrap(),
        "scenario",
        "run",
        sc.to_str().unwrap(),
    ]);
    assert_eq!(r["consumers"].as_array().unwrap().len(), 5);
}

#[test]
fn risk_is_deterministic_for_a_seed() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("risk.toml");
    std::fs::write(&cfg, "horizon_days = 60\n[default]\nprobability = 0.1\n[country.TWN]\nprobability = 0.5\nfraction = [0.5, 1.0]\nduration_days = [30, 60]\n").unwrap();
    let args = [
        "risk",
        "--samples",
        "40",
        "--seed",
        "9",
        "--config",
        cfg.to_str().unwrap(),
    ];
    let a = run_json(&args);
    let b = run_json(&args);
    assert_eq!(a, b);
    assert_eq!(a["samples"], 40);
    assert!(a["world"]["mean"].as_f64().unwrap() < 1.0);
    assert!(!a["contributors"].as_array().unwrap().is_empty());
    std::fs::write(&cfg, "[default]\nprobability = 2\n").unwrap();
    let out = chipwatch()
        .args(["risk", "--samples", "5", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("default.probability"));
}
