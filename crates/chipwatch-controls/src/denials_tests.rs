use super::*;

fn norm() -> Normaliser {
    crate::default_normaliser()
}

fn notice(end_user: &str, aliases: &[&str], consignees: &[&str]) -> DenialNotice {
    DenialNotice {
        reference: "BAFA-2025-0042".into(),
        authority: "BAFA".into(),
        jurisdiction: "DEU".into(),
        denied_on: Date::parse("2025-03-14").unwrap(),
        item: DeniedItem {
            description: "DUV immersion lithography system".into(),
            product: Some("NXT:2000i".into()),
            control_entry: Some("3B001.f.1".into()),
            model_item: None,
        },
        destination: "CHN".into(),
        end_user: (!end_user.is_empty()).then(|| end_user.to_string()),
        end_user_aliases: aliases.iter().map(|s| s.to_string()).collect(),
        consignees: consignees.iter().map(|s| s.to_string()).collect(),
        reason_category: ReasonCategory::MilitaryEndUse,
        reason: Some("military end user".into()),
        withdrawn_on: None,
    }
}

fn tx(role: &str, name: &str, product: Option<&str>, entries: &[&str]) -> Transaction {
    Transaction {
        parties: vec![QueryParty {
            role: role.into(),
            name: name.into(),
        }],
        product: product.map(str::to_string),
        control_entries: entries.iter().map(|s| s.to_string()).collect(),
        model_item: None,
        date: None,
    }
}

fn same(a: &str, b: &str) -> Option<NameRule> {
    name_match(&norm(), a, b).map(|(r, _)| r)
}

#[test]
fn spelling_variants_of_a_party_match() {
    // Legal forms, punctuation, case and spacing.
    assert_eq!(
        same(
            "Shanghai Micro Electronics Equipment (Group) Co., Ltd.",
            "SHANGHAI MICROELECTRONICS EQUIPMENT GROUP CO LTD"
        ),
        Some(NameRule::Exact)
    );
    assert_eq!(
        same("Acme Lithography GmbH", "ACME LITHOGRAPHY"),
        Some(NameRule::Exact)
    );
    assert_eq!(
        same("Acme Lithography B.V.", "Acme-Lithography Inc."),
        Some(NameRule::Exact)
    );
    // Diacritics and full-width letters.
    assert_eq!(
        same("Société Générale Optique", "Societe Generale Optique"),
        Some(NameRule::Exact)
    );
    assert_eq!(
        same("ＡＣＭＥ Lithography", "acme lithography"),
        Some(NameRule::Exact)
    );
    // A one-letter typo in a longer name.
    assert_eq!(
        same("Huawei Technologies", "Huawei Technolgies"),
        Some(NameRule::Spelling)
    );
    assert_eq!(same("Huawei", "Huawai"), Some(NameRule::Spelling));
    // Two letters in a long name.
    assert_eq!(
        same(
            "Shanghai Micro Electronics Equipment",
            "Shanghay Micro Electronic Equipment"
        ),
        Some(NameRule::Spelling)
    );
    // Word order.
    assert_eq!(
        same(
            "Equipment Shanghai Micro Electronics",
            "Shanghai Micro Electronics Equipment"
        ),
        Some(NameRule::WordOrder)
    );
    // Acronym.
    assert_eq!(
        same("SMEE", "Shanghai Micro Electronics Equipment Co., Ltd."),
        Some(NameRule::Acronym)
    );
    // Traditional and simplified Chinese, and its romanisation.
    assert_eq!(
        same("上海微電子裝備有限公司", "上海微电子装备"),
        Some(NameRule::Exact)
    );
}

