//! The rules as data (issue 13), one group of cases per rule, written from the instruments: each
//! side of every threshold and date, the jurisdiction, measure, review policy and authorisation
//! that decide. Cases go through the public API only (`default_engine`, `Engine::determine`).

mod common;
use chipwatch_controls::*;
use common::*;

fn verdict<'a>(d: &'a Determination, j: &str) -> &'a Verdict {
    find_verdict(d, j).unwrap_or_else(|| panic!("no {j} verdict in {:#?}", d.verdicts))
}

/// (outcome, measure id, review policy, authorisation) of jurisdiction `j`.
fn v(d: &Determination, j: &str) -> (&'static str, String, Option<&'static str>, String) {
    let x = verdict(d, j);
    (
        x.outcome.as_str(),
        x.measure_id.clone().unwrap_or_default(),
        x.review_policy.map(|p| p.as_str()),
        x.authorisation.clone().unwrap_or_default(),
    )
}

fn explains(d: &Determination, j: &str, needle: &str) -> bool {
    verdict(d, j).explanation.iter().any(|l| l.contains(needle))
}

/// Whether measure `id` is the version `version` on `date` (checks the dated data directly).
fn version_on(id: &str, date: &str) -> String {
    engine()
        .version_on(id, Date::parse(date).unwrap())
        .map(|m| m.version.clone())
        .unwrap_or_default()
}

// ---- US: Commerce Country Chart, CCL by ECCN -------------------------------------------------

#[test]
fn eccn_3b001_f_1_a_follows_column_ns2() {
    let at = |to: &str| q("USA", to, "2024-06-01").ps("eccn", "3B001.f.1.a").run();
    let d = at("CHN");
    assert_eq!(
        v(&d, "USA"),
        (
            "licence_required",
            "US-CCL-NS2".into(),
            Some("case_by_case"),
            String::new()
        )
    );
    // X in NS2 for Taiwan, Singapore, Malaysia, Vietnam, Israel, UAE, Saudi Arabia, Russia.
    for c in [
        "TWN", "SGP", "MYS", "VNM", "ISR", "ARE", "SAU", "MAC", "HKG",
    ] {
        assert_eq!(outcome(&at(c), "USA"), "licence_required", "{c}");
    }
    // No X in NS2 for the Wassenaar partners of A:1.
    for c in ["JPN", "KOR", "NLD", "DEU", "GBR", "CAN", "AUS"] {
        assert_eq!(outcome(&at(c), "USA"), "not_required", "{c}");
    }
    // India is left with an X (not verified): fail closed.
    assert_eq!(outcome(&at("IND"), "USA"), "licence_required");
    // The same scanner given by its parameters (EUV, 13.5 nm), exported from the US.
    let d = q("USA", "CHN", "2024-06-01")
        .p("wavelength_nm", 13.5)
        .p("numerical_aperture", 0.33)
        .run();
    assert_eq!(v(&d, "USA").1, "US-CCL-NS2");
    // 193 nm at NA 1.35 gives MRF(K=0.35) = 50.04 nm: not 3B001.f.1.b.1 by parameters.
    let d = q("USA", "TWN", "2020-06-01")
        .p("wavelength_nm", 193.0)
        .p("numerical_aperture", 1.35)
        .run();
    assert_eq!(outcome(&d, "USA"), "not_required");
    assert!(explains(&d, "USA", "mrf_k035_nm = 50.037"));
}

