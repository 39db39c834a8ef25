//! `chipwatch licence denials list|match` and `licence check --denials` through the real binary:
//! a variant spelling of the end user matches, a near miss does not, withdrawn notices are left
//! out, and a bad file exits with code 2 naming the file and field.

use assert_cmd::Command;
use serde_json::Value;

const NOTICES: &str = r#"
[[notice]]
reference = "BAFA-2025-0042"
authority = "BAFA"
jurisdiction = "DEU"
denied_on = "2025-03-14"
destination = "CHN"
end_user = "Shanghai Micro Electronics Equipment Co., Ltd."
end_user_aliases = ["SMEE"]
consignees = ["Acme Trading Ltd"]
reason_category = "military_end_use"
reason = "End user supplies military programmes."
[notice.item]
description = "DUV immersion scanner"
product = "NXT:2000i"
control_entry = "3B001.f.1"

[[notice]]
reference = "METI-2024-7"
authority = "METI"
jurisdiction = "JPN"
denied_on = "2024-05-02"
destination = "RUS"
consignees = ["Volga Components LLC"]
reason_category = "diversion_risk"
withdrawn_on = "2025-01-10"
[notice.item]
description = "Photoresist"
control_entry = "3C002"
"#;

fn cw() -> Command {
    Command::cargo_bin("chipwatch").unwrap()
}

fn file(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("notices.toml");
    std::fs::write(&p, text).unwrap();
    (dir, p.display().to_string())
}

fn json(args: &[&str]) -> Value {
    let out = cw().args(args).arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn list_and_match_notices() {
    let (_d, f) = file(NOTICES);
    let all = json(&["licence", "denials", "list", &f, "--all"]);
    assert_eq!(all.as_array().unwrap().len(), 2);
    let current = json(&["licence", "denials", "list", &f]);
    assert_eq!(current.as_array().unwrap().len(), 1, "withdrawn left out");

    let m = json(&[
        "licence",
        "denials",
        "match",
        &f,
        "--end-user",
        "SHANGHAI MICROELECTRONICS EQUIPMENT CO LTD",
        "--product",
        "ASML TWINSCAN NXT:2000i",
    ]);
    assert_eq!(m.as_array().unwrap().len(), 1, "{m}");
    assert_eq!(m[0]["notice"]["authority"], "BAFA");
    assert_eq!(m[0]["match"]["item_rule"], "product");
    let m = json(&[
        "licence",
        "denials",
        "match",
        &f,
        "--consignee",
        "Acme Tradng Ltd",
        "--control-entry",
        "3B001.f",
    ]);
    assert_eq!(m[0]["match"]["name_rule"], "spelling", "{m}");
    // Near miss, and the withdrawn notice.
    let m = json(&[
        "licence",
        "denials",
        "match",
        &f,
        "--end-user",
        "Shanghai Microelectronics Institute",
        "--product",
        "NXT:2000i",
    ]);
    assert_eq!(m, serde_json::json!([]));
    let m = json(&[
        "licence",
        "denials",
        "match",
        &f,
        "--consignee",
        "Volga Components",
        "--control-entry",
        "3C002",
        "--date",
        "2025-06-01",
    ]);
    assert_eq!(m, serde_json::json!([]));
    let m = json(&[
        "licence",
        "denials",
        "match",
        &f,
        "--consignee",
        "Volga Components",
        "--control-entry",
        "3C002",
        "--date",
        "2024-06-01",
    ]);
    assert_eq!(m.as_array().unwrap().len(), 1, "in force on that date: {m}");

    // Text output names the authority and the line to consult.
    let out = cw()
        .args([
            "licence",
            "denials",
            "match",
            &f,
            "--end-user",
            "SMEE",
            "--product",
            "NXT:2000i",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("DENIED by BAFA") && text.contains("consult the issuing authority"),
        "{text}"
    );
    // A match needs a party and an item.
    let out = cw()
        .args(["licence", "denials", "match", &f, "--end-user", "SMEE"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn licence_check_shows_partner_denials() {
    let (_d, f) = file(NOTICES);
    let v = json(&[
        "licence",
        "check",
        "--product",
        "NXT:2000i",
        "--from",
        "NLD",
        "--to",
        "CHN",
        "--date",
        "2026-06-01",
        "--end-user",
        "Shanghai Micro-Electronics Equipment",
        "--denials",
        &f,
    ]);
    assert_eq!(v["partner_denials"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(
        v["partner_denials"][0]["notice"]["reference"],
        "BAFA-2025-0042"
    );
    assert!(v["overall"].is_object());
    let out = cw()
        .args([
            "licence",
            "check",
            "--product",
            "NXT:2000i",
            "--from",
            "NLD",
            "--to",
            "CHN",
            "--date",
            "2026-06-01",
            "--party",
            "consignee=Acme Trading",
            "--denials",
            &f,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Partner denials:") && text.contains("DENIED by BAFA"),
        "{text}"
    );
}

#[test]
fn a_bad_notice_file_names_file_and_field() {
    for (bad, field) in [
        (
            NOTICES.replace("\"CHN\"", "\"China\""),
            "notice[0].destination",
        ),
        (
            NOTICES.replace(
                "reason_category = \"diversion_risk\"",
                "reason_category = \"why\"",
            ),
            "unknown variant",
        ),
        (
            NOTICES.replace("description = \"Photoresist\"", ""),
            "description",
        ),
    ] {
        let (_d, f) = file(&bad);
        let out = cw()
            .args(["licence", "denials", "list", &f])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("notices.toml") && err.contains(field),
            "{field}: {err}"
        );
    }
    let out = cw()
        .args(["licence", "denials", "list", "/nonexistent/notices.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/notices.toml"));
}
