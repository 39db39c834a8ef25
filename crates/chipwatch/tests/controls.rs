//! The export-control commands through the real binary: licence check (text, JSON, batch),
//! screen, import csl, measure list/show/impact; bad input exits with code 2 and a message naming
//! the file or field.

use assert_cmd::Command;
use serde_json::Value;

fn cw() -> Command {
    Command::cargo_bin("chipwatch").unwrap()
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
fn licence_check_json_shape() {
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
        "2026-11-21",
    ]);
    for k in [
        "date", "from", "to", "origin", "end_user", "item", "verdicts", "overall",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    for k in ["product", "parameters", "derived"] {
        assert!(v["item"].get(k).is_some(), "missing item.{k}");
    }
    let eu = v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["jurisdiction"] == "EU")
        .unwrap();
    for k in [
        "outcome",
        "review_policy",
        "authorisation",
        "measure_id",
        "instrument",
        "explanation",
    ] {
        assert!(eu.get(k).is_some(), "missing verdict.{k}");
    }
    assert_eq!(eu["outcome"], "licence_required");
    assert_eq!(v["overall"]["outcome"], "licence_required");
    let mrf = v["item"]["derived"]["mrf_k035_nm"].as_f64().unwrap();
    assert!((mrf - 50.037).abs() < 0.001);
}

