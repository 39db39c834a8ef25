//! Analyst feedback on the monitor page: the form only for analysts, marks shown to their own
//! organisation only, bad input refused with a page naming the field.

use super::tests::{article, env, get, org, page_ok, post_form, sign_in};
use axum::http::StatusCode;
use chipwatch_store::monitor::Inserted;
use chipwatch_store::partner::Role;

#[tokio::test]
async fn feedback_form_marks_and_refusals() {
    let e = env().await;
    let app = &e.app;
    let Inserted::New(id) = e
        .store
        .monitor_insert_article(
            &article(
                "Fire at a fab",
                "en",
                "A fire broke out.",
                "JPN",
                "N20",
                "c1",
                "h1",
            ),
            &[],
        )
        .await
        .unwrap()
    else {
        panic!("not inserted")
    };
    let (seoul, seoul_token) = org(&e.store, "Ministry Seoul").await;
    let (_, hague_token) = org(&e.store, "Ministry Hague").await;
    let form_tag = format!(r#"action="/monitor/events/{id}/feedback""#);

    let r = get(app, "/monitor", None).await;
    page_ok(&r);
    assert!(!r.body.contains(&form_tag), "no form signed out");
    let u = e
        .store
        .create_user(seoul.org.id, "lee", Role::Viewer, "test")
        .await
        .unwrap();
    let vt = crate::auth::new_token_secret();
    e.store
        .create_token(u.id, &vt, "t", None, "test")
        .await
        .unwrap();
    let v = sign_in(app, &vt).await;
    let r = get(app, "/monitor", Some(&v)).await;
    assert!(!r.body.contains(&form_tag), "no form for a viewer");

    let s = sign_in(app, &seoul_token).await;
    let r = get(app, "/monitor", Some(&s)).await;
    assert!(r.body.contains(&form_tag), "the form for an analyst");
    let path = format!("/monitor/events/{id}/feedback");
    let r = post_form(
        app,
        &path,
        "verdict=wrong_type&event_type=volcano",
        Some(&s),
        "http://127.0.0.1:8080",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("event_type") && r.body.contains("volcano"),
        "{}",
        r.body
    );
    let r = post_form(
        app,
        &path,
        "verdict=wrong_type&event_type=power_outage&note=a+blackout",
        Some(&s),
        "https://evil.example",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post_form(
        app,
        &path,
        "verdict=wrong_type&event_type=power_outage&note=a+blackout",
        Some(&s),
        "http://127.0.0.1:8080",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = get(app, "/monitor?feedback=saved", Some(&s)).await;
    assert!(r.body.contains("Feedback saved."));
    assert!(
        r.body.contains("wrong type: should be power outage")
            && r.body.contains("Ministry Seoul-admin"),
        "{}",
        r.body
    );
    let r = post_form(
        app,
        &path,
        "verdict=wrong_type&event_type=power_outage",
        Some(&v),
        "http://127.0.0.1:8080",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a viewer cannot mark");

    let h = sign_in(app, &hague_token).await;
    let r = get(app, "/monitor", Some(&h)).await;
    assert!(
        !r.body.contains("should be power outage"),
        "another organisation's marks stay hidden"
    );
}