#[test]
fn ns1_ns2_and_at1_columns_by_eccn() {
    let at = |eccn: &str, to: &str| q("USA", to, "2024-06-01").ps("eccn", eccn).run();
    // NS1 (5A002, 3E001): every destination except Canada.
    assert_eq!(outcome(&at("5A002.a", "CAN"), "USA"), "not_required");
    let d = at("5A002.a", "JPN");
    assert_eq!(v(&d, "USA").1, "US-CCL-NS1");
    assert_eq!(outcome(&d, "USA"), "licence_required");
    // The verdict says where the model stops (License Exception ENC).
    assert!(explains(
        &d,
        "USA",
        "not modelled (gap): License exceptions"
    ));
    assert_eq!(outcome(&at("3E001", "KOR"), "USA"), "licence_required");
    // AT-only entries: Iran, North Korea, Syria only.
    assert_eq!(outcome(&at("5A992.c", "CHN"), "USA"), "not_required");
    let d = at("5A992.c", "IRN");
    assert_eq!(
        v(&d, "USA"),
        (
            "licence_required",
            "US-CCL-AT1".into(),
            Some("presumption_of_denial"),
            String::new()
        )
    );
    assert_eq!(outcome(&at("3A991.a", "PRK"), "USA"), "licence_required");
    // EAR99 is on no list.
    assert_eq!(outcome(&at("EAR99", "CHN"), "USA"), "not_required");
    // A foreign-made item with 30% US content re-exported from Japan: de minimis 25% reached.
    let d = q("JPN", "CHN", "2024-06-01")
        .ps("eccn", "3A001.a.2")
        .p("us_content_pct", 30.0)
        .run();
    assert_eq!(outcome(&d, "USA"), "licence_required");
    let d = q("JPN", "CHN", "2024-06-01")
        .ps("eccn", "3A001.a.2")
        .p("us_content_pct", 25.0)
        .run();
    // 25% does not exceed the 25% level (the 0% SME measure reaches it, but 3A001 is not
    // one of its items).
    assert_eq!(outcome(&d, "USA"), "not_required");
}

#[test]
fn russia_and_belarus_746_8_dates() {
    let at = |to: &str, date: &str| q("USA", to, date).ps("eccn", "3A001.a.2").run();
    let d = at("RUS", "2022-02-23");
    assert_eq!(v(&d, "USA").2, Some("case_by_case"));
    let d = at("RUS", "2022-02-24");
    assert_eq!(
        v(&d, "USA"),
        (
            "licence_required",
            "US-746.8".into(),
            Some("presumption_of_denial"),
            String::new()
        )
    );
    assert_eq!(v(&at("BLR", "2022-03-01"), "USA").2, Some("case_by_case"));
    assert_eq!(v(&at("BLR", "2022-03-02"), "USA").1, "US-746.8");
    // Categories 3-9 from 24 Feb 2022 (87 FR 12226); every CCL category from 8 Apr 2022
    // (87 FR 22130), so a Category 1 item changes on that date.
    let d = q("USA", "RUS", "2023-01-01").ps("eccn", "5A992.c").run();
    assert_eq!(v(&d, "USA").1, "US-746.8");
    let cat1 = |date: &str| q("USA", "RUS", date).ps("eccn", "1C350.d").run();
    assert_eq!(outcome(&cat1("2022-04-07"), "USA"), "not_required");
    assert_eq!(v(&cat1("2022-04-08"), "USA").1, "US-746.8");
    assert_eq!(
        version_on("US-746.8", "2022-04-08"),
        "2022-04 (87 FR 22130): every CCL category"
    );
}

// ---- US: Hong Kong as China, Macau by date ---------------------------------------------------

#[test]
fn hong_kong_is_china_from_23_december_2020() {
    let e = engine();
    let d = |s: &str| Date::parse(s).unwrap();
    for g in ["US-D1", "US-D4", "US-D5", "US-CN"] {
        assert!(!e.in_group(g, "HKG", d("2020-12-22")), "{g}");
        assert!(e.in_group(g, "HKG", d("2020-12-23")), "{g}");
    }
    // The 2022 advanced-computing rule named China: Hong Kong is part of it.
    let d = q("USA", "HKG", "2022-10-07").product("A100").run();
    assert_eq!(
        v(&d, "USA"),
        (
            "licence_required",
            "US-3A090".into(),
            Some("presumption_of_denial"),
            String::new()
        )
    );
    // 2023 rule: Hong Kong as D:5 (presumption of denial, no ACA).
    let d = q("USA", "HKG", "2024-01-01").product("H100").run();
    assert_eq!(v(&d, "USA").2, Some("presumption_of_denial"));
}

