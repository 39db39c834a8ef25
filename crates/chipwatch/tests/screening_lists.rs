//! The list importers and `screen` through the real binary: `import csl|eu-fsf|uk-sanctions|
//! jp-eul` write the project's TOML with the list's date and row count; `screen` takes several
//! lists and ownership data and shows every list's provenance with the answer; bad files exit
//! with code 2 and a message naming the file, line or element path, and field.

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

fn cw() -> Command {
    Command::cargo_bin("chipwatch").unwrap()
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../chipwatch-controls/tests/fixtures/lists")
        .join(name)
}

fn ok(c: &mut Command) -> std::process::Output {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn every_importer_writes_a_dated_list() {
    let dir = tempfile::tempdir().unwrap();
    for (cmd, file, date, entries, published) in [
        ("csl", "csl.csv", Some("2026-11-30"), 3, "2026-11-30"),
        ("csl", "csl.json", None, 3, "2026-11-29"),
        ("eu-fsf", "eu-fsf.xml", None, 3, "2026-11-27"),
        ("uk-sanctions", "uk-sanctions.csv", None, 3, "2026-11-28"),
        ("jp-eul", "jp-eul.csv", None, 3, "2026-09-29"),
        ("jp-eul", "jp-eul.tsv", Some("2026-09-29"), 1, "2026-09-29"),
    ] {
        let out_toml = dir.path().join(format!("{file}.toml"));
        let mut c = cw();
        c.args(["import", cmd])
            .arg(fixture(file))
            .arg("--out")
            .arg(&out_toml);
        if let Some(d) = date {
            c.args(["--date", d]);
        }
        let out = ok(&mut c);
        let msg = String::from_utf8_lossy(&out.stderr);
        assert!(
            msg.contains(&format!("imported {entries} entries")) && msg.contains(published),
            "{file}: {msg}"
        );
        let toml = std::fs::read_to_string(&out_toml).unwrap();
        assert!(
            toml.contains(&format!("published = \"{published}\"")),
            "{file}"
        );
    }
}

#[test]
fn an_undated_file_needs_date() {
    let out = cw()
        .args(["import", "csl"])
        .arg(fixture("csl.csv"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("csl.csv") && msg.contains("--date"), "{msg}");
}

#[test]
fn malformed_files_name_file_and_place() {
    let dir = tempfile::tempdir().unwrap();
    let xml = std::fs::read_to_string(fixture("eu-fsf.xml")).unwrap();
    let cut = dir.path().join("cut.xml");
    std::fs::write(&cut, &xml[..xml.find("<citizenship").unwrap()]).unwrap();
    let out = cw().args(["import", "eu-fsf"]).arg(&cut).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        msg.contains("cut.xml:")
            && msg.contains("export/sanctionEntity")
            && msg.contains("truncated"),
        "{msg}"
    );
    let own = dir.path().join("own.csv");
    std::fs::write(
        &own,
        "owner,owned,percent,source,date\nA,B,120,s,2026-01-01\n",
    )
    .unwrap();
    let out = cw()
        .args(["screening", "B", "--ownership"])
        .arg(&own)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        msg.contains("own.csv:2:") && msg.contains("percent"),
        "{msg}"
    );
}

#[test]
fn screen_shows_every_list_and_affiliates() {
    // Text: the built-in list says it is a partial extract, with its date.
    let out = ok(cw().args(["screening", "SMIC", "--date", "2026-12-03"]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("partial extract, compiled 2026-11-21"),
        "{text}"
    );
    // JSON: several lists (one an official CSV dated with --list-date), ownership data.
    let out = ok(cw()
        .args([
            "screening",
            "Example Subsidiary GmbH",
            "Nimbus Litho",
            "Nobody Special",
            "--json",
            "--date",
            "2026-12-03",
            "--list-date",
            "2026-11-30",
            "--list",
            "../../data/screening/default-list.toml",
            "--list",
        ])
        .arg(fixture("csl.csv"))
        .arg("--list")
        .arg(fixture("jp-eul.csv"))
        .arg("--ownership")
        .arg(fixture("ownership.csv")));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let lists = v[0]["lists"].as_array().unwrap();
    assert_eq!(lists.len(), 4, "three lists and the ownership data");
    assert_eq!(lists[0]["partial"], true);
    assert_eq!(lists[1]["published"], "2026-11-30");
    assert_eq!(
        lists[2]["published"], "2026-09-29",
        "the file's own date wins"
    );
    assert_eq!(lists[3]["rows"], 6);
    let h = &v[0]["hits"][0];
    assert_eq!(h["list"], "US-EL");
    assert_eq!(h["affiliate_of"]["chain"].as_array().unwrap().len(), 2);
    assert_eq!(v[1]["hits"][0]["list_info"]["format"], "US CSL CSV");
    assert!(v[2]["hits"].as_array().unwrap().is_empty());
    assert_eq!(v[2]["lists"].as_array().unwrap().len(), 4);
    // While the rule is suspended, no affiliate hit.
    let out = ok(cw()
        .args([
            "screening",
            "Example Subsidiary GmbH",
            "--json",
            "--date",
            "2026-06-01",
            "--ownership",
        ])
        .arg(fixture("ownership.csv")));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v[0]["hits"].as_array().unwrap().is_empty());
}
