//! Fail-closed determinations: what chipwatch cannot know is an error naming the field (bad
//! country, product, end use, parameter) or an `undetermined` verdict naming the values that
//! would decide it, never "not required".

mod common;
use chipwatch_controls::*;
use common::{engine, outcome, q};

fn shipment(from: &str, to: &str) -> Shipment {
    q(from, to, "2026-11-21").s
}

fn with(mut s: Shipment, k: &str, v: Value) -> Shipment {
    s.params.insert(k.into(), v);
    s
}

fn product(mut s: Shipment, p: &str) -> Shipment {
    s.product = Some(p.into());
    s
}

fn err(s: &Shipment) -> String {
    engine()
        .determine(s)
        .expect_err("must be an error, not a verdict")
        .to_string()
}

#[test]
fn country_codes_outside_iso_3166_are_errors_naming_the_field() {
    for (from, to, field, bad) in [
        ("NLD", "NDL", "to", "NDL"),
        ("NLD", "XXX", "to", "XXX"),
        ("ZZZ", "CHN", "from", "ZZZ"),
        ("NLD", "EU", "to", "EU"),
    ] {
        let e = err(&product(shipment(from, to), "NXT:2000i"));
        assert!(e.contains(&format!("`{field}`")) && e.contains(bad), "{e}");
        assert!(e.contains("ISO 3166-1 alpha-3"), "{e}");
    }
    let e = err(&product(shipment("NLD", "NDL"), "NXT:2000i"));
    assert!(
        e.contains("did you mean") && e.contains("NLD (Netherlands"),
        "{e}"
    );
    let mut s = product(shipment("NLD", "CHN"), "NXT:2000i");
    s.origin = Some("USX".into());
    assert!(err(&s).contains("`origin`"));
    // Lower case and spaces are fine.
    assert!(engine()
        .determine(&product(shipment(" nld", "chn "), "NXT:2000i"))
        .is_ok());
}

#[test]
fn products_match_exactly_or_by_alias_never_loosely() {
    for (q, must_not) in [("A10", "A100"), ("H2", "H20"), ("NXT2100", "NXT:2100i")] {
        let e = err(&product(shipment("USA", "CHN"), q));
        assert!(
            e.contains("unknown product") && e.contains("`product`"),
            "{q}: {e}"
        );
        // Suggested, never chosen.
        assert!(e.contains(must_not), "{q}: {e}");
    }
    assert!(err(&product(shipment("USA", "CHN"), "Quantum Flux 9000")).contains("unknown product"));
    for (q, name) in [
        ("A100", "Nvidia A100 SXM"),
        ("h20", "Nvidia H20"),
        ("NXT:2000i", "ASML TWINSCAN NXT:2000i"),
        ("nxt 2000i", "ASML TWINSCAN NXT:2000i"),
    ] {
        let d = engine()
            .determine(&product(shipment("USA", "CHN"), q))
            .unwrap();
        assert_eq!(d.item.product.as_deref(), Some(name));
    }
}

#[test]
fn unknown_end_use_is_an_error() {
    let mut s = product(shipment("USA", "CHN"), "H20");
    s.end_use = Some("militray".into());
    let e = err(&s);
    assert!(e.contains("`end_use`") && e.contains("militray"), "{e}");
    assert!(e.contains("military"), "{e}");
    s.end_use = Some("military".into());
    assert!(engine().determine(&s).is_ok());
    s.end_use = Some("civil".into());
    assert!(engine().determine(&s).is_ok());
}