#[test]
fn macau_joins_the_advanced_computing_rules_on_17_january_2023() {
    let at = |date: &str| q("USA", "MAC", date).product("A100").run();
    let d = at("2023-01-16");
    assert_eq!(outcome(&d, "USA"), "not_required");
    let d = at("2023-01-17");
    assert_eq!(v(&d, "USA").1, "US-3A090");
    assert_eq!(v(&d, "USA").2, Some("presumption_of_denial"));
    // The same for the 2022 SME rule (3B090) and the 744.23 end-use rule.
    let d = q("USA", "MAC", "2023-01-16").ps("eccn", "3B090.a").run();
    assert_eq!(outcome(&d, "USA"), "not_required");
    let d = q("USA", "MAC", "2023-01-17").ps("eccn", "3B090.a").run();
    assert_eq!(v(&d, "USA").1, "US-SME");
    let d = q("USA", "MAC", "2023-01-16")
        .ps("eccn", "EAR99")
        .end_use("supercomputer")
        .run();
    assert_eq!(outcome(&d, "USA"), "not_required");
    let d = q("USA", "MAC", "2023-01-17")
        .ps("eccn", "EAR99")
        .end_use("supercomputer")
        .run();
    assert_eq!(v(&d, "USA").1, "US-744.23");
}

// ---- US: 3A090 by ECCN, NAC and ACA, the headquarters rule -----------------------------------

#[test]
fn nac_and_aca_as_740_8_defines_them() {
    // Non-datacenter 3A090 item to a D:1/D:4 destination: NAC without notification until
    // 3 April 2024, ACA from 4 April 2024 (89 FR 23876).
    let d = q("USA", "VNM", "2024-04-03").product("RTX 4090").run();
    assert_eq!(
        v(&d, "USA"),
        (
            "general_authorisation",
            "US-3A090".into(),
            None,
            "NAC".into()
        )
    );
    assert_eq!(
        version_on("US-3A090", "2024-04-03"),
        "2023-10 (88 FR 73458)"
    );
    let d = q("USA", "VNM", "2024-04-04").product("RTX 4090").run();
    assert_eq!(v(&d, "USA").3, "ACA");
    assert_eq!(
        version_on("US-3A090", "2024-04-04"),
        "2024-04 (89 FR 23876)"
    );
    // To D:5 / Macau: NAC with notification, on both sides of the split.
    for date in ["2023-11-17", "2024-04-04", "2025-06-01"] {
        for to in ["CHN", "MAC"] {
            let d = q("USA", to, date).product("RTX 4090").run();
            assert_eq!(
                v(&d, "USA"),
                (
                    "exception_with_notification",
                    "US-3A090".into(),
                    None,
                    "NAC".into()
                ),
                "{to} {date}"
            );
        }
    }
    // A datacenter item meeting 3A090.a: no exception.
    let d = q("USA", "VNM", "2024-06-01").product("H100").run();
    assert_eq!(v(&d, "USA").2, Some("presumption_of_approval"));
    let d = q("USA", "CHN", "2024-06-01").product("H100").run();
    assert_eq!(v(&d, "USA").2, Some("presumption_of_denial"));
    // A datacenter item in the 3A090.b band: NAC.
    let d = q("USA", "CHN", "2024-06-01")
        .p("tpp", 4000.0)
        .p("die_area_mm2", 1000.0)
        .pb("datacenter", true)
        .run();
    assert_eq!(v(&d, "USA").0, "exception_with_notification");
    // Before NAC existed (2022 rule): licence.
    let d = q("USA", "CHN", "2023-06-01").product("A100").run();
    assert_eq!(v(&d, "USA").2, Some("presumption_of_denial"));
}

