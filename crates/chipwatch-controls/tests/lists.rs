//! Importers for the official list formats, on fixtures written in each list's published layout
//! (`tests/fixtures/lists/`, invented names): entries, aliases, dates, row counts, provenance on
//! every hit; and malformed files: errors name the file, line (or element path) and field.

use chipwatch_controls::lists::{eu_fsf, import_any, jp_eul, sniff, uk, Format};
use chipwatch_controls::screening::DEFAULT_THRESHOLD;
use chipwatch_controls::*;

fn fixture(name: &str) -> String {
    let p = format!("{}/tests/fixtures/lists/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn date(s: &str) -> Option<Date> {
    Some(Date::parse(s).unwrap())
}

fn screener(list: RestrictedList) -> Screener {
    Screener::new(default_normaliser(), vec![list])
}

#[test]
fn csl_csv_published_layout() {
    let l = csl::import_csl(&fixture("csl.csv"), "csl.csv", date("2026-11-30")).unwrap();
    assert_eq!(l.entries.len(), 3, "the blank line is no entry");
    assert_eq!(l.meta.rows, Some(3));
    assert_eq!(l.meta.published.as_deref(), Some("2026-11-30"));
    let e = &l.entries[0];
    assert_eq!(e.list, "US-EL");
    assert_eq!(e.name, "Nimbus Lithography Equipment Co., Ltd.");
    assert_eq!(
        e.aliases,
        vec![
            "Nimbus Litho",
            "宁布斯光刻设备有限公司",
            "Nimbus Lithography"
        ]
    );
    assert_eq!(e.review_policy, Some(ReviewPolicy::PresumptionOfDenial));
    assert!(e.remarks.as_deref().unwrap().contains("2 Sample Street"));
    assert_eq!(l.entries[1].list, "US-SDN");
    assert_eq!(l.entries[2].list, "US-MEU");
    assert_eq!(l.entries[2].review_policy, Some(ReviewPolicy::CaseByCase));
    // The CSV has no date of its own.
    let err = csl::import_csl(&fixture("csl.csv"), "csl.csv", None).unwrap_err();
    assert!(err.to_string().contains("csl.csv") && err.to_string().contains("--date"));
}

#[test]
fn csl_json_published_layout() {
    let l = csl::import_csl_json(&fixture("csl.json"), "csl.json", None).unwrap();
    // The latest `source_last_updated` of the consolidated sources.
    assert_eq!(l.meta.published.as_deref(), Some("2026-11-29"));
    assert_eq!(l.meta.rows, Some(3));
    let lists: Vec<&str> = l.entries.iter().map(|e| e.list.as_str()).collect();
    assert_eq!(lists, ["US-EL", "US-SDN", "US-MEU"]);
    assert_eq!(l.entries[0].aliases.len(), 2);
    assert!(l.entries[0]
        .remarks
        .as_deref()
        .unwrap()
        .contains("Example City"));
    assert!(l.entries[1]
        .remarks
        .as_deref()
        .unwrap()
        .contains("Registration Number"));
    assert!(l.entries[1].aliases.is_empty(), "null alt_names");
    assert_eq!(
        l.entries[2].aliases,
        vec!["Example Aeronautics Institute", "EAI"]
    );
    assert_eq!(l.entries[0].listed_on.as_deref(), Some("2025-03-25"));
    // A --date that contradicts the file is refused.
    let err = csl::import_csl_json(&fixture("csl.json"), "csl.json", date("2026-01-01"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("source_last_updated") && err.contains("2026-01-01"),
        "{err}"
    );
    // A bare array of records needs --date.
    let bare = r#"[{"name": "X Co", "source": "Entity List (EL) - BIS"}]"#;
    assert!(csl::import_csl_json(bare, "b.json", None).is_err());
    let l = csl::import_csl_json(bare, "b.json", date("2026-02-02")).unwrap();
    assert_eq!(l.entries[0].list, "US-EL");
}

#[test]
fn eu_fsf_published_layout() {
    let l = eu_fsf::import_eu_fsf(&fixture("eu-fsf.xml"), "eu.xml", None).unwrap();
    assert_eq!(l.meta.published.as_deref(), Some("2026-11-27"));
    assert_eq!(l.meta.rows, Some(3));
    assert_eq!(l.entries.len(), 3);
    let e = &l.entries[0];
    assert_eq!(e.list, "EU-FSF");
    assert_eq!(e.name, "Joint Stock Company Example Microelectronics Plant");
    assert_eq!(
        e.aliases,
        vec!["АО Пример Микроэлектроника", "Example Micro Plant & Co"]
    );
    assert_eq!(e.listed_on.as_deref(), Some("2022-06-03"));
    assert!(e.citation.contains("EU.9001.01") && e.citation.contains("2022/879"));
    assert!(e.remarks.as_deref().unwrap().contains("RU"));
    // Name from its parts; listing date from the earliest regulation; both programmes.
    let p = &l.entries[1];
    assert_eq!(p.name, "Ivan Examplov");
    assert_eq!(p.listed_on.as_deref(), Some("2023-02-25"));
    assert!(p.citation.contains("BLR, RUS"), "{}", p.citation);
    let s = screener(l);
    let h = &s.screen("Example Microelectronics Plant JSC", DEFAULT_THRESHOLD)[0];
    assert_eq!(h.list, "EU-FSF");
    assert_eq!(h.list_info.published, Date::parse("2026-11-27").ok());
}

#[test]
fn uk_sanctions_published_layout() {
    let l = uk::import_uk_sanctions(&fixture("uk-sanctions.csv"), "uk.csv", None).unwrap();
    assert_eq!(l.meta.published.as_deref(), Some("2026-11-28"));
    assert_eq!(l.meta.rows, Some(4), "four name rows");
    assert_eq!(l.entries.len(), 3, "three designations");
    let e = &l.entries[0];
    assert_eq!(e.list, "UK-SANCTIONS");
    assert_eq!(e.name, "EXAMPLE SEMICONDUCTOR COMPONENTS LLC");
    assert_eq!(
        e.aliases,
        vec!["ООО Пример Компоненты", "EXAMPLE SEMI COMPONENTS"]
    );
    assert_eq!(e.listed_on.as_deref(), Some("2023-03-15"));
    assert!(e.citation.contains("RUS9001"));
    assert!(e
        .licence_requirement
        .contains("Asset freeze, Trust services sanctions"));
    // Given names first, "0" placeholders dropped.
    assert_eq!(l.entries[1].name, "Pyotr Ivanovich EXAMPLOV");
    let s = screener(l);
    assert_eq!(
        s.screen("样本两用贸易", DEFAULT_THRESHOLD)[0].list,
        "UK-SANCTIONS"
    );
}

#[test]
fn jp_eul_published_layout() {
    let l = jp_eul::import_jp_eul(&fixture("jp-eul.csv"), "eul.csv", None).unwrap();
    assert_eq!(l.meta.published.as_deref(), Some("2026-09-29"));
    assert_eq!(l.meta.rows, Some(3));
    let e = &l.entries[0];
    assert_eq!(e.list, "JP-EUL");
    assert_eq!(e.aliases, vec!["Example Aerospace Industries", "EAIO"]);
    assert!(e.remarks.as_deref().unwrap().contains("missile"));
    assert!(e.citation.contains("No. 1"));
    assert_eq!(l.entries[1].name, "Sample Nuclear Research Centre, Ltd.");
    assert!(l.entries[2]
        .remarks
        .as_deref()
        .unwrap()
        .contains("biological, chemical"));
    // TSV without a title line: the date must be given.
    let tsv = fixture("jp-eul.tsv");
    let err = jp_eul::import_jp_eul(&tsv, "eul.tsv", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("eul.tsv") && err.contains("--date"), "{err}");
    let l = jp_eul::import_jp_eul(&tsv, "eul.tsv", date("2026-09-29")).unwrap();
    assert_eq!(l.entries[0].aliases, vec!["EAIO"]);
    assert_eq!(l.meta.format.as_deref(), Some("JP EUL TSV"));
}

#[test]
fn jp_eul_japanese_headers() {
    let text = "エンド・ユーザー・リスト\n改正 2026/09/29\n\
                No.,国名・地域名,企業名・組織名,別名,懸念区分\n\
                1,サンプル国,サンプル航空宇宙工業機構,\"・サンプル航空\n・SAIO\",M\n";
    assert_eq!(sniff(text), Format::JpEulCsv);
    let l = jp_eul::import_jp_eul(text, "eul-ja.csv", None).unwrap();
    assert_eq!(l.meta.published.as_deref(), Some("2026-09-29"));
    assert_eq!(l.entries[0].name, "サンプル航空宇宙工業機構");
    assert_eq!(l.entries[0].aliases, vec!["サンプル航空", "SAIO"]);
}

#[test]
fn formats_are_recognised_and_round_trip() {
    for (f, fmt) in [
        ("csl.csv", Format::CslCsv),
        ("csl.json", Format::CslJson),
        ("eu-fsf.xml", Format::EuFsfXml),
        ("uk-sanctions.csv", Format::UkSanctionsCsv),
        ("jp-eul.csv", Format::JpEulCsv),
        ("jp-eul.tsv", Format::JpEulCsv),
    ] {
        let text = fixture(f);
        assert_eq!(sniff(&text), fmt, "{f}");
        // Only the CSL CSV and the TSV without a title line carry no date.
        let given = if f == "csl.csv" || f == "jp-eul.tsv" {
            date("2026-11-30")
        } else {
            None
        };
        let l = import_any(&text, f, given).unwrap_or_else(|e| panic!("{f}: {e}"));
        // The project's TOML keeps every entry and the provenance.
        let back = RestrictedList::from_toml_str(&l.to_toml_string(), "back.toml").unwrap();
        assert_eq!(back.entries, l.entries, "{f}");
        assert_eq!(back.meta, l.meta, "{f}");
        assert_eq!(sniff(&l.to_toml_string()), Format::Toml);
    }
}

#[test]
fn builtin_list_says_partial_extract_on_every_hit() {
    let s = Screener::new(default_normaliser(), vec![default_list().unwrap()]);
    let info = &s.lists()[0];
    assert!(info.partial);
    assert!(info.compiled);
    assert_eq!(info.published, Date::parse("2026-11-21").ok());
    assert_eq!(info.file, "data/screening/default-list.toml");
    let line = info.to_string();
    assert!(
        line.contains("partial extract, compiled 2026-11-21"),
        "{line}"
    );
    let h = &s.screen("SMIC", DEFAULT_THRESHOLD)[0];
    assert!(h.list_info.partial);
    let json = serde_json::to_value(h).unwrap();
    assert_eq!(json["list_info"]["partial"], true);
    assert_eq!(json["list_info"]["published"], "2026-11-21");
    assert!(json.get("affiliate_of").is_none());
}

#[test]
fn several_lists_each_hit_names_its_own() {
    let eu = eu_fsf::import_eu_fsf(&fixture("eu-fsf.xml"), "eu.xml", None).unwrap();
    let uk = uk::import_uk_sanctions(&fixture("uk-sanctions.csv"), "uk.csv", None).unwrap();
    let s = Screener::new(default_normaliser(), vec![default_list().unwrap(), eu, uk]);
    assert_eq!(s.lists().len(), 3);
    let h = &s.screen("Example Semiconductor Components", DEFAULT_THRESHOLD)[0];
    assert_eq!(h.list_info.file, "uk.csv");
    assert_eq!(h.list_info.rows, Some(4));
    let h = &s.screen("Huawei", DEFAULT_THRESHOLD)[0];
    assert_eq!(h.list_info.file, "data/screening/default-list.toml");
}

// ---- malformed files: errors name file, line or element path, and field ----

fn err_of<T: std::fmt::Debug>(r: Result<T, ControlsError>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn malformed_csl() {
    let e = err_of(csl::import_csl(
        "_id,source\n1,x\n",
        "m.csv",
        date("2026-01-01"),
    ));
    assert_eq!(e, "m.csv: missing column `name`");
    let e = err_of(csl::import_csl(
        "source,name,start_date\nEntity List (EL) - BIS,X Co,31/31/2020\n",
        "m.csv",
        date("2026-01-01"),
    ));
    assert!(
        e.starts_with("m.csv") && e.contains("line 2: start_date"),
        "{e}"
    );
    let e = err_of(csl::import_csl(
        "source,name\n\"unclosed,X\n",
        "q.csv",
        date("2026-01-01"),
    ));
    assert!(e.starts_with("q.csv"), "{e}");
    let e = err_of(csl::import_csl_json("{\"results\": [", "t.json", None));
    assert!(e.starts_with("t.json:1:") && e.contains("JSON"), "{e}");
    let e = err_of(csl::import_csl_json("{\"total\": 0}", "t.json", None));
    assert!(e.contains("t.json") && e.contains("`results`"), "{e}");
    let e = err_of(csl::import_csl_json(
        r#"{"results": [{"name": "", "source": "EL"}]}"#,
        "t.json",
        date("2026-01-01"),
    ));
    assert!(e.contains("results[0].name"), "{e}");
    let e = err_of(csl::import_csl_json(
        r#"{"sources_used": [{"source_last_updated": "yesterday"}], "results": []}"#,
        "t.json",
        None,
    ));
    assert!(e.contains("sources_used[0].source_last_updated"), "{e}");
}

#[test]
fn malformed_eu_fsf() {
    let full = fixture("eu-fsf.xml");
    // Truncated in the middle of the second entity.
    let cut = &full[..full.find("<citizenship").unwrap()];
    let e = err_of(eu_fsf::import_eu_fsf(cut, "eu.xml", None));
    assert!(
        e.starts_with("eu.xml:")
            && e.contains("export/sanctionEntity[2]")
            && e.contains("truncated"),
        "{e}"
    );
    let bad_date = full.replace(
        "publicationDate=\"2023-02-25\"",
        "publicationDate=\"2023-13-45\"",
    );
    let e = err_of(eu_fsf::import_eu_fsf(&bad_date, "eu.xml", None));
    assert!(
        e.contains("eu.xml:15:")
            && e.contains("sanctionEntity[2]/regulation")
            && e.contains("publicationDate"),
        "{e}"
    );
    let no_name = full.replace(
        "<nameAlias wholeName=\"Sample Components (HK) Limited\" strong=\"true\"/>",
        "",
    );
    let e = err_of(eu_fsf::import_eu_fsf(&no_name, "eu.xml", None));
    assert!(
        e.contains("sanctionEntity[3]") && e.contains("EU.9003.03"),
        "{e}"
    );
    let no_date = full.replace(" generationDate=\"2026-11-27T18:02:11.135+01:00\"", "");
    let e = err_of(eu_fsf::import_eu_fsf(&no_date, "eu.xml", None));
    assert!(e.contains("generationDate") && e.contains("--date"), "{e}");
    assert!(eu_fsf::import_eu_fsf(&no_date, "eu.xml", date("2026-11-27")).is_ok());
    let e = err_of(eu_fsf::import_eu_fsf("<html><body/></html>", "x.xml", None));
    assert!(e.contains("x.xml:1:") && e.contains("`export`"), "{e}");
    let e = err_of(eu_fsf::import_eu_fsf("", "x.xml", None));
    assert!(e.contains("x.xml") && e.contains("root"), "{e}");
    let e = err_of(eu_fsf::import_eu_fsf(
        "<export><a></b></export>",
        "x.xml",
        None,
    ));
    assert!(e.starts_with("x.xml:1:"), "{e}");
}

#[test]
fn malformed_uk_sanctions() {
    let full = fixture("uk-sanctions.csv");
    let e = err_of(uk::import_uk_sanctions(
        &full.replace("Report Date: 28-Nov-2026", "Report Date: someday"),
        "uk.csv",
        None,
    ));
    assert!(
        e.starts_with("uk.csv:1:") && e.contains("Report Date"),
        "{e}"
    );
    let e = err_of(uk::import_uk_sanctions(
        &full.replace(",15/03/2023,,\n", ",15/13/2023,,\n"),
        "uk.csv",
        None,
    ));
    assert!(
        e.starts_with("uk.csv:3:") && e.contains("Date Designated"),
        "{e}"
    );
    let e = err_of(uk::import_uk_sanctions(
        &full.replace("Unique ID", "Identifier"),
        "uk.csv",
        None,
    ));
    assert_eq!(e, "uk.csv: missing column `Unique ID`");
    let e = err_of(uk::import_uk_sanctions(
        &full.replace(
            "01/10/2026,RUS9001,99001,,EXAMPLE SEMI COMPONENTS",
            "01/10/2026,,99001,,EXAMPLE SEMI COMPONENTS",
        ),
        "uk.csv",
        None,
    ));
    assert!(e.starts_with("uk.csv:4:") && e.contains("Unique ID"), "{e}");
    // Without the report-date line, the date must be given.
    let body = full.split_once('\n').unwrap().1;
    assert!(err_of(uk::import_uk_sanctions(body, "uk.csv", None)).contains("--date"));
    assert_eq!(
        uk::import_uk_sanctions(body, "uk.csv", date("2026-11-28"))
            .unwrap()
            .entries
            .len(),
        3
    );
}

#[test]
fn malformed_jp_eul() {
    let e = err_of(jp_eul::import_jp_eul(
        "No.,Country,Name\n1,X,Y\n",
        "e.csv",
        date("2026-01-01"),
    ));
    assert_eq!(e, "e.csv: missing column `Company or Organization`");
    let e = err_of(jp_eul::import_jp_eul(
        "Revised: 2026-09-29\nNo.,Country or Region,Company or Organization\n1,X,\n",
        "e.csv",
        None,
    ));
    assert!(
        e.starts_with("e.csv:3:") && e.contains("Company or Organization"),
        "{e}"
    );
    // A title line without a readable date, and no --date.
    let e = err_of(jp_eul::import_jp_eul(
        "End User List (revised soon)\nNo.,Company or Organization\n1,X\n",
        "e.csv",
        None,
    ));
    assert!(e.starts_with("e.csv") && e.contains("--date"), "{e}");
}

#[test]
fn project_list_without_date_is_refused() {
    let e = err_of(RestrictedList::from_toml_str(
        "[meta]\nname = \"n\"\nsource = \"s\"\n[[entry]]\nlist = \"L\"\nname = \"X\"\ncitation = \"c\"\n",
        "l.toml",
    ));
    assert!(e.contains("l.toml") && e.contains("meta.published"), "{e}");
    let e = err_of(RestrictedList::from_toml_str(
        "[meta]\nname = \"n\"\nsource = \"s\"\npublished = \"2026-02-30\"\n",
        "l.toml",
    ));
    assert!(
        e.contains("meta.published") && e.contains("2026-02-30"),
        "{e}"
    );
}
