//! Determination cases written from the instruments: each side of every threshold, each date
//! boundary (before entry into force, in force, after replacement, during suspension), intra-EU
//! vs extra-EU, allied vs non-allied, listed vs unlisted end users, catalogue products.

mod common;
use chipwatch_controls::*;
use common::*;

fn verdict<'a>(d: &'a Determination, j: &str) -> Option<&'a Verdict> {
    find_verdict(d, j)
}

fn policy(d: &Determination, j: &str) -> Option<ReviewPolicy> {
    verdict(d, j).and_then(|v| v.review_policy)
}

fn explains(d: &Determination, j: &str, needle: &str) -> bool {
    verdict(d, j).is_some_and(|v| v.explanation.iter().any(|l| l.contains(needle)))
}

const TODAY: &str = "2026-11-21";

// ---- EU Annex I 3B001.f.1 ------------------------------------------------------------------

#[test]
fn arf_immersion_mrf_reference_values() {
    let d = q("NLD", "CHN", TODAY)
        .p("wavelength_nm", 193.0)
        .p("numerical_aperture", 1.35)
        .run();
    let k035 = d.item.derived["mrf_k035_nm"];
    let k025 = d.item.derived["mrf_k025_nm"];
    assert!((k035 - 50.04).abs() < 0.01, "{k035}");
    assert!((k025 - 35.74).abs() < 0.01, "{k025}");
    // Not caught by 3B001.f.1.b (50 nm > 45 nm) ...
    assert!(explains(&d, "EU", "mrf_k035_nm = 50.037"));
    assert!(explains(&d, "EU", "item not caught"));
    // ... and 3B501 needs the overlay, which was not given: the EU verdict is undetermined,
    // naming the value that would decide (it used to read "not_required": fail closed).
    assert!(explains(&d, "EU", "cannot decide"));
    assert_eq!(outcome(&d, "EU"), "undetermined");
    let eu = verdict(&d, "EU").unwrap();
    assert_eq!(eu.missing_parameters, vec!["dedicated_chuck_overlay_nm"]);
    assert_eq!(eu.measure_id, None);
    assert!(d.overall.undetermined.contains(&"EU".to_string()));
}

#[test]
fn arf_immersion_with_overlay_sides_of_3b501() {
    let base = || {
        q("NLD", "CHN", TODAY)
            .p("wavelength_nm", 193.0)
            .p("numerical_aperture", 1.35)
    };
    let d = base().p("dedicated_chuck_overlay_nm", 1.5).run();
    assert_eq!(outcome(&d, "EU"), "licence_required");
    assert_eq!(
        verdict(&d, "EU").unwrap().measure_id.as_deref(),
        Some("EU-3B501.f.1.b")
    );
    let d = base().p("dedicated_chuck_overlay_nm", 1.51).run();
    assert_eq!(outcome(&d, "EU"), "not_required");
    // NA 1.07 gives MRF(0.25) = 45.09 nm: just outside; NA 1.08 gives 44.68 nm: inside.
    let d = q("NLD", "CHN", TODAY)
        .p("wavelength_nm", 193.0)
        .p("numerical_aperture", 1.07)
        .p("dedicated_chuck_overlay_nm", 1.0)
        .run();
    assert_eq!(outcome(&d, "EU"), "not_required");
    let d = q("NLD", "CHN", TODAY)
        .p("wavelength_nm", 193.0)
        .p("numerical_aperture", 1.08)
        .p("dedicated_chuck_overlay_nm", 1.0)
        .run();
    assert_eq!(outcome(&d, "EU"), "licence_required");
}

#[test]
fn mrf_k035_threshold_sides() {
    // 193 x 0.35 / NA <= 45  <=>  NA >= 1.5011
    let at = |na: f64| {
        q("DEU", "CHN", TODAY)
            .p("wavelength_nm", 193.0)
            .p("numerical_aperture", na)
            .p("dedicated_chuck_overlay_nm", 5.0)
            .run()
    };
    assert_eq!(outcome(&at(1.50), "EU"), "not_required");
    let d = at(1.51);
    assert_eq!(outcome(&d, "EU"), "licence_required");
    assert_eq!(
        verdict(&d, "EU").unwrap().measure_id.as_deref(),
        Some("EU-3B001.f.1")
    );
}