#[test]
fn near_misses_do_not_match() {
    // Same group, other company.
    assert_eq!(same("Huawei Technologies", "Huawei Device"), None);
    // Short names differing by a letter.
    assert_eq!(same("Acme", "Acne"), None);
    assert_eq!(same("SMIC", "SMEE"), None);
    // Numbers tell plants and subsidiaries apart.
    assert_eq!(same("Beijing Fab 1", "Beijing Fab 2"), None);
    // A longer name that shares words.
    assert_eq!(
        same(
            "Shanghai Micro Electronics Equipment",
            "Shanghai Microelectronics Institute"
        ),
        None
    );
    // An acronym needs three letters and the exact initials.
    assert_eq!(same("SM", "Shanghai Micro"), None);
    assert_eq!(same("SMEQ", "Shanghai Micro Electronics Equipment"), None);
    // Three typos in a 19-letter name are another name.
    assert_eq!(same("Huawei Technologies", "Hauwei Tecnolojies"), None);
}

#[test]
fn scores_are_reported() {
    let (r, s) = name_match(&norm(), "Huawei Technologies", "Huawei Technolgies").unwrap();
    assert_eq!(r, NameRule::Spelling);
    assert!((s - (1.0 - 1.0 / 18.0)).abs() < 1e-9, "{s}");
    let (r, s) = name_match(&norm(), "SMEE", "Shanghai Micro Electronics Equipment").unwrap();
    assert_eq!((r, s), (NameRule::Acronym, 0.9));
}

#[test]
fn control_entries_match_at_entry_boundaries() {
    assert!(entries_match("3B001.f.1", "3b001.f.1"));
    assert!(entries_match("3B001", "3B001.f.1"));
    assert!(entries_match("3B001.f", "3B001.f.1."));
    assert!(!entries_match("3B001", "3B0010"));
    assert!(!entries_match("3B001.f", "3B001.g"));
    assert!(!entries_match("3B", "3B001"));
    assert!(!entries_match("3B001.f.1", "3B001.f.2"));
}

#[test]
fn an_essentially_identical_transaction_matches() {
    let cat = crate::default_catalogue().unwrap();
    let ns = vec![notice(
        "Shanghai Micro Electronics Equipment Co., Ltd.",
        &["SMEE"],
        &["Acme Trading Ltd"],
    )];
    // Catalogue alias of the same product, end user as an acronym.
    let m = match_notices(
        &norm(),
        Some(&cat),
        &ns,
        &tx("end_user", "SMEE", Some("ASML TWINSCAN NXT:2000i"), &[]),
    );
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].item_rule, ItemRule::Product);
    assert_eq!(m[0].notice_field, "end_user");
    assert_eq!(m[0].similarity, 1.0, "the alias matches exactly: {m:?}");
    // A consignee with a typo, the item by control entry only.
    let m = match_notices(
        &norm(),
        Some(&cat),
        &ns,
        &tx("consignee", "Acme Tradeing Limited", None, &["3B001.f"]),
    );
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(
        (m[0].item_rule, m[0].name_rule),
        (ItemRule::ControlEntry, NameRule::Spelling)
    );
    assert_eq!(m[0].notice_field, "consignee");
    // The purchaser counts as well; the exporter never does.
    let m = match_notices(
        &norm(),
        Some(&cat),
        &ns,
        &tx("purchaser", "Acme Trading", None, &["3B001"]),
    );
    assert_eq!(m.len(), 1);
    let m = match_notices(
        &norm(),
        Some(&cat),
        &ns,
        &tx("exporter", "Acme Trading", None, &["3B001"]),
    );
    assert!(m.is_empty());
}

#[test]
fn model_item_matches_through_the_catalogue() {
    let cat = crate::default_catalogue().unwrap();
    let mut n = notice("Acme Foundry", &[], &[]);
    n.item = DeniedItem {
        description: "EUV scanner".into(),
        product: None,
        control_entry: None,
        model_item: Some("N20".into()),
    };
    let m = match_notices(
        &norm(),
        Some(&cat),
        &[n],
        &tx("end_user", "ACME FOUNDRY", Some("NXE:3600D"), &[]),
    );
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].item_rule, ItemRule::ModelItem);
}