#[test]
fn items_given_only_by_3a090_or_4a090() {
    let d = q("USA", "CHN", "2023-12-01").ps("eccn", "3A090.a").run();
    assert_eq!(v(&d, "USA").1, "US-3A090");
    assert_eq!(v(&d, "USA").2, Some("presumption_of_denial"));
    // Eligibility for NAC/ACA cannot be judged without the parameters: the licence stands.
    let d = q("USA", "VNM", "2024-06-01").ps("eccn", "4A090.a").run();
    assert_eq!(v(&d, "USA").2, Some("presumption_of_approval"));
    let d = q("USA", "CHN", "2024-06-01").ps("eccn", "5A992.z").run();
    assert_eq!(v(&d, "USA").1, "US-3A090");
    assert_eq!(
        outcome(
            &q("USA", "CHN", "2022-10-06").ps("eccn", "3A090.a").run(),
            "USA"
        ),
        "not_required"
    );
}

#[test]
fn d5_and_macau_headquarters_rule() {
    // Malaysia is in no D group: only the headquarters of the end user brings the licence.
    let d = q("USA", "MYS", "2024-06-01").product("H100").run();
    assert_eq!(outcome(&d, "USA"), "not_required");
    let d = q("USA", "MYS", "2024-06-01")
        .product("H100")
        .ps("end_user_hq", "CHN")
        .run();
    assert_eq!(v(&d, "USA").2, Some("presumption_of_denial"));
    assert!(explains(&d, "USA", "headquartered in Macau or D:5"));
    let d = q("USA", "MYS", "2024-06-01")
        .product("H100")
        .ps("end_user_hq", "MAC")
        .run();
    assert_eq!(outcome(&d, "USA"), "licence_required");
    let d = q("USA", "MYS", "2024-06-01")
        .product("H100")
        .ps("end_user_hq", "SGP")
        .run();
    assert_eq!(outcome(&d, "USA"), "not_required");
    // A NAC-eligible item for such an entity: NAC with notification.
    let d = q("USA", "MYS", "2024-06-01")
        .product("RTX 4090")
        .ps("end_user_hq", "CHN")
        .run();
    assert_eq!(v(&d, "USA").0, "exception_with_notification");
}

// ---- US: "is informed" letters, Entity List policy by node, 744.21 ---------------------------

#[test]
fn h20_is_informed_letter_is_dated_data() {
    let at = |to: &str, date: &str| q("USA", to, date).product("H20").run();
    assert_eq!(outcome(&at("CHN", "2025-04-08"), "USA"), "not_required");
    let d = at("CHN", "2025-04-09");
    assert_eq!(
        v(&d, "USA"),
        (
            "licence_required",
            "US-is-informed-H20".into(),
            Some("per_application"),
            String::new()
        )
    );
    assert!(explains(
        &d,
        "USA",
        "not modelled (gap): 'Combination thereof'"
    ));
    for c in ["HKG", "MAC", "RUS", "IRN"] {
        assert_eq!(
            outcome(&at(c, "2025-06-01"), "USA"),
            "licence_required",
            "{c}"
        );
    }
    for c in ["DEU", "JPN", "VNM", "IND"] {
        assert_eq!(outcome(&at(c, "2025-06-01"), "USA"), "not_required", "{c}");
    }
    // Any chip with the H20's memory bandwidth (4.0 TB/s), or its interconnect (900 GB/s).
    let chip = |mem: f64, io: f64| {
        q("USA", "CHN", "2025-06-01")
            .p("memory_bandwidth_gbps", mem)
            .p("bidirectional_io_gbps", io)
            .p("tpp", 1000.0)
            .run()
    };
    assert_eq!(outcome(&chip(4000.0, 100.0), "USA"), "licence_required");
    assert_eq!(outcome(&chip(100.0, 900.0), "USA"), "licence_required");
    assert_eq!(outcome(&chip(3999.0, 899.0), "USA"), "not_required");
}