#[test]
fn euv_is_3b001_f_1_a_everywhere_outside_the_eu() {
    let d = q("NLD", "CHN", TODAY).p("wavelength_nm", 13.5).run();
    assert_eq!(outcome(&d, "EU"), "licence_required");
    assert!(explains(
        &d,
        "EU",
        "3B001.f.1.a: wavelength_nm = 13.5 < 193: met"
    ));
    // Wavelength just below / at 193 nm.
    let d = q("NLD", "CHN", TODAY).p("wavelength_nm", 192.9).run();
    assert_eq!(outcome(&d, "EU"), "licence_required");
    let d = q("NLD", "CHN", TODAY)
        .p("wavelength_nm", 193.0)
        .p("numerical_aperture", 0.93)
        .run();
    assert_eq!(outcome(&d, "EU"), "not_required");
}

#[test]
fn eu001_covers_the_listed_allies_only() {
    for c in [
        "AUS", "CAN", "ISL", "JPN", "NZL", "NOR", "CHE", "LIE", "GBR", "USA",
    ] {
        let d = q("NLD", c, TODAY).product("NXE:3800E").run();
        assert_eq!(outcome(&d, "EU"), "general_authorisation", "{c}");
        assert_eq!(
            verdict(&d, "EU").unwrap().authorisation.as_deref(),
            Some("EU001")
        );
    }
    for c in ["KOR", "TWN", "CHN", "SGP", "ISR"] {
        let d = q("NLD", c, TODAY).product("NXE:3800E").run();
        assert_eq!(outcome(&d, "EU"), "licence_required", "{c}");
    }
}

#[test]
fn intra_eu_needs_no_annex_i_licence() {
    for c in ["DEU", "FRA", "IRL", "HRV"] {
        let d = q("NLD", c, TODAY).product("NXE:3800E").run();
        assert_eq!(outcome(&d, "EU"), "not_required", "{c}");
        assert_eq!(outcome(&d, "NLD"), "not_required", "{c}");
        assert!(explains(&d, "EU", "intra-EU transfer"));
    }
    // The UK was in the customs territory until the end of the transition period.
    let d = q("NLD", "GBR", "2020-12-31").product("NXE:3800E").run();
    assert_eq!(outcome(&d, "EU"), "not_required");
    let d = q("NLD", "GBR", "2021-01-01").product("NXE:3800E").run();
    assert_eq!(outcome(&d, "EU"), "general_authorisation");
    assert_eq!(
        verdict(&d, "EU").unwrap().version.as_deref(),
        Some("Reg. 428/2009 Annex I")
    );
    // After the recast the 2021/821 version applies; the old one is reported as replaced.
    let d = q("NLD", "KOR", "2021-09-08").product("NXE:3800E").run();
    assert!(explains(
        &d,
        "EU",
        "replaced by version Reg. 2021/821 Annex I from 2021-09-09"
    ));
    let d = q("NLD", "KOR", "2021-09-09").product("NXE:3800E").run();
    assert_eq!(
        verdict(&d, "EU").unwrap().version.as_deref(),
        Some("Reg. 2021/821 Annex I")
    );
}

#[test]
fn eu_reaches_every_member_state_exporter() {
    let d = q("DEU", "CHN", TODAY).product("NXE:3800E").run();
    assert_eq!(outcome(&d, "EU"), "licence_required");
    // NLD appears as the origin country, but its rule reaches exports from NLD only.
    assert_eq!(outcome(&d, "NLD"), "not_required");
    assert!(explains(&d, "NLD", "do not reach"));
    let d = q("KOR", "CHN", TODAY).product("NXE:3800E").run();
    assert_eq!(outcome(&d, "EU"), "absent");
}

// ---- EU 3B501 dates ------------------------------------------------------------------------

#[test]
fn eu_3b501_entry_into_force() {
    let d = q("NLD", "CHN", "2025-11-14").product("NXT:2000i").run();
    assert_eq!(outcome(&d, "EU"), "not_required");
    assert!(explains(&d, "EU", "not yet in force on 2025-11-14"));
    let d = q("NLD", "CHN", "2025-11-15").product("NXT:2000i").run();
    assert_eq!(outcome(&d, "EU"), "licence_required");
    let d = q("NLD", "JPN", "2025-11-15").product("NXT:2000i").run();
    assert_eq!(outcome(&d, "EU"), "general_authorisation");
}

