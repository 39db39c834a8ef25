//! The partner exchange's forms over the router, with two organisations: every form with good
//! and bad input, role and cross-site refusals, each organisation's view afterwards, and the
//! owner's view of who read its records.

use super::tests::{env, get, org, page_ok, post_form, sign_in, Resp};
use axum::http::StatusCode;
use chipwatch_store::partner::{Principal, Role};
use chipwatch_store::Store;

const ORIGIN: &str = "http://127.0.0.1:8080";

fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

/// A refused form: the page again, with its status, the message and the typed values.
fn refused(r: &Resp, status: StatusCode, message: &str) {
    assert_eq!(r.status, status, "{}", &r.body[..r.body.len().min(3000)]);
    assert!(
        r.body.contains(r#"role="alert""#) && r.body.contains(message),
        "`{message}` not in the page: {}",
        r.body
    );
    assert!(r.body.starts_with("<!DOCTYPE html>"));
}

fn redirected(r: &Resp, to: &str) {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.headers["location"], to);
}

async fn user_token(store: &Store, admin: &Principal, name: &str, role: Role) -> String {
    let u = store
        .create_user(admin.org.id, name, role, "test")
        .await
        .unwrap();
    let secret = crate::auth::new_token_secret();
    store
        .create_token(u.id, &secret, "test", None, "test")
        .await
        .unwrap();
    secret
}

fn record_form<'a>(value: &'a str, country: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("item", "N20"),
        ("metric", "capacity"),
        ("value", value),
        ("unit", "wafers/month"),
        ("period", "2025-Q1"),
        ("provider", "SeoulFab"),
        ("country", country),
        ("provenance", "company survey"),
        ("tlp", "amber"),
        ("distribution", "community"),
    ]
}