#[test]
fn smic_review_policy_by_node() {
    let at = |adv: Option<bool>| {
        let mut x = q("USA", "CHN", "2024-06-01")
            .ps("eccn", "3B991.b")
            .end_user("SMIC");
        if let Some(a) = adv {
            x = x.pb("uniquely_required_for_10nm_or_below", a);
        }
        x.run()
    };
    assert_eq!(v(&at(Some(true)), "USA").2, Some("presumption_of_denial"));
    assert_eq!(v(&at(Some(false)), "USA").2, Some("case_by_case"));
    assert_eq!(v(&at(Some(false)), "USA").1, "US-EL");
    // Unknown: the entry's stricter policy, and the reader is told why.
    let d = at(None);
    assert_eq!(v(&d, "USA").2, Some("presumption_of_denial"));
    // Before the listing (18 Dec 2020) the entity rule does not apply.
    let d = q("USA", "CHN", "2020-12-17")
        .ps("eccn", "3B991.b")
        .pb("uniquely_required_for_10nm_or_below", false)
        .end_user("SMIC")
        .run();
    assert_eq!(outcome(&d, "USA"), "not_required");
    // The SMIC rules do not apply to other listed entities.
    let d = q("USA", "CHN", "2024-06-01")
        .ps("eccn", "3B991.b")
        .pb("uniquely_required_for_10nm_or_below", false)
        .end_user("YMTC")
        .run();
    assert_eq!(v(&d, "USA").2, Some("presumption_of_denial"));
}

#[test]
fn military_end_use_and_end_user_744_21() {
    let at = |to: &str, date: &str, use_: &str| {
        q("USA", to, date).ps("eccn", "3A991.a").end_use(use_).run()
    };
    assert_eq!(
        outcome(&at("CHN", "2007-06-18", "military"), "USA"),
        "not_required"
    );
    let d = at("CHN", "2007-06-19", "military");
    assert_eq!(
        v(&d, "USA"),
        (
            "licence_required",
            "US-744.21".into(),
            Some("presumption_of_denial"),
            String::new()
        )
    );
    assert_eq!(
        outcome(&at("RUS", "2020-06-28", "military"), "USA"),
        "not_required"
    );
    assert_eq!(
        outcome(&at("RUS", "2020-06-29", "military_end_user"), "USA"),
        "licence_required"
    );
    assert_eq!(
        outcome(&at("HKG", "2020-12-22", "military"), "USA"),
        "not_required"
    );
    assert_eq!(
        outcome(&at("HKG", "2020-12-23", "military"), "USA"),
        "licence_required"
    );
    // Civil end use: no 744.21 requirement.
    assert_eq!(
        outcome(&at("CHN", "2024-01-01", "civil"), "USA"),
        "not_required"
    );
}

// ---- EU: Annex I by entry, 1334/2000, the 2025 EU-only entries -------------------------------