// ---- Netherlands 2023 / 2024 / 2025 --------------------------------------------------------

#[test]
fn dutch_rule_dates_and_versions() {
    let d = q("NLD", "CHN", "2023-08-31").product("NXT:2000i").run();
    assert_eq!(outcome(&d, "NLD"), "not_required");
    assert!(explains(&d, "NLD", "not yet in force on 2023-08-31"));
    let d = q("NLD", "CHN", "2023-09-01").product("NXT:2000i").run();
    assert_eq!(outcome(&d, "NLD"), "licence_required");
    assert_eq!(
        verdict(&d, "NLD").unwrap().version.as_deref(),
        Some("2023 (Stcrt. 2023, 18212)")
    );
    assert!(explains(
        &d,
        "NLD",
        "replaced by version 2024 amendment from 2024-09-07"
    ));
    assert!(explains(&d, "NLD", "grandfathering"));
    // The 1980i (overlay 1.6 nm) is outside the 2023 rule, inside the 2024 amendment.
    let d = q("NLD", "CHN", "2024-09-06").product("NXT:1980i").run();
    assert_eq!(outcome(&d, "NLD"), "not_required");
    assert!(explains(
        &d,
        "NLD",
        "dedicated_chuck_overlay_nm = 1.6 <= 1.5: not met"
    ));
    let d = q("NLD", "CHN", "2024-09-07").product("NXT:1980i").run();
    assert_eq!(outcome(&d, "NLD"), "licence_required");
    // Country-neutral: every destination outside the EU, allies included.
    let d = q("NLD", "USA", TODAY).product("NXT:1970i").run();
    assert_eq!(outcome(&d, "NLD"), "licence_required");
    let d = q("NLD", "BEL", TODAY).product("NXT:2100i").run();
    assert_eq!(outcome(&d, "NLD"), "not_required");
    // Dry ArF and KrF scanners are never caught.
    for p in ["NXT:1470", "NXT:870"] {
        let d = q("NLD", "CHN", TODAY).product(p).run();
        assert_eq!(outcome(&d, "NLD"), "not_required", "{p}");
        assert_eq!(outcome(&d, "EU"), "not_required", "{p}");
    }
    // 2025 amendment: metrology.
    let d = q("NLD", "CHN", "2025-03-31")
        .ps("equipment_type", "metrology_advanced")
        .run();
    assert_eq!(outcome(&d, "NLD"), "not_required");
    let d = q("NLD", "CHN", "2025-04-01")
        .ps("equipment_type", "metrology_advanced")
        .run();
    assert_eq!(outcome(&d, "NLD"), "licence_required");
}

// ---- US 3A090 --------------------------------------------------------------------------------

#[test]
fn us_3a090_versions_by_date() {
    // Before the October 2022 rule.
    let d = q("USA", "CHN", "2022-10-06").product("A100").run();
    assert_eq!(outcome(&d, "USA"), "not_required");
    assert!(explains(&d, "USA", "not yet in force on 2022-10-06"));
    let d = q("USA", "CHN", "2022-10-07").product("A100").run();
    assert_eq!(outcome(&d, "USA"), "licence_required");
    assert_eq!(policy(&d, "USA"), Some(ReviewPolicy::PresumptionOfDenial));
    // A800 / H800 (400 GB/s) were designed below the 2022 I/O threshold ...
    for p in ["A800", "H800"] {
        let d = q("USA", "CHN", "2023-06-01").product(p).run();
        assert_eq!(outcome(&d, "USA"), "not_required", "{p}");
        assert!(explains(
            &d,
            "USA",
            "bidirectional_io_gbps = 400 >= 600: not met"
        ));
        // ... and caught once the 2023 rule dropped it.
        let d = q("USA", "CHN", "2023-11-17").product(p).run();
        assert_eq!(outcome(&d, "USA"), "licence_required", "{p}");
    }
    // H20: TPP 2368, density 2.9: below 3A090.a and 3A090.b ...
    let d = q("USA", "CHN", "2025-04-08").product("H20").run();
    assert_eq!(outcome(&d, "USA"), "not_required");
    assert!((d.item.derived["performance_density"] - 2368.0 / 814.0).abs() < 1e-9);
    // ... but caught from 9 April 2025 by the "is informed" letter (a dated measure of its
    // own, so TODAY's H20 verdict is no longer not_required).
    let d = q("USA", "CHN", "2025-04-09").product("H20").run();
    assert_eq!(outcome(&d, "USA"), "licence_required");
    assert_eq!(
        verdict(&d, "USA").unwrap().measure_id.as_deref(),
        Some("US-is-informed-H20")
    );
}

