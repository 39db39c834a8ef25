//! The denial notices page and the licence check's partner-denial box over the router, with two
//! organisations: publish (good, bad, cross-site), the partner's view under an agreement, the
//! match on the licence check page for a variant spelling, and withdrawal.

use super::tests::{env, get, org, page_ok, post_form, sign_in};
use axum::http::StatusCode;
use chipwatch_store::partner::{Granularity, NewAgreement};

const ORIGIN: &str = "http://127.0.0.1:8080";

fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

fn notice(destination: &str) -> Vec<(&str, &str)> {
    vec![
        ("reference", "BAFA-2025-0042"),
        ("authority", "BAFA"),
        ("jurisdiction", "deu"),
        ("denied_on", "2025-03-14"),
        ("destination", destination),
        ("description", "DUV immersion scanner"),
        ("product", "NXT:2000i"),
        ("control_entry", "3B001.f.1"),
        ("end_user", "Shanghai Micro Electronics Equipment Co., Ltd."),
        ("end_user_aliases", "SMEE"),
        ("consignees", "Acme Trading Ltd"),
        ("reason_category", "military_end_use"),
        ("reason", "supplies military programmes"),
        ("distribution", "community"),
    ]
}

#[tokio::test]
async fn publish_share_match_and_withdraw_through_the_dashboard() {
    let e = env().await;
    let app = &e.app;
    let (de, de_token) = org(&e.store, "BAFA").await;
    let (kr, kr_token) = org(&e.store, "MOTIE").await;
    let d = sign_in(app, &de_token).await;
    let k = sign_in(app, &kr_token).await;
    let (dc, kc) = (Some(d.as_str()), Some(k.as_str()));

    // Signed out: to the login page.
    let r = get(app, "/licence/denials", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = get(app, "/licence/denials", dc).await;
    page_ok(&r);
    assert!(
        r.body.contains(r#"action="/licence/denials""#),
        "publish form"
    );

    // Bad input comes back with the field named and the values kept; cross-site is refused.
    let r = post_form(app, "/licence/denials", &form(&notice("China")), dc, ORIGIN).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("destination") && r.body.contains(r#"value="China""#));
    let r = post_form(
        app,
        "/licence/denials",
        &form(&notice("CHN")),
        dc,
        "https://evil.example",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post_form(app, "/licence/denials", &form(&notice("chn")), dc, ORIGIN).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.headers["location"], "/licence/denials?done=published");
    let r = get(app, "/licence/denials?done=published", dc).await;
    page_ok(&r);
    assert!(r.body.contains("Denial notice published.") && r.body.contains("BAFA-2025-0042"));

    // The partner sees nothing until an agreement releases it, then the end user only.
    let r = get(app, "/licence/denials", kc).await;
    assert!(!r.body.contains("BAFA-2025-0042"));
    e.store
        .create_agreement(
            &de,
            NewAgreement {
                grantee_org_id: kr.org.id,
                items: vec!["*".into()],
                metrics: vec!["denial_notice".into()],
                fields: vec!["end_user".into()],
                granularity: Granularity::Firm,
                min_firms: 1,
                max_firm_share: 0.6,
                valid_from: 0,
                valid_until: None,
            },
        )
        .await
        .unwrap();
    let r = get(app, "/licence/denials", kc).await;
    page_ok(&r);
    assert!(r.body.contains("BAFA-2025-0042") && r.body.contains("SMEE"));
    assert!(!r.body.contains("supplies military programmes") && !r.body.contains("Acme Trading"));
    assert!(r.body.contains("withheld by the agreement"));
    assert!(
        !r.body.contains("/withdrawal\""),
        "no withdrawal form on a partner's notice"
    );

    // The licence check page shows the match, prominently, for a variant spelling.
    let check = "/licence?product=ASML+TWINSCAN+NXT%3A2000i&from=NLD&to=CHN&date=2026-06-01&end_user=Shanghai+Microelectronics+Equipment";
    let r = get(app, check, kc).await;
    page_ok(&r);
    assert!(
        r.body.contains(r#"id="partner-denials" role="alert""#),
        "{}",
        r.body
    );
    assert!(r
        .body
        .contains("consult the issuing authority before granting"));
    let near = check.replace("Equipment", "Institute");
    let r = get(app, &near, kc).await;
    assert!(r.body.contains("No partner denial notice"), "near miss");

    // Withdrawal by the owner: bad input, then recorded; the check no longer matches.
    let id = e
        .store
        .visible_denials(&de.org, &Default::default())
        .await
        .unwrap()[0]
        .id;
    let w = format!("/licence/denials/{id}/withdrawal");
    let r = get(app, "/licence/denials", dc).await;
    assert!(r.body.contains(&format!("action=\"{w}\"")));
    let r = post_form(
        app,
        &w,
        &form(&[("withdrawn_on", "2025-09-01"), ("reason", "")]),
        kc,
        ORIGIN,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "another organisation: {}",
        r.body
    );
    let r = post_form(
        app,
        &w,
        &form(&[("withdrawn_on", "2025-01-01"), ("reason", "x")]),
        dc,
        ORIGIN,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("withdrawn_on"));
    let r = post_form(
        app,
        &w,
        &form(&[("withdrawn_on", "2025-09-01"), ("reason", "lifted")]),
        dc,
        ORIGIN,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = get(app, check, kc).await;
    assert!(r.body.contains("No partner denial notice"));
    let r = get(app, "/licence/denials", dc).await;
    assert!(r.body.contains("withdrawn 2025-09-01"));
}