#[test]
fn eu_annex_i_entries_by_eu_entry() {
    let at = |entry: &str, to: &str, date: &str| q("NLD", to, date).ps("eu_entry", entry).run();
    let d = at("3A001.a.2", "CHN", "2024-06-01");
    assert_eq!(
        v(&d, "EU"),
        (
            "licence_required",
            "EU-Annex-I".into(),
            Some("per_application"),
            String::new()
        )
    );
    assert_eq!(
        v(&at("3A001.a.2", "USA", "2024-06-01"), "EU"),
        (
            "general_authorisation",
            "EU-Annex-I".into(),
            None,
            "EU001".into()
        )
    );
    assert_eq!(
        outcome(&at("3A001.a.2", "KOR", "2024-06-01"), "EU"),
        "licence_required"
    );
    assert_eq!(
        outcome(&at("3A001.a.2", "TWN", "2024-06-01"), "EU"),
        "licence_required"
    );
    assert_eq!(
        outcome(&at("3A001.a.2", "DEU", "2024-06-01"), "EU"),
        "not_required"
    );
    for e in [
        "3B001.c", "3C002", "3D001", "3E001", "4A003.b", "5A002.a", "5D002",
    ] {
        assert_eq!(
            outcome(&at(e, "CHN", "2024-06-01"), "EU"),
            "licence_required",
            "{e}"
        );
    }
    // 5A004 (cryptanalytic, Annex IIg) is excluded from EU001.
    assert_eq!(
        outcome(&at("5A004.a", "USA", "2024-06-01"), "EU"),
        "licence_required"
    );
    // 3A090 is a US-only entry: not on the EU list.
    assert_eq!(
        outcome(&at("3A090.a", "CHN", "2024-06-01"), "EU"),
        "not_required"
    );
    // The UK: inside until 31 Dec 2020, EU001 from 1 Jan 2021.
    assert_eq!(
        outcome(&at("3A001.a.2", "GBR", "2020-12-31"), "EU"),
        "not_required"
    );
    assert_eq!(
        outcome(&at("3A001.a.2", "GBR", "2021-01-01"), "EU"),
        "general_authorisation"
    );
    // 3B001.f.1 given by entry is caught by the lithography measure too.
    let d = at("3B001.f.1.a", "CHN", "2024-06-01");
    assert!(explains(&d, "EU", "EU-3B001.f.1"));
}

#[test]
fn eu_regimes_by_date_1334_2000_428_2009_2021_821() {
    assert_eq!(
        version_on("EU-Annex-I", "2000-09-28"),
        "Reg. 1334/2000 Annex I"
    );
    assert_eq!(
        version_on("EU-Annex-I", "2009-08-26"),
        "Reg. 1334/2000 Annex I"
    );
    assert_eq!(
        version_on("EU-Annex-I", "2009-08-27"),
        "Reg. 428/2009 Annex I"
    );
    assert_eq!(
        version_on("EU-Annex-I", "2021-09-08"),
        "Reg. 428/2009 Annex I"
    );
    assert_eq!(
        version_on("EU-Annex-I", "2021-09-09"),
        "Reg. 2021/821 Annex I"
    );
    assert_eq!(
        version_on("EU-3B001.f.1", "2005-01-01"),
        "Reg. 1334/2000 Annex I"
    );
    // An EUV scanner in 2005: licence under 1334/2000; EU001 covered seven countries only.
    let euv = |to: &str, date: &str| {
        q("NLD", to, date)
            .p("wavelength_nm", 13.5)
            .p("numerical_aperture", 0.33)
            .run()
    };
    let d = euv("CHN", "2005-01-01");
    assert_eq!(outcome(&d, "EU"), "licence_required");
    assert_eq!(
        verdict(&d, "EU").version.as_deref(),
        Some("Reg. 1334/2000 Annex I")
    );
    assert_eq!(
        outcome(&euv("NOR", "2005-01-01"), "EU"),
        "general_authorisation"
    );
    assert_eq!(outcome(&euv("ISL", "2005-01-01"), "EU"), "licence_required");
    assert_eq!(
        outcome(&euv("ISL", "2021-09-09"), "EU"),
        "general_authorisation"
    );
    // Before 28 Sept 2000 (Reg. 3381/94): not modelled, and the verdict says so.
    let d = euv("CHN", "2000-09-27");
    assert!(explains(&d, "EU", "enters into force on 2000-09-28"));
    // A 193 nm scanner given only by parameters in 2005: the .b threshold of that Annex I is
    // not encoded, so chipwatch cannot decide it (never "not caught").
    let d = q("NLD", "CHN", "2005-01-01")
        .p("wavelength_nm", 193.0)
        .p("numerical_aperture", 1.35)
        .run();
    assert!(explains(&d, "EU", "cannot decide"));
    let d = q("NLD", "CHN", "2005-01-01")
        .ps("eu_entry", "3B001.f.1.b")
        .run();
    assert_eq!(outcome(&d, "EU"), "licence_required");
}