#[test]
fn missing_overlay_makes_the_scanner_undetermined() {
    // ArF immersion, 193 nm, NA 1.35, no overlay: 3B501.f.1.b (EU) and the Dutch measure wait
    // on the dedicated chuck overlay.
    let s = with(
        with(shipment("NLD", "CHN"), "wavelength_nm", Value::Num(193.0)),
        "numerical_aperture",
        Value::Num(1.35),
    );
    let d = engine().determine(&s).unwrap();
    assert_eq!(d.overall.outcome, OutcomeKind::Undetermined);
    // ... and so does the US: a scanner with US parts may be subject to the EAR at 0% de
    // minimis, and its US content was not stated.
    assert_eq!(
        d.overall.missing_parameters,
        vec!["dedicated_chuck_overlay_nm", "us_content_pct"]
    );
    assert_eq!(outcome(&d, "USA"), "undetermined");
    for j in ["EU", "NLD"] {
        assert_eq!(outcome(&d, j), "undetermined", "{j}");
        assert!(d.overall.undetermined.contains(&j.to_string()));
    }
    let eu = d.verdicts.iter().find(|v| v.jurisdiction == "EU").unwrap();
    assert!(eu
        .explanation
        .iter()
        .any(|l| l.contains("EU-3B501.f.1.b: undetermined")));
    // Given the overlay, it is decided.
    let decided = with(
        with(
            with(s.clone(), "dedicated_chuck_overlay_nm", Value::Num(1.3)),
            "us_content_pct",
            Value::Num(0.0),
        ),
        "us_direct_product",
        Value::Bool(false),
    );
    let d = engine().determine(&decided).unwrap();
    assert_eq!(d.overall.outcome, OutcomeKind::LicenceRequired);
    assert!(d.overall.undetermined.is_empty(), "{:?}", d.overall);
    assert_eq!(outcome(&d, "USA"), "absent");
    // With the overlay but not the US content: the Dutch and EU requirements decide the
    // overall verdict, and the US question stays listed.
    let d = engine()
        .determine(&with(
            s.clone(),
            "dedicated_chuck_overlay_nm",
            Value::Num(1.3),
        ))
        .unwrap();
    assert_eq!(d.overall.outcome, OutcomeKind::LicenceRequired);
    assert_eq!(d.overall.undetermined, vec!["USA"]);
    assert_eq!(d.overall.missing_parameters, vec!["us_content_pct"]);
    // Inside the EU the measure requires nothing whether or not it catches the item.
    let mut intra = s.clone();
    intra.to = "BEL".into();
    let d = engine().determine(&intra).unwrap();
    assert_eq!(outcome(&d, "EU"), "not_required");
}

#[test]
fn a_known_requirement_outranks_undetermined_which_outranks_freedom() {
    assert!(
        strictness(OutcomeKind::Undetermined, None)
            > strictness(OutcomeKind::ExceptionWithNotification, None)
    );
    assert!(
        strictness(
            OutcomeKind::LicenceRequired,
            Some(ReviewPolicy::PresumptionOfApproval)
        ) > strictness(OutcomeKind::Undetermined, None)
    );
    // An EUV scanner from Korea (no Korean measures encoded) to China: the EU is not reached,
    // Korea is undetermined; an EUV scanner of US origin would add US requirements.
    let d = engine()
        .determine(&product(shipment("KOR", "CHN"), "NXE:3600D"))
        .unwrap();
    assert_eq!(outcome(&d, "KOR"), "undetermined");
    assert!(d.overall.undetermined.contains(&"KOR".to_string()));
}

#[test]
fn an_item_given_only_by_a_classification_code_is_not_assumed_harmless() {
    // HS 8486.20 covers lithography scanners: without the scanner's parameters chipwatch
    // cannot tell whether the Dutch measure catches it.
    let d = engine()
        .determine(&with(
            shipment("NLD", "CHN"),
            "hs_code",
            Value::Str("8486.20".into()),
        ))
        .unwrap();
    assert_ne!(d.overall.outcome, OutcomeKind::NotRequired);
    assert_eq!(outcome(&d, "NLD"), "undetermined");
    // An item the user classified EAR99 is on no CCL entry.
    let d = engine()
        .determine(&with(
            shipment("USA", "CHN"),
            "eccn",
            Value::Str("EAR99".into()),
        ))
        .unwrap();
    assert_eq!(outcome(&d, "USA"), "not_required");
}

