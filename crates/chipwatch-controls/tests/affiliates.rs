//! The BIS affiliates rule from ownership data: direct, aggregated and chained ownership,
//! the most restrictive owner, the rule's dates (in force 29 Sept 2025, suspended 10 Nov 2025 to
//! 9 Nov 2026), screening every party of a shipment, and malformed ownership files.

use chipwatch_controls::screening::DEFAULT_THRESHOLD;
use chipwatch_controls::*;
use std::collections::BTreeMap;

fn fixture(name: &str) -> String {
    let p = format!("{}/tests/fixtures/lists/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn screener_with(lists: Vec<RestrictedList>, ownership: &str) -> Screener {
    let data = OwnershipData::from_csv_str(ownership, "ownership.csv").unwrap();
    Screener::new(default_normaliser(), lists)
        .with_ownership(&data, &default_affiliates_rule().unwrap())
}

fn screener() -> Screener {
    screener_with(vec![default_list().unwrap()], &fixture("ownership.csv"))
}

fn affiliate(s: &Screener, q: &str) -> Hit {
    let hits = s.screen(q, DEFAULT_THRESHOLD);
    let h = hits
        .first()
        .unwrap_or_else(|| panic!("no hit for `{q}`"))
        .clone();
    assert!(
        h.affiliate_of.is_some(),
        "`{q}` matched {} directly",
        h.entry_name
    );
    h
}

#[test]
fn direct_majority_owner() {
    let s = screener();
    let h = affiliate(&s, "Example Holding Ltd");
    let a = h.affiliate_of.as_ref().unwrap();
    assert_eq!(a.owner_entry, "Huawei Technologies Co., Ltd.");
    assert_eq!(a.owner_list, "US-EL");
    assert_eq!(a.total_percent, 60.0);
    assert_eq!(a.chain.len(), 1);
    assert_eq!(a.chain[0].line, 2);
    // The owner's entry decides list, requirement and review policy.
    assert_eq!(h.list, "US-EL");
    assert_eq!(h.review_policy, Some(ReviewPolicy::PresumptionOfDenial));
    assert!(h.citation.contains("90 FR 47201") && h.citation.contains("84 FR 22961"));
    // Listed only once the rule took effect (the owner was listed in 2019).
    assert_eq!(h.listed_on.as_deref(), Some("2025-09-29"));
    assert!(h.list_info.partial, "the owner's list provenance");
    let json = serde_json::to_value(&h).unwrap();
    assert_eq!(json["affiliate_of"]["rule"]["in_force_from"], "2025-09-29");
    assert_eq!(json["affiliate_of"]["chain"][0]["percent"], 60.0);
}

#[test]
fn chains_count_a_covered_owner_with_its_whole_stake() {
    let s = screener();
    let h = affiliate(&s, "Example Subsidiary GmbH");
    let a = h.affiliate_of.as_ref().unwrap();
    // Huawei -> 60% Example Holding -> 50% Example Subsidiary: covered (not 30%).
    assert_eq!(a.total_percent, 50.0);
    let chain: Vec<(&str, &str)> = a
        .chain
        .iter()
        .map(|l| (l.owner.as_str(), l.owned.as_str()))
        .collect();
    assert_eq!(
        chain,
        [
            ("Huawei Technologies Co., Ltd.", "Example Holding Ltd."),
            ("Example Holding Ltd.", "Example Subsidiary GmbH")
        ]
    );
    assert_eq!(a.owner_entry, "Huawei Technologies Co., Ltd.");
}

#[test]
fn minority_stakes_add_up() {
    let s = screener();
    let h = affiliate(&s, "Joint Venture Alpha");
    let a = h.affiliate_of.as_ref().unwrap();
    assert_eq!(a.total_percent, 55.0);
    assert_eq!(a.stakes.len(), 2);
    // Below the threshold, or owned by an unlisted party: no hit.
    assert!(s
        .screen("Minority Partner Inc.", DEFAULT_THRESHOLD)
        .is_empty());
    assert!(s.screen("Acme Widgets", DEFAULT_THRESHOLD).is_empty());
}

#[test]
fn most_restrictive_owner_decides() {
    let csl = csl::import_csl(&fixture("csl.csv"), "csl.csv", Some(d("2026-11-30"))).unwrap();
    let own = "owner,owned,percent,source,date\n\
               Example Aero Institute,Shared Workshop Ltd,30,t,2026-10-01\n\
               Huawei Technologies,Shared Workshop Ltd,20,t,2026-10-01\n\
               Example Aero Institute,Aero Parts Ltd,50,t,2026-10-01\n";
    let s = screener_with(vec![default_list().unwrap(), csl], own);
    let h = affiliate(&s, "Shared Workshop Ltd");
    assert_eq!(h.review_policy, Some(ReviewPolicy::PresumptionOfDenial));
    assert_eq!(h.affiliate_of.as_ref().unwrap().owner_list, "US-EL");
    let h = affiliate(&s, "Aero Parts Ltd");
    assert_eq!(h.list, "US-MEU");
    assert_eq!(h.review_policy, Some(ReviewPolicy::CaseByCase));
    assert_eq!(h.list_info.file, "csl.csv");
}

#[test]
fn a_later_covered_owner_adds_to_an_earlier_coverage() {
    // Row order puts the JV first: it is covered by the MEU owner alone (50%, case-by-case);
    // Holding Beta becomes covered (by Huawei, presumption of denial) only after, and then adds
    // its 30% and its stricter policy to the JV.
    let csl = csl::import_csl(&fixture("csl.csv"), "csl.csv", Some(d("2026-11-30"))).unwrap();
    let own = "owner,owned,percent,source,date\n\
               Example Aero Institute,Late JV Ltd,50,t,2026-10-01\n\
               Holding Beta Ltd,Late JV Ltd,30,t,2026-10-01\n\
               Huawei Technologies,Holding Beta Ltd,70,t,2026-10-01\n";
    let s = screener_with(vec![default_list().unwrap(), csl], own);
    let h = affiliate(&s, "Late JV Ltd");
    let a = h.affiliate_of.as_ref().unwrap();
    assert_eq!(a.total_percent, 80.0);
    assert_eq!(h.review_policy, Some(ReviewPolicy::PresumptionOfDenial));
    assert_eq!(a.chain.len(), 2);
    assert_eq!(a.chain[0].owner, "Huawei Technologies");
}

#[test]
fn owners_on_other_lists_do_not_pass_the_rule_on() {
    // An SDN owner (the rule's 744.8 programmes are not encoded) covers nothing here.
    let csl = csl::import_csl(&fixture("csl.csv"), "csl.csv", Some(d("2026-11-30"))).unwrap();
    let own =
        "owner,owned,percent,source,date\nExample Trading LLC,Trading Sub Ltd,100,t,2026-10-01\n";
    let s = screener_with(vec![csl], own);
    assert!(s.screen("Trading Sub Ltd", DEFAULT_THRESHOLD).is_empty());
}

#[test]
fn cycles_terminate() {
    let own = "owner,owned,percent,source,date\n\
               Loop A Ltd,Loop B Ltd,60,t,2026-10-01\n\
               Loop B Ltd,Loop A Ltd,60,t,2026-10-01\n\
               Huawei Technologies,Loop C Ltd,50,t,2026-10-01\n\
               Loop C Ltd,Loop D Ltd,50,t,2026-10-01\n\
               Loop D Ltd,Loop C Ltd,50,t,2026-10-01\n";
    let s = screener_with(vec![default_list().unwrap()], own);
    assert!(s.screen("Loop A Ltd", DEFAULT_THRESHOLD).is_empty());
    assert!(s.screen("Loop B Ltd", DEFAULT_THRESHOLD).is_empty());
    assert_eq!(
        affiliate(&s, "Loop D Ltd")
            .affiliate_of
            .unwrap()
            .chain
            .len(),
        2
    );
}

#[test]
fn deep_chains_in_any_order() {
    // 1,500 levels, written bottom-up (the worst order for passes over the file).
    let mut own = String::from("owner,owned,percent,source,date\n");
    for i in (1..1500).rev() {
        own.push_str(&format!(
            "Chain Level {} Ltd,Chain Level {i} Ltd,100,t,2026-10-01\n",
            i - 1
        ));
    }
    own = own.replace("Chain Level 0 Ltd", "Huawei Technologies");
    let t = std::time::Instant::now();
    let s = screener_with(vec![default_list().unwrap()], &own);
    let h = affiliate(&s, "Chain Level 1499 Ltd");
    assert_eq!(h.affiliate_of.unwrap().chain.len(), 1499);
    assert!(t.elapsed().as_secs() < 30, "{:?}", t.elapsed());
}

#[test]
fn listed_entities_keep_their_own_entry() {
    let own = "owner,owned,percent,source,date\nHuawei Technologies,HiSilicon Technologies Co. Ltd.,100,t,2026-10-01\n";
    let s = screener_with(vec![default_list().unwrap()], own);
    let hits = s.screen("HiSilicon Technologies", DEFAULT_THRESHOLD);
    assert_eq!(hits.len(), 1);
    assert!(hits[0].affiliate_of.is_none());
}

#[test]
fn the_rule_applies_only_while_in_force() {
    let s = screener();
    let h = affiliate(&s, "Example Holding Ltd.");
    for (day, applies) in [
        ("2025-09-28", false),
        ("2025-10-15", true),
        ("2025-11-10", false),
        ("2026-06-01", false),
        ("2026-11-09", false),
        ("2026-11-10", true),
        ("2026-12-03", true),
    ] {
        assert_eq!(h.applies_on(d(day)), applies, "{day}");
        assert_eq!(
            !s.screen_on("Example Holding Ltd.", DEFAULT_THRESHOLD, d(day))
                .is_empty(),
            applies,
            "{day}"
        );
    }
    // Directly listed entities are not affected by the rule's suspension.
    let smic = &s.screen_on("SMIC", DEFAULT_THRESHOLD, d("2026-06-01"))[0];
    assert!(smic.applies_on(d("2026-06-01")));
    assert!(!smic.applies_on(d("2020-01-01")), "listed 2020-12-18");
}

#[test]
fn the_engine_sees_affiliates() {
    let mut e = default_engine().unwrap();
    e.set_screener(screener());
    let s = Shipment {
        product: Some("NXT:2000i".into()),
        params: BTreeMap::new(),
        from: "NLD".into(),
        to: "CHN".into(),
        origin: None,
        end_user: Some("Example Subsidiary GmbH".into()),
        end_use: None,
        date: d("2026-12-03"),
        parties: Vec::new(),
    };
    let det = e.determine(&s).unwrap();
    let h = &det.end_user_screening[0];
    assert!(h.affiliate_of.is_some());
    assert_eq!(h.list, "US-EL");
}

#[test]
fn lists_include_the_ownership_data() {
    let s = screener();
    let infos = s.lists();
    assert_eq!(infos.len(), 2);
    let o = &infos[1];
    assert_eq!(o.file, "ownership.csv");
    assert_eq!(o.rows, Some(6));
    assert_eq!(o.entries, 3);
    assert_eq!(o.published, Some(d("2026-10-01")));
}

#[test]
fn every_party_of_a_shipment() {
    let s = screener();
    let parties = [
        Party {
            role: PartyRole::Exporter,
            name: "ASML Netherlands B.V.".into(),
        },
        Party {
            role: PartyRole::IntermediateConsignee,
            name: "Example Holding Ltd.".into(),
        },
        Party {
            role: PartyRole::Consignee,
            name: "Semiconductor Manufacturing International Corp".into(),
        },
        Party {
            role: PartyRole::EndUser,
            name: "Example Holding Ltd.".into(),
        },
        Party {
            role: PartyRole::Purchaser,
            name: "".into(),
        },
    ];
    let r = s.screen_parties(&parties, DEFAULT_THRESHOLD, Some(d("2026-06-01")));
    assert_eq!(r.len(), 5);
    assert!(r[0].hits.is_empty());
    // Suspended on that date: the affiliate does not hit.
    assert!(r[1].hits.is_empty());
    assert_eq!(r[2].role, PartyRole::Consignee);
    assert_eq!(r[2].hits[0].list, "US-EL");
    assert!(r[4].hits.is_empty());
    let r = s.screen_parties(&parties, DEFAULT_THRESHOLD, Some(d("2026-12-03")));
    assert_eq!(r[1].role, PartyRole::IntermediateConsignee);
    assert!(r[1].hits[0].affiliate_of.is_some());
    assert_eq!(r[1].hits, r[3].hits);
    let json = serde_json::to_value(&r[3]).unwrap();
    assert_eq!(json["role"], "end_user");
}

fn own_err(text: &str) -> String {
    OwnershipData::from_csv_str(text, "own.csv")
        .unwrap_err()
        .to_string()
}

#[test]
fn malformed_ownership_files() {
    const H: &str = "owner,owned,percent,source,date\n";
    let e = own_err("owner,owned,percent,date\nA,B,50,2026-01-01\n");
    assert_eq!(e, "own.csv: missing column `source`");
    for (row, field) in [
        ("A,B,abc,s,2026-01-01", "percent"),
        ("A,B,150,s,2026-01-01", "percent"),
        ("A,B,0,s,2026-01-01", "percent"),
        ("A,B,-5,s,2026-01-01", "percent"),
        ("A,B,NaN,s,2026-01-01", "percent"),
        ("A,B,50,s,01/01/2026", "date"),
        ("A,B,50,s,2026-02-30", "date"),
        (",B,50,s,2026-01-01", "owner"),
        ("A,B,50,,2026-01-01", "source"),
    ] {
        let e = own_err(&format!("{H}X,Y,10,s,2026-01-01\n{row}\n"));
        assert!(
            e.starts_with("own.csv:3:") && e.contains(&format!("field `{field}`")),
            "{row}: {e}"
        );
    }
    let e = own_err(&format!("{H}A,B,30,s,2026-01-01\na,b,20,s,2026-01-01\n"));
    assert!(e.contains("lines 2 and 3"), "{e}");
    let e = own_err(&format!("{H}A,C,60,s,2026-01-01\nB,C,50,s,2026-01-01\n"));
    assert!(
        e.contains("own.csv") && e.contains("110") && e.contains("[2, 3]"),
        "{e}"
    );
    // A BOM, spaces and a percent sign are fine.
    let ok = OwnershipData::from_csv_str(
        &format!("\u{feff}{H} A , B , 50 % , s , 2026-01-01 \n"),
        "own.csv",
    )
    .unwrap();
    assert_eq!(ok.links[0].percent, 50.0);
    assert_eq!(ok.links[0].owner, "A");
}

#[test]
fn malformed_rule_files() {
    let base = chipwatch_controls::EMBEDDED_AFFILIATES_RULE.1;
    let e = AffiliatesRule::from_toml_str(
        &base.replace("threshold_percent = 50.0", "threshold_percent = 150.0"),
        "r.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("r.toml") && e.contains("threshold_percent"),
        "{e}"
    );
    let e = AffiliatesRule::from_toml_str(
        &base.replace("until = \"2026-11-09\"", "until = \"2024-11-09\""),
        "r.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("suspension[0].until"), "{e}");
}