#[tokio::test]
async fn records_agreements_and_requests_through_the_forms_for_two_organisations() {
    let e = env().await;
    let app = &e.app;
    let (seoul, seoul_token) = org(&e.store, "Ministry Seoul").await;
    let (hague, hague_token) = org(&e.store, "Ministry Hague").await;
    let s = sign_in(app, &seoul_token).await;
    let h = sign_in(app, &hague_token).await;
    let sc = Some(s.as_str());
    let hc = Some(h.as_str());

    // The forms are on the page, for an admin.
    let r = get(app, "/partner", sc).await;
    page_ok(&r);
    for f in [
        r#"action="/partner/records""#,
        r#"action="/partner/agreements""#,
        r#"action="/partner/requests""#,
        r#"id="readers""#,
    ] {
        assert!(r.body.contains(f), "{f}");
    }

    // Publishing: no session, a cross-site post, bad values; then a good one.
    let good = form(&record_form("41000", "KOR"));
    let r = post_form(app, "/partner/records", &good, None, ORIGIN).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.headers["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));
    let r = post_form(app, "/partner/records", &good, sc, "https://evil.example").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post_form(
        app,
        "/partner/records",
        &form(&record_form("forty-one", "KOR")),
        sc,
        ORIGIN,
    )
    .await;
    refused(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Value: `forty-one` is not a number",
    );
    assert!(r.body.contains(r#"value="forty-one""#), "typed values kept");
    let r = post_form(
        app,
        "/partner/records",
        &form(&record_form("41000", "KRO")),
        sc,
        ORIGIN,
    )
    .await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "KOR");
    let mut no_unit = record_form("41000", "KOR");
    no_unit.retain(|(k, _)| *k != "unit");
    let r = post_form(app, "/partner/records", &form(&no_unit), sc, ORIGIN).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "Unit is required");
    let r = post_form(app, "/partner/records", &good, sc, ORIGIN).await;
    redirected(&r, "/partner?done=record-published#records");
    let recs = e
        .store
        .records_of_orgs(&[seoul.org.id], None, None)
        .await
        .unwrap();
    assert_eq!(recs.len(), 1, "refused forms stored nothing");
    let id = recs[0].id;
    let r = get(app, "/partner?done=record-published", sc).await;
    assert!(r.body.contains("Record published.") && r.body.contains("SeoulFab"));
    // The confirmation is a fixed text: an unknown key shows nothing.
    let r = get(app, "/partner?done=%3Cscript%3E", sc).await;
    assert!(!r.body.contains("script") && !r.body.contains(r#"role="status""#));

    // Editing: the form comes filled; a bad value is refused; the other organisation cannot.
    let r = get(app, &format!("/partner?edit={id}"), sc).await;
    page_ok(&r);
    assert!(
        r.body.contains(&format!("Edit record {id}")) && r.body.contains(r#"value="41000""#),
        "{}",
        r.body
    );
    let edit = format!("/partner/records/{id}");
    let r = post_form(app, &edit, &form(&record_form("", "KOR")), sc, ORIGIN).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "Value is required");
    assert!(
        r.body.contains(&format!("Edit record {id}")),
        "still editing"
    );
    let r = post_form(app, &edit, &form(&record_form("43000", "KOR")), hc, ORIGIN).await;
    refused(&r, StatusCode::NOT_FOUND, "record");
    let r = post_form(app, &edit, &form(&record_form("43000", "KOR")), sc, ORIGIN).await;
    redirected(&r, "/partner?done=record-updated#records");
    let now = e.store.record_raw(id).await.unwrap().unwrap();
    assert_eq!(now.value, Some(43000.0));

    // Hague sees nothing of Seoul's yet.
    let r = get(app, "/partner", hc).await;
    assert!(!r.body.contains("SeoulFab") && !r.body.contains("43000"));

    // Granting: bad input, then an agreement for value and unit of N20.
    let r = post_form(
        app,
        "/partner/agreements",
        &form(&[("items", "N20"), ("fields", "value")]),
        sc,
        ORIGIN,
    )
    .await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "Partner is required");
    let hague_id = hague.org.id.to_string();
    let r = post_form(
        app,
        "/partner/agreements",
        &form(&[
            ("grantee_org_id", &hague_id),
            ("items", "N20"),
            ("fields", "value"),
            ("fields", "unit"),
            ("valid_until", "2020-13-40"),
        ]),
        sc,
        ORIGIN,
    )
    .await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "valid_until");
    let r = post_form(
        app,
        "/partner/agreements",
        &form(&[
            ("grantee_org_id", &hague_id),
            ("items", "N20"),
            ("fields", "value"),
            ("fields", "unit"),
        ]),
        sc,
        ORIGIN,
    )
    .await;
    redirected(&r, "/partner?done=agreement-granted#agreements");

    // Hague now sees the value, not the provider; Seoul sees who read it.
    let r = get(app, "/partner", hc).await;
    assert!(r.body.contains("43000") && !r.body.contains("SeoulFab"));
    let r = get(app, "/partner", sc).await;
    let readers = r.body.split(r#"id="readers""#).nth(1).unwrap();
    let readers = readers.split(r#"id="audit""#).next().unwrap();
    assert!(
        readers.contains("Ministry Hague-admin (Ministry Hague)")
            && readers.contains("list of shared records")
            && readers.contains(&id.to_string()),
        "{readers}"
    );
    // Hague's page lists no readers of its own (it has no records).
    let r = get(app, "/partner", hc).await;
    assert!(r
        .body
        .contains("No other organisation has read your records"));

    // A request from Hague to Seoul: bad, then good; Seoul answers it.
    let seoul_id = seoul.org.id.to_string();
    let req = |deadline: &'static str| {
        form(&[
            ("addressee_org_id", seoul_id.as_str()),
            ("legal_basis", "Regulation (EU) 2023/1781, Art. 25(1)"),
            ("purpose", "EUV capacity monitoring"),
            ("scope_items", "N20"),
            ("scope_metrics", "capacity"),
            ("deadline", deadline),
        ])
    };
    let r = post_form(app, "/partner/requests", &req("next week"), hc, ORIGIN).await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "deadline");
    assert!(
        r.body.contains("EUV capacity monitoring"),
        "typed purpose kept"
    );
    let r = post_form(app, "/partner/requests", &req("2031-01-31"), hc, ORIGIN).await;
    redirected(&r, "/partner?done=request-sent#requests");
    let rq = e.store.requests_of(hague.org.id).await.unwrap();
    let rid = rq[0].id;
    let r = get(app, "/partner", sc).await;
    assert!(r.body.contains(&format!(r#"id="respond-{rid}""#)));
    assert!(r
        .body
        .contains(&format!(r#"name="record_id" value="{id}""#)));
    let respond = format!("/partner/requests/{rid}/respond");
    let r = post_form(app, &respond, "", sc, ORIGIN).await;
    refused(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Select at least one record",
    );
    let r = post_form(
        app,
        &respond,
        &form(&[("record_id", &id.to_string())]),
        hc,
        ORIGIN,
    )
    .await;
    assert!(r.status.is_client_error(), "the requester cannot answer");
    let r = post_form(
        app,
        &respond,
        &form(&[("record_id", &id.to_string())]),
        sc,
        ORIGIN,
    )
    .await;
    redirected(&r, "/partner?done=request-answered#requests");
    let r = get(app, "/partner", hc).await;
    assert!(
        r.body
            .contains(&format!("Records provided under request {rid}"))
            && r.body.contains("SeoulFab"),
        "the answer releases every field to the requester"
    );

    // A second request, declined; a third, withdrawn by Hague.
    for (deadline, action, done) in [
        ("2031-02-28", "decline", "request-declined"),
        ("2031-03-31", "withdraw", "request-withdrawn"),
    ] {
        let r = post_form(app, "/partner/requests", &req(deadline), hc, ORIGIN).await;
        redirected(&r, "/partner?done=request-sent#requests");
        let newest = e
            .store
            .requests_of(hague.org.id)
            .await
            .unwrap()
            .into_iter()
            .map(|q| q.id)
            .max()
            .unwrap();
        let who = if action == "decline" { sc } else { hc };
        let r = post_form(
            app,
            &format!("/partner/requests/{newest}/{action}"),
            "",
            who,
            ORIGIN,
        )
        .await;
        redirected(&r, &format!("/partner?done={done}#requests"));
        // Done already: a second time is refused, with the reason at the top of the page.
        let r = post_form(
            app,
            &format!("/partner/requests/{newest}/{action}"),
            "",
            who,
            ORIGIN,
        )
        .await;
        assert!(r.status.is_client_error(), "{action} twice: {}", r.status);
        assert!(r.body.contains("Not done:"), "{}", r.body);
    }

    // An answered record cannot be deleted or edited; an unattached one can be deleted.
    let r = post_form(
        app,
        &format!("/partner/records/{id}/delete"),
        "",
        sc,
        ORIGIN,
    )
    .await;
    refused(&r, StatusCode::CONFLICT, "request");
    let r = post_form(app, &edit, &form(&record_form("1", "KOR")), sc, ORIGIN).await;
    refused(&r, StatusCode::CONFLICT, "publish a new record instead");
    let r = post_form(
        app,
        "/partner/records",
        &form(&record_form("7", "KOR")),
        sc,
        ORIGIN,
    )
    .await;
    redirected(&r, "/partner?done=record-published#records");
    let spare = e
        .store
        .records_of_orgs(&[seoul.org.id], None, None)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .max()
        .unwrap();
    let r = post_form(
        app,
        &format!("/partner/records/{spare}/delete"),
        "",
        hc,
        ORIGIN,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "not Hague's record");
    let r = post_form(
        app,
        &format!("/partner/records/{spare}/delete"),
        "",
        sc,
        ORIGIN,
    )
    .await;
    redirected(&r, "/partner?done=record-deleted#records");
    assert!(e.store.record_raw(spare).await.unwrap().is_none());

    // Revoking: Hague cannot revoke Seoul's grant; Seoul can, and Hague loses access.
    let ag = e.store.agreements_of(seoul.org.id).await.unwrap()[0].id;
    let r = post_form(
        app,
        &format!("/partner/agreements/{ag}/revoke"),
        "",
        hc,
        ORIGIN,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = post_form(
        app,
        &format!("/partner/agreements/{ag}/revoke"),
        "",
        sc,
        ORIGIN,
    )
    .await;
    redirected(&r, "/partner?done=agreement-revoked#agreements");
    let r = get(app, "/partner", hc).await;
    let shared = r.body.split(r#"id="shared""#).nth(1).unwrap();
    let shared = shared.split(r#"id="aggregates""#).next().unwrap();
    assert!(!shared.contains("43000"), "{shared}");
}

#[tokio::test]
async fn viewers_get_no_forms_and_analysts_no_agreement_form() {
    let e = env().await;
    let app = &e.app;
    let (seoul, _) = org(&e.store, "Ministry Seoul").await;
    let (hague, _) = org(&e.store, "Ministry Hague").await;
    let viewer = user_token(&e.store, &seoul, "lee", Role::Viewer).await;
    let analyst = user_token(&e.store, &seoul, "park", Role::Analyst).await;
    let v = sign_in(app, &viewer).await;
    let a = sign_in(app, &analyst).await;

    let r = get(app, "/partner", Some(&v)).await;
    page_ok(&r);
    assert!(!r.body.contains(r#"method="post" action="/partner/"#));
    assert!(r.body.contains("needs the analyst role") && r.body.contains("needs the admin role"));
    let r = post_form(
        app,
        "/partner/records",
        &form(&record_form("1", "KOR")),
        Some(&v),
        ORIGIN,
    )
    .await;
    refused(&r, StatusCode::FORBIDDEN, "analyst");
    assert!(e
        .store
        .records_of_orgs(&[seoul.org.id], None, None)
        .await
        .unwrap()
        .is_empty());

    let r = get(app, "/partner", Some(&a)).await;
    assert!(r.body.contains(r#"action="/partner/records""#));
    assert!(r.body.contains(r#"action="/partner/requests""#));
    assert!(!r.body.contains(r#"action="/partner/agreements""#));
    let r = post_form(
        app,
        "/partner/agreements",
        &form(&[("grantee_org_id", &hague.org.id.to_string())]),
        Some(&a),
        ORIGIN,
    )
    .await;
    refused(&r, StatusCode::FORBIDDEN, "admin");
    assert!(e
        .store
        .agreements_of(seoul.org.id)
        .await
        .unwrap()
        .is_empty());
}
