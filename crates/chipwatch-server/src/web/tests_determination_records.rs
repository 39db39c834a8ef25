//! Determination records kept from the dashboard's licence check: the form for analysts and
//! admins only, the record made again from the check's inputs (not from the page), overrides
//! with their reason, the records page and its CSV for the organisation only, and refusals.

use super::tests::sign_in;
use super::tests::{env, get, org, page_ok, post_form};
use axum::http::StatusCode;
use chipwatch_store::partner::Role;

const ORIGIN: &str = "http://127.0.0.1:8080";
const QUERY: &str = "product=NXT%3A2050i&from=NLD&to=CHN&date=2024-10-01&end_user=Alpha+Wafer";

#[tokio::test]
async fn determination_records_from_the_licence_check() {
    let e = env().await;
    let app = &e.app;
    let (hague, hague_token) = org(&e.store, "Ministry Hague").await;
    let (_, seoul_token) = org(&e.store, "Ministry Seoul").await;
    let h = sign_in(app, &hague_token).await;
    let s = sign_in(app, &seoul_token).await;

    // The form under a determination, for an admin; a viewer sees none.
    let r = get(app, &format!("/licence?{QUERY}"), Some(&h)).await;
    page_ok(&r);
    assert!(
        r.body.contains(r#"action="/licence/records""#),
        "{}",
        r.body
    );
    let u = e
        .store
        .create_user(hague.org.id, "viewer", Role::Viewer, "test")
        .await
        .unwrap();
    let secret = crate::auth::new_token_secret();
    e.store
        .create_token(u.id, &secret, "test", None, "test")
        .await
        .unwrap();
    let v = sign_in(app, &secret).await;
    let r = get(app, &format!("/licence?{QUERY}"), Some(&v)).await;
    page_ok(&r);
    assert!(!r.body.contains(r#"action="/licence/records""#));

    let form = |case: &str, o: &str, why: &str| {
        serde_urlencoded::to_string([
            (
                "query",
                QUERY.replace("%3A", ":").replace('+', " ").as_str(),
            ),
            ("case", case),
            ("override_outcome", o),
            ("override_reason", why),
        ])
        .unwrap()
    };
    // Kept: redirected to the records page, which lists it with the engine's outcome.
    let r = post_form(
        app,
        "/licence/records",
        &form("CDIU-2024-17", "", ""),
        Some(&h),
        ORIGIN,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.headers["location"]
        .to_str()
        .unwrap()
        .starts_with("/licence/records?kept="));
    let r = post_form(
        app,
        "/licence/records",
        &form(
            "CDIU-2024-18",
            "prohibited",
            "end user diverts to a listed fab",
        ),
        Some(&h),
        ORIGIN,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let recs = e
        .store
        .determination_records(hague.org.id, &Default::default())
        .await
        .unwrap();
    assert_eq!(recs.len(), 2);
    let first = recs.iter().find(|r| r.case_ref == "CDIU-2024-17").unwrap();
    assert_eq!(
        first.outcome, "licence_required",
        "{:?}",
        first.determination["overall"]
    );
    assert_eq!(first.inputs["product"], "NXT:2050i");
    assert!(first.ruleset.len() >= 12);
    let second = recs.iter().find(|r| r.case_ref == "CDIU-2024-18").unwrap();
    assert_eq!(second.override_outcome.as_deref(), Some("prohibited"));
    let r = get(app, "/licence/records?q=CDIU-2024-18", Some(&h)).await;
    page_ok(&r);
    assert!(r.body.contains("CDIU-2024-18") && !r.body.contains("CDIU-2024-17"));
    assert!(r.body.contains("end user diverts to a listed fab"));
    let r = get(
        app,
        "/licence/records.csv?outcome=licence_required",
        Some(&h),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(r.body.starts_with("id,time_utc,user,case,"));
    assert!(r.body.contains("CDIU-2024-17") && r.body.contains("NXT:2050i"));

    // Another organisation sees none of it.
    let r = get(app, "/licence/records", Some(&s)).await;
    page_ok(&r);
    assert!(!r.body.contains("CDIU-2024"));
    let r = get(app, "/licence/records.csv", Some(&s)).await;
    assert!(!r.body.contains("CDIU-2024"));

    // Refusals: a viewer, a cross-site post, no case, a bad override, inputs the engine
    // refuses; nothing kept.
    for (body, cookie, origin, status, msg) in [
        (
            form("X-1", "", ""),
            &v,
            ORIGIN,
            StatusCode::FORBIDDEN,
            "analyst",
        ),
        (
            form("X-2", "", ""),
            &h,
            "https://evil.example",
            StatusCode::FORBIDDEN,
            "dashboard itself",
        ),
        (
            form("", "", ""),
            &h,
            ORIGIN,
            StatusCode::UNPROCESSABLE_ENTITY,
            "case",
        ),
        (
            form("X-3", "maybe", "why"),
            &h,
            ORIGIN,
            StatusCode::UNPROCESSABLE_ENTITY,
            "not an outcome",
        ),
        (
            form("X-4", "prohibited", ""),
            &h,
            ORIGIN,
            StatusCode::UNPROCESSABLE_ENTITY,
            "reason",
        ),
        (
            serde_urlencoded::to_string([
                ("query", "product=NXT:2050i&from=NDL&to=CHN"),
                ("case", "X-5"),
            ])
            .unwrap(),
            &h,
            ORIGIN,
            StatusCode::UNPROCESSABLE_ENTITY,
            "NDL",
        ),
    ] {
        let r = post_form(app, "/licence/records", &body, Some(cookie), origin).await;
        assert_eq!(r.status, status, "{msg}: {}", r.body);
        assert!(r.body.contains(msg), "{msg}: {}", r.body);
    }
    assert_eq!(
        e.store
            .determination_records(hague.org.id, &Default::default())
            .await
            .unwrap()
            .len(),
        2
    );
    // Not signed in: to the login page.
    let r = get(app, "/licence/records", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}