#[test]
fn verdicts_name_the_rule_set_and_the_lists() {
    let d = engine()
        .determine(&product(shipment("NLD", "CHN"), "NXT:2000i"))
        .unwrap();
    let r = &d.ruleset;
    assert_eq!(r.version.len(), 64);
    assert!(r.version.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(r.measure_files >= 10);
    assert!(!r.lists.is_empty() && r.list_entries > 0);
    assert!(r.lists.iter().all(|l| !l.name.is_empty()));
    assert_eq!(r, engine().ruleset());
    // Another control file, another version.
    let mut files: Vec<(&str, &str)> = EMBEDDED_MEASURES.to_vec();
    let extra = "[[group]]\nid = \"TEST-G\"\nname = \"t\"\nsource = \"t\"\nmembers = []\n";
    files.push(("extra.toml", extra));
    let e2 = Engine::from_sources(
        &files,
        engine().catalogue().clone(),
        engine().screener().clone(),
    )
    .unwrap();
    assert_ne!(e2.ruleset().version, r.version);
    assert_ne!(e2.ruleset().controls_digest, r.controls_digest);
    assert_eq!(e2.ruleset().lists_digest, r.lists_digest);
}

#[test]
fn the_deciding_measure_is_named_and_no_other() {
    // Germanium to Japan on a date inside the suspension of Ann. 46: the Chinese verdict is
    // licence_required under the gallium/germanium measure, not the suspended one.
    let d = engine()
        .determine(&product(shipment("CHN", "JPN"), "germanium"))
        .unwrap();
    let cn = d.verdicts.iter().find(|v| v.jurisdiction == "CHN").unwrap();
    assert_eq!(cn.outcome, OutcomeKind::LicenceRequired);
    assert_eq!(
        cn.measure_id.as_deref(),
        Some("CN-2023-23-gallium-germanium")
    );
    // A not_required verdict that no rule decided names no measure.
    let d = engine()
        .determine(&product(shipment("USA", "JPN"), "RTX 4090"))
        .unwrap();
    let us = d.verdicts.iter().find(|v| v.jurisdiction == "USA").unwrap();
    if us.outcome == OutcomeKind::NotRequired {
        assert_eq!(us.measure_id, None, "{:?}", us.explanation);
    }
}

#[test]
fn a_listed_consignee_triggers_the_list_rule_like_a_listed_end_user() {
    // An EAR99 item from the US to China: no licence for an unlisted end user ...
    let base = with(shipment("USA", "CHN"), "eccn", Value::Str("EAR99".into()));
    let mut s = base.clone();
    s.end_user = Some("Bakery Smith Ltd".into());
    let d = engine().determine(&s).unwrap();
    assert_eq!(outcome(&d, "USA"), "not_required");
    // ... but the Entity List applies when a listed entity is any party of the transaction.
    s.parties = vec![Party {
        role: PartyRole::Consignee,
        name: "Huawei Technologies Co., Ltd.".into(),
    }];
    let d = engine().determine(&s).unwrap();
    assert_eq!(outcome(&d, "USA"), "licence_required", "{:?}", d.verdicts);
    assert_eq!(d.party_screening.len(), 1);
    assert!(!d.party_screening[0].hits.is_empty());
    let us = d.verdicts.iter().find(|v| v.jurisdiction == "USA").unwrap();
    assert!(us
        .explanation
        .iter()
        .any(|l| l.contains("consignee `Huawei Technologies Co., Ltd.` matches")));
    // A listed exporter is not a listed party of this rule.
    s.parties[0].role = PartyRole::Exporter;
    let d = engine().determine(&s).unwrap();
    assert_eq!(outcome(&d, "USA"), "not_required");
    // The batch path gives the same bytes as serde on the determination.
    s.parties[0].role = PartyRole::IntermediateConsignee;
    let mut b = Batch::new(engine());
    let mut line = Vec::new();
    b.write_json_line(&s, &mut line).unwrap();
    let want = serde_json::to_vec(&engine().determine(&s).unwrap()).unwrap();
    assert_eq!(
        String::from_utf8(line).unwrap().trim_end(),
        String::from_utf8(want).unwrap()
    );
}