#[test]
fn us_3a090_tpp_and_density_thresholds() {
    let at = |tpp: f64, die: f64| {
        q("USA", "CHN", TODAY)
            .p("tpp", tpp)
            .p("die_area_mm2", die)
            .pb("datacenter", true)
            .run()
    };
    assert_eq!(outcome(&at(4800.0, 10_000.0), "USA"), "licence_required");
    // 4799 with density 0.48: below .a and below .b (density < 1.6).
    assert_eq!(outcome(&at(4799.0, 3000.0), "USA"), "not_required");
    // TPP 1600 with density 5.92 (a.2) vs 5.91 (b.2: NAC).
    let d = at(1600.0, 1600.0 / 5.92);
    assert_eq!(outcome(&d, "USA"), "licence_required");
    let d = at(1600.0, 1600.0 / 5.91);
    assert_eq!(outcome(&d, "USA"), "exception_with_notification");
    assert_eq!(
        verdict(&d, "USA").unwrap().authorisation.as_deref(),
        Some("NAC")
    );
    // TPP from MacTOPS and bit length: 2 x 300 x 8 = 4800. NAC is claimed only when its
    // condition (not a datacenter item) is shown: without `datacenter` the licence stands.
    let d = q("USA", "CHN", TODAY)
        .p("mac_tops", 300.0)
        .p("bit_length", 8.0)
        .p("die_area_mm2", 800.0)
        .run();
    assert_eq!(d.item.derived["tpp"], 4800.0);
    assert!(explains(&d, "USA", "cannot be claimed"));
    assert_eq!(outcome(&d, "USA"), "licence_required");
}

#[test]
fn us_3a090_destinations_and_nac() {
    // RTX 4090: non-datacenter, TPP about 5285. 740.8 excludes only datacenter items meeting
    // 3A090.a, so NAC (with notification) covers it to China and ACA (since 4 Apr 2024, no
    // notification) to D:1/D:4 destinations such as Vietnam.
    let d = q("USA", "CHN", TODAY).product("RTX 4090").run();
    assert_eq!(outcome(&d, "USA"), "exception_with_notification");
    assert_eq!(
        verdict(&d, "USA").unwrap().authorisation.as_deref(),
        Some("NAC")
    );
    let d = q("USA", "VNM", TODAY).product("RTX 4090").run();
    assert_eq!(outcome(&d, "USA"), "general_authorisation");
    assert_eq!(
        verdict(&d, "USA").unwrap().authorisation.as_deref(),
        Some("ACA")
    );
    // A datacenter 3A090.a item to China: no exception, presumption of denial.
    let d = q("USA", "CHN", TODAY).product("H100").run();
    assert_eq!(policy(&d, "USA"), Some(ReviewPolicy::PresumptionOfDenial));
    let d = q("USA", "VNM", TODAY).product("H100").run();
    assert_eq!(outcome(&d, "USA"), "licence_required");
    assert_eq!(policy(&d, "USA"), Some(ReviewPolicy::PresumptionOfApproval));
    let d = q("USA", "MAC", TODAY).product("H100").run();
    assert_eq!(policy(&d, "USA"), Some(ReviewPolicy::PresumptionOfDenial));
    // Allies and A:6 (Israel is D:4 but also A:6).
    for c in ["DEU", "JPN", "ISR", "KOR"] {
        let d = q("USA", c, TODAY).product("H100").run();
        assert_eq!(outcome(&d, "USA"), "not_required", "{c}");
    }
}