#[test]
fn eu_only_2025_entries_from_15_november_2025() {
    for entry in ["3A501.a.16", "4A507", "3B501.a", "3D501", "3E501"] {
        let d = q("NLD", "CHN", "2025-11-14").ps("eu_entry", entry).run();
        assert_eq!(outcome(&d, "EU"), "not_required", "{entry}");
        assert!(
            explains(&d, "EU", "enters into force on 2025-11-15"),
            "{entry}"
        );
        let d = q("NLD", "CHN", "2025-11-15").ps("eu_entry", entry).run();
        assert_eq!(
            v(&d, "EU"),
            (
                "licence_required",
                "EU-Annex-I-5xx".into(),
                Some("per_application"),
                String::new()
            ),
            "{entry}"
        );
        let d = q("NLD", "JPN", "2025-11-15").ps("eu_entry", entry).run();
        assert_eq!(v(&d, "EU").3, "EU001", "{entry}");
        let d = q("NLD", "BEL", "2025-11-15").ps("eu_entry", entry).run();
        assert_eq!(outcome(&d, "EU"), "not_required", "{entry}");
    }
    // 3B501.f.1.b given by entry: the lithography measure catches it as well.
    let d = q("NLD", "KOR", "2025-11-15")
        .ps("eu_entry", "3B501.f.1.b")
        .run();
    assert!(explains(&d, "EU", "EU-3B501.f.1.b"));
}

// ---- Japan -----------------------------------------------------------------------------------

#[test]
fn japan_general_bulk_licences_by_destination() {
    let hf = |to: &str, date: &str| q("JPN", to, date).ps("material", "hydrogen_fluoride").run();
    let gbl = "general bulk export licence (一般包括許可)";
    assert_eq!(
        v(&hf("USA", "2018-01-01"), "JPN"),
        (
            "general_authorisation",
            "JP-FEFTA-materials".into(),
            None,
            gbl.into()
        )
    );
    assert_eq!(v(&hf("CHN", "2018-01-01"), "JPN").0, "licence_required");
    // Korea out of Group A from 28 Aug 2019: still the Korea-specific rule until 22 Mar 2023.
    assert!(explains(&hf("KOR", "2019-08-28"), "JPN", "no bulk licence"));
    let sme = |to: &str| {
        q("JPN", to, "2023-07-23")
            .p("wavelength_nm", 13.5)
            .p("numerical_aperture", 0.33)
            .run()
    };
    assert_eq!(v(&sme("SGP"), "JPN").3, gbl);
    assert_eq!(v(&sme("CHN"), "JPN").2, Some("per_application"));
    // Not among the verified 42: individual licence (fail closed).
    assert_eq!(v(&sme("IND"), "JPN").0, "licence_required");
}

// ---- China -----------------------------------------------------------------------------------

#[test]
fn announcement_46_clause_2_covers_every_ga_ge_sb_superhard_item() {
    for m in [
        "gallium_phosphide",
        "gallium_antimonide",
        "zone_refined_germanium",
        "germanium_tetrachloride",
        "indium_antimonide",
        "antimony_hydride",
        "hexahedral_press",
    ] {
        let d = q("CHN", "USA", "2025-01-01").ps("material", m).run();
        assert_eq!(v(&d, "CHN").0, "prohibited", "{m}");
        assert_eq!(v(&d, "CHN").1, "CN-2024-46", "{m}");
        // To other destinations: the licence of the list.
        let d = q("CHN", "DEU", "2025-01-01").ps("material", m).run();
        assert_eq!(v(&d, "CHN").0, "licence_required", "{m}");
    }
    // Indium antimonide was listed from 15 Sept 2024 (Ann. 33), not before.
    let d = q("CHN", "DEU", "2024-09-14")
        .ps("material", "indium_antimonide")
        .run();
    assert_eq!(v(&d, "CHN").0, "not_required");
}