#[test]
fn licence_check_params_and_text() {
    let out = cw()
        .args([
            "licence",
            "check",
            "--param",
            "wavelength_nm=13.5",
            "--param",
            "numerical_aperture=0.33",
            "--from",
            "NLD",
            "--to",
            "KOR",
            "--date",
            "2026-11-21",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        s.contains("3B001.f.1.a: wavelength_nm = 13.5 < 193: met"),
        "{s}"
    );
    assert!(s.contains("Overall: licence_required"), "{s}");
}

#[test]
fn licence_check_suspension_today() {
    let v = json(&[
        "licence",
        "check",
        "--product",
        "gallium",
        "--from",
        "CHN",
        "--to",
        "USA",
        "--date",
        "2026-11-21",
    ]);
    let cn = v["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["jurisdiction"] == "CHN")
        .unwrap();
    assert_eq!(cn["outcome"], "licence_required");
    let text = cn["explanation"].to_string();
    assert!(
        text.contains("suspended from 2025-11-09 to 2026-11-27"),
        "{text}"
    );
}

#[test]
fn licence_check_end_user_feeds_determination() {
    let v = json(&[
        "licence",
        "check",
        "--product",
        "H20",
        "--from",
        "USA",
        "--to",
        "CHN",
        "--end-user",
        "華為技術有限公司",
        "--date",
        "2026-11-21",
    ]);
    assert_eq!(v["overall"]["outcome"], "licence_required");
    assert_eq!(v["overall"]["review_policy"], "presumption_of_denial");
    assert_eq!(v["end_user_screening"][0]["list"], "US-EL");
}

#[test]
fn batch_writes_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("ship.csv");
    std::fs::write(
        &f,
        "product,from,to,date,us_content_pct\nNXT:2000i,NLD,CHN,2026-11-21,\nH800,USA,CHN,2023-06-01,\nNXT:1980i,NLD,CHN,2026-01-01,3\n",
    )
    .unwrap();
    let out = cw()
        .args(["licence", "check", "--batch"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1]["overall"]["outcome"], "not_required");
    assert_eq!(
        lines[2]["overall"]["review_policy"],
        "presumption_of_denial"
    );
}

#[test]
fn bad_input_exits_2_with_named_field() {
    let out = cw()
        .args([
            "licence",
            "check",
            "--product",
            "NXT:2000i",
            "--from",
            "NLD",
            "--to",
            "China",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`China` is not an ISO 3166-1 alpha-3"));
    let out = cw()
        .args([
            "licence",
            "check",
            "--product",
            "nope",
            "--from",
            "NLD",
            "--to",
            "CHN",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = cw()
        .args([
            "licence", "check", "--param", "tpp", "--from", "NLD", "--to", "CHN",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--param"));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.csv");
    std::fs::write(&f, "from,to,date\nNLD,CHN,2026-02-31\n").unwrap();
    let out = cw()
        .args(["licence", "check", "--batch"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv:2: column `date`"), "{err}");
}

#[test]
fn screen_several_scripts() {
    let v = json(&[
        "screening",
        "Zhongxin Guoji",
        "長江存儲",
        "Huawei Technolgies Co Ltd",
        "Samsung Electronics",
    ]);
    let a = v.as_array().unwrap();
    assert!(a[0]["hits"][0]["entry_name"]
        .as_str()
        .unwrap()
        .contains("Semiconductor Manufacturing International"));
    assert!(a[1]["hits"][0]["entry_name"]
        .as_str()
        .unwrap()
        .contains("Yangtze"));
    assert!(a[2]["hits"][0]["entry_name"]
        .as_str()
        .unwrap()
        .contains("Huawei Technologies"));
    assert!(a[3]["hits"].as_array().unwrap().is_empty());
}

const CSL: &str = "_id,source,entity_number,type,programs,name,title,addresses,federal_register_notice,start_date,end_date,standard_order,license_requirement,license_policy,call_sign,vessel_type,gross_tonnage,gross_registered_tonnage,vessel_flag,vessel_owner,remarks,source_list_url,alt_names,citizenships,dates_of_birth,nationalities,places_of_birth,source_information_url,ids
1,Entity List (EL) - Bureau of Industry and Security,,,,Example Microelectronics Co. Ltd.,,\"1 Road, Shenzhen, CN\",89 FR 1,2024-01-02,,,For all items subject to the EAR.,Presumption of denial.,,,,,,,,,示例微电子有限公司; ExMicro,,,,,,
2,Specially Designated Nationals (SDN) - Treasury Department,,,,Other Party,,,,,,,,,,,,,,,,,,,,,,,
";

#[test]
fn import_csl_then_screen_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("csl.csv");
    std::fs::write(&csv, CSL).unwrap();
    let out_toml = dir.path().join("list.toml");
    let out = cw()
        .args(["import", "csl", "--date", "2026-11-30"])
        .arg(&csv)
        .arg("--out")
        .arg(&out_toml)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("imported 2 entries"));
    for list in [&out_toml, &csv] {
        let out = cw()
            .args([
                "screening",
                "示例微電子",
                "--json",
                "--list-date",
                "2026-11-30",
                "--list",
            ])
            .arg(list)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v[0]["hits"][0]["list"], "US-EL");
        assert_eq!(v[0]["hits"][0]["review_policy"], "presumption_of_denial");
    }
    // A file without the name column is rejected with its name.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "_id,source\n1,x\n").unwrap();
    let out = cw().args(["import", "csl"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing column `name`"));
}

#[test]
fn measure_list_show_and_impact() {
    let v = json(&["measure", "list"]);
    assert!(v.as_array().unwrap().len() >= 20);
    let out = cw()
        .args(["measure", "show", "CN-2024-46"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("MOFCOM Announcement No. 72 of 2025"));
    let out = cw().args(["measure", "show", "NOPE"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v = json(&[
        "measure",
        "impact",
        "NL-semiconductor-equipment",
        "--deny",
        "CHN",
        "--date",
        "2026-11-21",
    ]);
    assert_eq!(v["incidence"]["hhi"].as_f64().unwrap().round(), 10000.0);
    assert_eq!(v["incidence"]["text_names_countries"], false);
    assert_eq!(v["affected_countries"][0]["country"], "CHN");
    assert!(v["affected_countries"][0]["change"].as_f64().unwrap() < 0.0);
    assert!(!v["affected_countries"][0]["binding_constraint"]
        .as_array()
        .unwrap()
        .is_empty());
    let v = json(&[
        "measure",
        "impact",
        "NL-semiconductor-equipment",
        "--date",
        "2026-11-21",
    ]);
    let hhi = v["incidence"]["hhi"].as_f64().unwrap();
    assert!(hhi < 5000.0, "worst-case denial everywhere spreads: {hhi}");
    // Not in force on the date.
    let out = cw()
        .args([
            "measure",
            "impact",
            "EU-3B501.f.1.b",
            "--date",
            "2024-01-01",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not in force on 2024-01-01"));
}

/// Fail closed through the binary: an undetermined overall verdict prints the whole answer and
/// exits 3; bad codes, products and end uses exit 2 naming the field, never giving a verdict.
#[test]
fn fail_closed_exit_codes() {
    let out = cw()
        .args([
            "licence",
            "check",
            "--param",
            "wavelength_nm=193",
            "--param",
            "numerical_aperture=1.35",
            "--from",
            "NLD",
            "--to",
            "CHN",
            "--date",
            "2026-11-21",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["overall"]["outcome"], "undetermined");
    assert!(v["overall"]["missing_parameters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "dedicated_chuck_overlay_nm"));
    assert_eq!(v["ruleset"]["version"].as_str().unwrap().len(), 64);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("undetermined"), "{err}");

    for (args, needle) in [
        (
            vec!["--product", "NXT:2000i", "--from", "NLD", "--to", "NDL"],
            "`to`",
        ),
        (
            vec!["--product", "NXT:2000i", "--from", "XXX", "--to", "CHN"],
            "`from`",
        ),
        (
            vec!["--product", "A10", "--from", "USA", "--to", "CHN"],
            "A100",
        ),
        (
            vec!["--product", "H2", "--from", "USA", "--to", "CHN"],
            "unknown product",
        ),
        (
            vec![
                "--product",
                "H20",
                "--from",
                "USA",
                "--to",
                "CHN",
                "--end-use",
                "militar",
            ],
            "`end_use`",
        ),
        (
            vec![
                "--param",
                "wavelenght_nm=13.5",
                "--from",
                "NLD",
                "--to",
                "CHN",
            ],
            "wavelength_nm",
        ),
    ] {
        let out = cw()
            .args(["licence", "check"])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: a verdict was printed");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

/// The licence register through the binary: a refused draw-down leaves the file as it was; an
/// authorised one is appended and the file still parses.
#[test]
fn licence_register_show_and_ship() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("register.toml");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../chipwatch-controls/tests/fixtures/licences/register.toml"
        ),
        &reg,
    )
    .unwrap();
    let reg_s = reg.to_str().unwrap();
    let v = json(&["licence", "show", reg_s, "--on", "2024-01-15"]);
    assert_eq!(v[0]["status"], "active");
    assert_eq!(v[0]["items"][1]["revoked"], true);
    let before = std::fs::read(&reg).unwrap();
    let ship = |item: &str, q: &str| {
        cw().args([
            "licence",
            "ship",
            reg_s,
            "--licence",
            "NL-TEST-2023-0001",
            "--item",
            item,
            "--quantity",
            q,
            "--value",
            "10",
            "--to",
            "CHN",
            "--consignee",
            "Alpha Wafer Co., Ltd.",
            "--date",
            "2024-03-01",
            "--reference",
            "S-4",
        ])
        .output()
        .unwrap()
    };
    let out = ship("2", "1");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("revoked"));
    assert_eq!(
        std::fs::read(&reg).unwrap(),
        before,
        "a refused shipment changed the file"
    );
    let out = ship("1", "5");
    assert_eq!(out.status.code(), Some(2), "only 3 are left on line 1");
    let out = ship("1", "2");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&["licence", "show", reg_s, "--on", "2024-03-01"]);
    assert_eq!(v[0]["items"][0]["remaining_quantity"], 1.0);
    // A determination names the licences that cover its requirements, grandfathering applied.
    let v = json(&[
        "licence",
        "check",
        "--product",
        "NXT:2050i",
        "--from",
        "NLD",
        "--to",
        "CHN",
        "--date",
        "2024-10-01",
        "--end-user",
        "Alpha Wafer Co., Ltd.",
        "--param",
        "us_content_pct=0",
        "--param",
        "us_direct_product=false",
        "--register",
        reg_s,
    ]);
    let nl = v["licences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["jurisdiction"] == "NLD")
        .unwrap();
    assert_eq!(nl["covers"], true, "{nl}");
    assert!(
        nl["reason"].as_str().unwrap().contains("stay valid"),
        "{nl}"
    );
    // A proposed full revocation shows what is no longer authorised and records nothing; a
    // recorded one stops the next draw-down.
    let before = std::fs::read(&reg).unwrap();
    let v = json(&[
        "licence",
        "revoke",
        reg_s,
        "--licence",
        "NL-TEST-2023-0001",
        "--date",
        "2024-06-01",
        "--reason",
        "proposed",
        "--full",
        "--dry-run",
    ]);
    assert_eq!(v["stops_everything"], true);
    assert_eq!(v["items"][0]["quantity"], 1.0);
    assert_eq!(std::fs::read(&reg).unwrap(), before);
    let out = cw()
        .args([
            "licence",
            "revoke",
            reg_s,
            "--licence",
            "NL-TEST-2023-0001",
            "--date",
            "2024-06-01",
            "--reason",
            "decided",
            "--full",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&["licence", "show", reg_s, "--on", "2024-06-01"]);
    assert_eq!(v[0]["status"], "revoked");
}

/// `licence register` adds a grant (refusing duplicates and grants that carry history);
/// `licence impact` assesses a proposed and a recorded decision through the scenario engine;
/// the nested form of earlier releases says where the command went.
#[test]
fn licence_register_add_and_impact() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("register.toml");
    let reg_s = reg.to_str().unwrap();
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../chipwatch-controls/tests/fixtures/licences/register.toml"
    );
    // A grant with its history is refused: history is recorded through ship/revoke.
    let out = cw()
        .args(["licence", "register", reg_s, "--add", fixture])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("carries events"));
    assert!(!reg.exists(), "nothing written");
    let grant = dir.path().join("grant.toml");
    let text = std::fs::read_to_string(fixture).unwrap();
    let grant_only: String = text.split("[[licence.event]]").next().unwrap().to_string();
    std::fs::write(&grant, grant_only).unwrap();
    let g = grant.to_str().unwrap();
    let v = json(&["licence", "register", reg_s, "--add", g]);
    assert_eq!(v["registered"][0], "NL-TEST-2023-0001");
    let out = cw()
        .args(["licence", "register", reg_s, "--add", g])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already in"));
    // The nested form of the earlier release still works, with a note.
    let out = cw()
        .args([
            "--json",
            "licence",
            "register",
            "show",
            reg_s,
            "--on",
            "2024-01-15",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("now `chipwatch licence show`"));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["number"], "NL-TEST-2023-0001");

    // Impact of the fixture's recorded January 2024 partial revocation.
    let v = json(&[
        "licence",
        "impact",
        fixture,
        "--licence",
        "NL-TEST-2023-0001",
        "--date",
        "2024-01-01",
        "--recorded",
    ]);
    assert_eq!(v["licences"][0]["value"], 270.0);
    assert_eq!(v["incidence"]["top_destination"], "CHN");
    let chn = v["affected_consumers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["country"] == "CHN")
        .expect("CHN affected");
    assert!(chn["final_output_estimate"].as_f64().unwrap() < 1.0);
    // A proposed revocation of line 1 refuses the scheduled shipment S-3.
    let v = json(&[
        "licence",
        "impact",
        fixture,
        "--licence",
        "NL-TEST-2023-0001",
        "--date",
        "2024-02-01",
        "--items",
        "1",
        "--usd-per",
        "EUR=1.1",
    ]);
    assert_eq!(v["scheduled_shipments"][0]["reference"], "S-3");
    assert!((v["licences"][0]["value_usd"].as_f64().unwrap() - 300.0 * 1.1e6).abs() < 1.0);
    // An amendment lowering line 1's ceiling to 3 (2 shipped): 3 units x 75 no longer
    // authorised; the scheduled 1-unit shipment S-3 still fits.
    let v = json(&[
        "licence",
        "impact",
        fixture,
        "--licence",
        "NL-TEST-2023-0001",
        "--date",
        "2024-01-10",
        "--ceiling",
        "1=3",
    ]);
    assert_eq!(v["licences"][0]["value"], 225.0);
    assert_eq!(v["scheduled_shipments"].as_array().unwrap().len(), 0);
    for (args, needle) in [
        (
            vec!["--date", "2024-01-10", "--ceiling", "1=x"],
            "--ceiling",
        ),
        (
            vec!["--date", "2024-01-10", "--ceiling", "9=1"],
            "no item line `9`",
        ),
        (vec!["--date", "2024-02-01"], "give the decision"),
        (
            vec!["--date", "2024-02-01", "--items", "9"],
            "no item line `9`",
        ),
        (
            vec!["--date", "2024-02-01", "--recorded"],
            "no event recorded",
        ),
        (vec!["--date", "2024-13-01", "--full"], "--date"),
        (
            vec!["--date", "2024-02-01", "--full", "--usd-per", "EUR=-1"],
            "--usd-per",
        ),
    ] {
        let out = cw()
            .args([
                "licence",
                "impact",
                fixture,
                "--licence",
                "NL-TEST-2023-0001",
            ])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

/// `licence check --record-case` keeps the determination in the server's database for a user
/// of an organisation (analysts and admins only), with an override and its reason; bad
/// overrides and unknown users are errors and keep nothing.
#[test]
fn licence_check_keeps_a_determination_record() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let db_s = db.to_str().unwrap();
    let ok = |args: &[&str]| {
        let out = cw().args(args).args(["--db", db_s]).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    ok(&["admin", "org", "create", "Hague"]);
    ok(&[
        "admin", "user", "create", "--org", "Hague", "--role", "analyst", "--name", "officer1",
    ]);
    ok(&[
        "admin", "user", "create", "--org", "Hague", "--role", "viewer", "--name", "reader",
    ]);
    let check = [
        "licence",
        "check",
        "--product",
        "NXT:2050i",
        "--from",
        "NLD",
        "--to",
        "CHN",
        "--date",
        "2024-10-01",
        "--as-org",
        "Hague",
    ];
    let out = ok(&[
        &check[..],
        &["--record-case", "CDIU-1", "--as-user", "officer1"],
    ]
    .concat());
    assert!(String::from_utf8_lossy(&out.stderr).contains("kept as determination record 1"));
    ok(&[
        &check[..],
        &[
            "--record-case",
            "CDIU-2",
            "--as-user",
            "officer1",
            "--override",
            "prohibited",
            "--override-reason",
            "end user diverts",
        ],
    ]
    .concat());
    for (extra, needle) in [
        (vec!["--record-case", "X", "--as-user", "reader"], "viewer"),
        (
            vec!["--record-case", "X", "--as-user", "nobody"],
            "no user `nobody`",
        ),
        (
            vec![
                "--record-case",
                "X",
                "--as-user",
                "officer1",
                "--override",
                "maybe",
                "--override-reason",
                "r",
            ],
            "not one of",
        ),
        (vec!["--record-case", "X"], "--as-user"),
    ] {
        let out = cw()
            .args([&check[..], &extra[..]].concat())
            .args(["--db", db_s])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(needle),
            "{extra:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let recs = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let store = chipwatch_store::Store::open(db_s).await.unwrap();
            let org = store.org_by_name("Hague").await.unwrap().unwrap();
            store
                .determination_records(org.id, &Default::default())
                .await
                .unwrap()
        });
    assert_eq!(recs.len(), 2);
    let r2 = recs.iter().find(|r| r.case_ref == "CDIU-2").unwrap();
    assert_eq!(r2.outcome, "licence_required");
    assert_eq!(r2.override_outcome.as_deref(), Some("prohibited"));
    assert_eq!(r2.user_name, "officer1");
    assert_eq!(r2.inputs["product"], "NXT:2050i");
}