#[test]
fn us_reach_by_origin_and_de_minimis() {
    // Re-export of a US-origin chip from Singapore (origin from the catalogue).
    let d = q("SGP", "CHN", TODAY).product("H100").run();
    assert_eq!(d.origin.as_deref(), Some("USA"));
    assert_eq!(outcome(&d, "USA"), "licence_required");
    // A foreign chip: reached only above 25% US content.
    let chip = |pct: f64| {
        q("KOR", "CHN", TODAY)
            .p("tpp", 6000.0)
            .p("die_area_mm2", 600.0)
            .pb("datacenter", true)
            .p("us_content_pct", pct)
            .run()
    };
    // At 25% only the SME measure (0% de minimis) reaches it, and does not catch a chip.
    let d = chip(25.0);
    assert_eq!(outcome(&d, "USA"), "not_required");
    assert!(!explains(&d, "USA", "US-3A090"));
    let d = chip(25.1);
    assert_eq!(outcome(&d, "USA"), "licence_required");
    assert_eq!(
        verdict(&d, "USA").unwrap().measure_id.as_deref(),
        Some("US-3A090")
    );
    let d = chip(0.0);
    assert_eq!(outcome(&d, "USA"), "absent");
    assert!(d.overall.not_reached.iter().any(|l| l.starts_with("USA")));
}

#[test]
fn us_sme_zero_de_minimis_for_immersion_scanners() {
    let d = q("NLD", "CHN", "2026-01-10")
        .product("NXT:1980i")
        .p("us_content_pct", 1.0)
        .run();
    assert_eq!(outcome(&d, "USA"), "licence_required");
    assert_eq!(
        verdict(&d, "USA").unwrap().measure_id.as_deref(),
        Some("US-SME")
    );
    let d = q("NLD", "CHN", "2026-01-10")
        .product("NXT:1980i")
        .p("us_content_pct", 0.0)
        .run();
    assert_eq!(outcome(&d, "USA"), "absent");
    // Before the 2023 version the 2022 version (25% de minimis, 3B090 only) applied.
    let d = q("NLD", "CHN", "2023-11-16")
        .product("NXT:1980i")
        .p("us_content_pct", 30.0)
        .run();
    assert_eq!(outcome(&d, "USA"), "not_required");
}

#[test]
fn us_end_use_rule() {
    let d = q("USA", "CHN", TODAY)
        .ps("eccn", "EAR99")
        .end_use("advanced_node_ic_production")
        .run();
    assert_eq!(outcome(&d, "USA"), "licence_required");
    let d = q("USA", "CHN", TODAY).ps("eccn", "EAR99").run();
    assert_eq!(outcome(&d, "USA"), "not_required");
}

// ---- Entity List ---------------------------------------------------------------------------

#[test]
fn listed_vs_unlisted_end_users() {
    let d = q("USA", "CHN", TODAY)
        .product("H20")
        .end_user("Huawei Technologies Co., Ltd.")
        .run();
    assert_eq!(outcome(&d, "USA"), "licence_required");
    assert_eq!(
        verdict(&d, "USA").unwrap().measure_id.as_deref(),
        Some("US-EL")
    );
    assert_eq!(policy(&d, "USA"), Some(ReviewPolicy::PresumptionOfDenial));
    assert!(!d.end_user_screening.is_empty());
    // (before the April 2025 H20 letter, so the chip itself needs no licence)
    let d = q("USA", "CHN", "2025-03-01")
        .product("H20")
        .end_user("Acme Trading Ltd")
        .run();
    assert_eq!(outcome(&d, "USA"), "not_required");
    assert!(explains(&d, "USA", "is not on US-EL"));
    // Chinese script end user.
    let d = q("USA", "CHN", TODAY)
        .product("H20")
        .end_user("中芯国际集成电路制造有限公司")
        .run();
    assert_eq!(outcome(&d, "USA"), "licence_required");
    // Listed only from 18 Dec 2020.
    let d = q("USA", "CHN", "2020-06-01")
        .product("H20")
        .end_user("SMIC")
        .run();
    assert_eq!(outcome(&d, "USA"), "not_required");
    assert!(explains(&d, "USA", "listed only from 2020-12-18"));
    // A 1260H listing carries no EAR licence requirement.
    let d = q("USA", "CHN", "2025-03-01")
        .product("H20")
        .end_user("CXMT")
        .run();
    assert_eq!(outcome(&d, "USA"), "not_required");
}