#[test]
fn party_or_item_alone_is_not_enough() {
    let cat = crate::default_catalogue().unwrap();
    let ns = vec![notice("Shanghai Micro Electronics Equipment", &[], &[])];
    // Same party, other product and unrelated entry.
    assert!(match_notices(
        &norm(),
        Some(&cat),
        &ns,
        &tx(
            "end_user",
            "Shanghai Micro Electronics Equipment",
            Some("NXE:3600D"),
            &["3B001.c"]
        )
    )
    .is_empty());
    // Same item, other party.
    assert!(match_notices(
        &norm(),
        Some(&cat),
        &ns,
        &tx(
            "end_user",
            "Shanghai Microelectronics Institute",
            Some("NXT:2000i"),
            &[]
        )
    )
    .is_empty());
    // Parties the agreement withheld are absent: nothing to match on.
    let mut masked = ns[0].clone();
    masked.end_user = None;
    assert!(match_notices(
        &norm(),
        Some(&cat),
        &[masked],
        &tx(
            "end_user",
            "Shanghai Micro Electronics Equipment",
            Some("NXT:2000i"),
            &[]
        )
    )
    .is_empty());
}

#[test]
fn withdrawn_and_later_notices_do_not_match() {
    let cat = crate::default_catalogue().unwrap();
    let mut n = notice("Acme Foundry", &[], &[]);
    n.withdrawn_on = Some(Date::parse("2025-06-01").unwrap());
    let mut t = tx("end_user", "Acme Foundry", Some("NXT:2000i"), &[]);
    assert!(match_notices(&norm(), Some(&cat), std::slice::from_ref(&n), &t).is_empty());
    t.date = Some(Date::parse("2025-05-31").unwrap());
    assert_eq!(
        match_notices(&norm(), Some(&cat), std::slice::from_ref(&n), &t).len(),
        1
    );
    t.date = Some(Date::parse("2025-06-01").unwrap());
    assert!(match_notices(&norm(), Some(&cat), std::slice::from_ref(&n), &t).is_empty());
    t.date = Some(Date::parse("2025-03-13").unwrap());
    assert!(match_notices(&norm(), Some(&cat), std::slice::from_ref(&n), &t).is_empty());
}

const FILE: &str = r#"
[[notice]]
reference = "BAFA-2025-0042"
authority = "BAFA"
jurisdiction = "DEU"
denied_on = "2025-03-14"
destination = "CHN"
end_user = "Shanghai Micro Electronics Equipment Co., Ltd."
end_user_aliases = ["SMEE"]
reason_category = "military_end_use"
reason = "End user supplies military programmes."
[notice.item]
description = "DUV immersion scanner"
product = "NXT:2000i"
control_entry = "3B001.f.1"
"#;

#[test]
fn the_notice_file_parses_and_errors_name_file_and_field() {
    let ns = parse_notices(FILE, "n.toml").unwrap();
    assert_eq!(ns.len(), 1);
    assert_eq!(ns[0].end_user_aliases, vec!["SMEE"]);
    let cases = [
        (FILE.replace("\"CHN\"", "\"XXX\""), "notice[0].destination"),
        (
            FILE.replace("\"DEU\"", "\"Germany\""),
            "notice[0].jurisdiction",
        ),
        (
            FILE.replace("military_end_use", "because"),
            "unknown variant",
        ),
        (FILE.replace("2025-03-14", "2025-02-30"), "n.toml"),
        (
            FILE.replace(
                "description = \"DUV immersion scanner\"",
                "description = \" \"",
            ),
            "notice[0].item.description",
        ),
        (
            FILE.replace(
                "end_user = \"Shanghai Micro Electronics Equipment Co., Ltd.\"",
                "",
            ),
            "notice[0].end_user_aliases",
        ),
        (FILE.replace("reason = ", "colour = "), "unknown field"),
        (format!("{FILE}{FILE}"), "notice[1].reference"),
        (
            FILE.replace("[[notice]]", "[[notice]]\nwithdrawn_on = \"2025-01-01\""),
            "notice[0].withdrawn_on",
        ),
    ];
    for (text, want) in cases {
        let e = parse_notices(&text, "n.toml").unwrap_err().to_string();
        assert!(e.contains("n.toml") && e.contains(want), "{want}: {e}");
    }
}