#[test]
fn consolidated_dual_use_list_is_the_legal_basis_from_1_december_2024() {
    for id in [
        "CN-2023-23-gallium-germanium",
        "CN-2023-39-graphite",
        "CN-2024-33-antimony",
    ] {
        assert_ne!(
            version_on(id, "2024-11-30"),
            "2024-12 (consolidated Dual-Use Items Export Control List)",
            "{id}"
        );
        assert_eq!(
            version_on(id, "2024-12-01"),
            "2024-12 (consolidated Dual-Use Items Export Control List)",
            "{id}"
        );
    }
    let d = q("CHN", "DEU", "2024-12-01").product("gallium").run();
    let x = verdict(&d, "CHN");
    assert!(x
        .citation
        .as_deref()
        .is_some_and(|c| c.contains("No. 51 of 2024")));
    assert!(x
        .instrument
        .as_deref()
        .is_some_and(|c| c.contains("Decree No. 792")));
}

// ---- Citations and the catalogue --------------------------------------------------------------

#[test]
fn citations_carry_the_verified_numbers() {
    let e = engine();
    let cite = |id: &str, date: &str| {
        e.version_on(id, Date::parse(date).unwrap())
            .map(|m| m.citation.clone())
            .unwrap_or_default()
    };
    assert!(cite("NL-semiconductor-equipment", "2023-09-01").contains("Staatscourant 2023, 18212"));
    assert!(cite("NL-semiconductor-equipment", "2023-09-01").contains("23 juni 2023"));
    assert!(cite("NL-semiconductor-equipment", "2024-09-07").contains("6 September 2024"));
    assert!(cite("NL-semiconductor-equipment", "2025-04-01").contains("15 January 2025"));
    assert!(cite("EU-3B501.f.1.b", "2025-11-15").contains("2025/2003"));
    assert!(cite("US-3A090", "2023-01-17").contains("87 FR 62186"));
    assert!(cite("US-3A090", "2024-04-04").contains("89 FR 23876"));
    assert!(cite("CN-2024-33-antimony", "2024-09-15").contains("15 August 2024"));
    assert!(cite("CN-2024-46", "2025-01-01").contains("No. 72 of 2025"));
    // Every shipped measure version has a citation and every gap is a sentence.
    for m in e.measures() {
        assert!(!m.citation.trim().is_empty(), "{}", m.id);
        assert!(m.gaps.iter().all(|g| g.len() > 20), "{}", m.id);
    }
}

#[test]
fn catalogue_names_and_aliases_people_use() {
    let c = engine().catalogue();
    for (query, name) in [
        ("TWINSCAN NXT:2000i", "ASML TWINSCAN NXT:2000i"),
        ("NXT 2100i", "ASML TWINSCAN NXT:2100i"),
        ("NXT:1980Di", "ASML TWINSCAN NXT:1980i"),
        ("HGX H20", "Nvidia H20"),
        ("H20", "Nvidia H20"),
        ("H200", "Nvidia H200 SXM"),
        ("A100 SXM4", "Nvidia A100 SXM"),
        ("GeForce RTX 4090", "Nvidia GeForce RTX 4090"),
        ("金属镓", "Gallium (unwrought)"),
        ("フッ化水素", "High-purity hydrogen fluoride"),
    ] {
        assert_eq!(c.find(query).unwrap().name, name, "{query}");
    }
    // Entries carried where they are stable.
    let euv = c.find("NXE:3800E").unwrap();
    assert_eq!(
        euv.parameters.get("eu_entry"),
        Some(&Value::Str("3B001.f.1.a".into()))
    );
    assert!(!c.find("NXT:2000i").unwrap().parameters.contains_key("eccn"));
}