// ---- Japan -----------------------------------------------------------------------------------

#[test]
fn japan_2019_korea_materials_dates() {
    // The three materials were always list-controlled; only the bulk-licence route to Korea
    // changed (the shipped test read "before 4 July 2019" as "no licence", which the list
    // control contradicts).
    let at = |date: &str| {
        q("JPN", "KOR", date)
            .ps("material", "hydrogen_fluoride")
            .run()
    };
    let d = at("2019-07-03");
    assert_eq!(outcome(&d, "JPN"), "general_authorisation");
    assert_eq!(
        verdict(&d, "JPN").unwrap().authorisation.as_deref(),
        Some("general bulk export licence (一般包括許可)")
    );
    assert_eq!(outcome(&at("2019-07-04"), "JPN"), "licence_required");
    assert!(explains(&at("2019-07-04"), "JPN", "no bulk licence"));
    assert_eq!(outcome(&at("2023-03-22"), "JPN"), "licence_required");
    // Lifted on 23 March 2023, but Korea was outside Group A until 20 July 2023.
    let d = at("2023-03-23");
    assert_eq!(outcome(&d, "JPN"), "licence_required");
    assert!(explains(&d, "JPN", "special general bulk licence"));
    assert_eq!(outcome(&at("2023-07-20"), "JPN"), "licence_required");
    assert_eq!(outcome(&at("2023-07-21"), "JPN"), "general_authorisation");
    // Other destinations outside Group A always needed a licence for list items.
    let d = q("JPN", "TWN", "2020-01-01")
        .product("EUV photoresist")
        .run();
    assert_eq!(outcome(&d, "JPN"), "licence_required");
}

#[test]
fn japan_2023_sme_group_a() {
    let scanner = |to: &str, date: &str| {
        q("JPN", to, date)
            .p("wavelength_nm", 193.0)
            .p("numerical_aperture", 1.35)
            .run()
    };
    assert_eq!(
        outcome(&scanner("CHN", "2023-07-22"), "JPN"),
        "not_required"
    );
    assert_eq!(
        outcome(&scanner("CHN", "2023-07-23"), "JPN"),
        "licence_required"
    );
    // Licence for every destination; the general bulk licence covers the 42 countries and
    // regions (Korea and Taiwan among them).
    for c in ["USA", "KOR", "TWN"] {
        let d = scanner(c, "2023-07-23");
        assert_eq!(outcome(&d, "JPN"), "general_authorisation", "{c}");
        assert_eq!(
            verdict(&d, "JPN").unwrap().authorisation.as_deref(),
            Some("general bulk export licence (一般包括許可)")
        );
    }
}

// ---- China -----------------------------------------------------------------------------------

#[test]
fn china_gallium_and_announcement_46_suspension() {
    let at = |to: &str, date: &str| q("CHN", to, date).product("gallium").run();
    assert_eq!(outcome(&at("USA", "2023-07-31"), "CHN"), "not_required");
    assert_eq!(outcome(&at("USA", "2023-08-01"), "CHN"), "licence_required");
    assert_eq!(outcome(&at("USA", "2024-12-02"), "CHN"), "licence_required");
    assert_eq!(outcome(&at("USA", "2024-12-03"), "CHN"), "prohibited");
    assert_eq!(outcome(&at("USA", "2025-11-08"), "CHN"), "prohibited");
    let d = at("USA", "2025-11-09");
    assert_eq!(outcome(&d, "CHN"), "licence_required");
    assert!(explains(
        &d,
        "CHN",
        "suspended from 2025-11-09 to 2026-11-27"
    ));
    // Today (2026-11-21) is inside the suspension.
    let d = at("USA", TODAY);
    assert_eq!(outcome(&d, "CHN"), "licence_required");
    assert!(explains(&d, "CHN", "MOFCOM Announcement No. 72 of 2025"));
    assert_eq!(outcome(&at("USA", "2026-11-27"), "CHN"), "licence_required");
    assert_eq!(outcome(&at("USA", "2026-11-28"), "CHN"), "prohibited");
    // Other destinations: the 2023 licence requirement only.
    assert_eq!(outcome(&at("DEU", "2025-01-01"), "CHN"), "licence_required");
    // Clause 1 (military end use) is not suspended.
    let d = q("CHN", "USA", TODAY)
        .product("gallium")
        .end_use("military")
        .run();
    assert_eq!(outcome(&d, "CHN"), "prohibited");
    // Chinese-origin gallium re-exported from Korea to the US.
    let d = q("KOR", "USA", "2025-01-01")
        .product("gallium")
        .origin("CHN")
        .run();
    assert_eq!(outcome(&d, "CHN"), "prohibited");
}

#[test]
fn china_graphite_and_antimony() {
    // Clause 2 of Ann. 46 states a stricter end-user and end-use review for graphite, not a
    // presumption of denial (the shipped test asserted one).
    let d = q("CHN", "USA", "2025-06-01").product("graphite").run();
    assert_eq!(policy(&d, "CHN"), Some(ReviewPolicy::PerApplication));
    assert!(explains(&d, "CHN", "stricter end-user and end-use review"));
    let d = q("CHN", "USA", TODAY).product("graphite").run();
    assert_eq!(policy(&d, "CHN"), Some(ReviewPolicy::PerApplication));
    assert!(explains(&d, "CHN", "is suspended from 2025-11-09"));
    let d = q("CHN", "DEU", "2023-11-30").product("graphite").run();
    assert_eq!(outcome(&d, "CHN"), "not_required");
    let d = q("CHN", "DEU", "2023-12-01").product("graphite").run();
    assert_eq!(outcome(&d, "CHN"), "licence_required");
    let d = q("CHN", "DEU", "2024-09-14").product("antimony").run();
    assert_eq!(outcome(&d, "CHN"), "not_required");
    let d = q("CHN", "DEU", "2024-09-15").product("antimony").run();
    assert_eq!(outcome(&d, "CHN"), "licence_required");
}

// ---- Overall and item report ---------------------------------------------------------------

#[test]
fn overall_is_the_strictest() {
    // NXT:2000i to China with US content: EU per application, USA presumption of denial.
    let d = q("NLD", "CHN", TODAY)
        .product("NXT:2000i")
        .p("us_content_pct", 5.0)
        .run();
    assert_eq!(d.overall.outcome, OutcomeKind::LicenceRequired);
    assert_eq!(
        d.overall.review_policy,
        Some(ReviewPolicy::PresumptionOfDenial)
    );
    assert_eq!(d.overall.jurisdictions, vec!["USA"]);
    // Exporting country without encoded measures: its verdict is undetermined, never "not
    // required" (chipwatch does not know Korean law).
    let d = q("KOR", "VNM", TODAY).ps("material", "wafer").run();
    assert_eq!(outcome(&d, "KOR"), "undetermined");
    assert_eq!(d.overall.outcome, OutcomeKind::Undetermined);
    assert!(explains(
        &d,
        "KOR",
        "no measure of this jurisdiction is encoded"
    ));
}

#[test]
fn unknown_parameters_are_errors_with_suggestions() {
    // A misspelt parameter would be ignored by every measure: refused, naming it.
    let e = engine()
        .determine(
            &q("NLD", "CHN", TODAY)
                .product("NXT:2000i")
                .p("throughput_wph", 295.0)
                .s,
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("throughput_wph"), "{e}");
    let e = engine()
        .determine(&q("NLD", "CHN", TODAY).p("wavelenght_nm", 13.5).s)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("did you mean") && e.contains("wavelength_nm"),
        "{e}"
    );
}

#[test]
fn overrides_beat_catalogue_values() {
    let d = q("NLD", "CHN", "2024-01-01")
        .product("NXT:1980i")
        .p("dedicated_chuck_overlay_nm", 1.4)
        .run();
    assert_eq!(outcome(&d, "NLD"), "licence_required");
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let e = engine();
    let mut s = q("NLD", "China", TODAY).s;
    assert!(e.determine(&s).unwrap_err().to_string().contains("China"));
    s.to = "CHN".into();
    s.product = Some("NXT:9999z".into());
    assert!(e
        .determine(&s)
        .unwrap_err()
        .to_string()
        .contains("unknown product"));
    s.product = Some("NXT".into());
    let err = e.determine(&s).unwrap_err().to_string();
    assert!(err.contains("did you mean"), "{err}");
}
