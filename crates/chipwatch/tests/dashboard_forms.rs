//! End-to-end test of the partner exchange's forms in headless Chromium, with two organisations
//! on the real `chipwatch serve`: each form with bad input (refused by the server with the
//! message beside the form and the values kept) and good input, and what each organisation sees
//! afterwards, including the owner's list of who read its records. Screenshots go to
//! `e2e-screenshots/forms-*.png`. Skipped, with a note, without chromedriver and Chromium.

mod e2e;
use e2e::*;

fn sign_in(d: &Driver, base: &str, token: &str) {
    d.go(base, "/login?next=%2Fpartner");
    d.type_into("#token", token);
    d.click("form[action=\"/login\"] button[type=submit]");
    d.wait_url("the partner page", |u| u.ends_with("/partner"));
}

fn sign_out(d: &Driver) {
    d.click("form[action=\"/logout\"] button");
    d.wait_url("the sign-out redirect", |u| u.ends_with('/'));
}

/// The text of the page section that starts at the element with `id` and ends at `next`.
fn section(d: &Driver, id: &str, next: &str) -> String {
    let src = d.source();
    let from = src
        .split(&format!("id=\"{id}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no #{id}"));
    from.split(&format!("id=\"{next}\""))
        .next()
        .unwrap()
        .to_string()
}

fn fill_record(d: &Driver, provider: &str, value: &str) {
    d.type_into("#r-item", "N20");
    d.type_into("#r-metric", "capacity");
    d.type_into("#r-value", value);
    d.type_into("#r-unit", "wafers/month");
    d.type_into("#r-period", "2025-Q2");
    d.type_into("#r-provider", provider);
    d.type_into("#r-country", "KOR");
    d.type_into("#r-provenance", "e2e form");
    d.choose("#r-dist", &["community"]);
}

#[test]
fn partner_forms_in_chromium_for_two_organisations() {
    let tmp = tempfile::tempdir().unwrap();
    let shots = workspace().join("e2e-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let Some(d) = start_driver(shots, &tmp.path().join("profile")) else {
        eprintln!("note: chromedriver or chromium not installed; partner forms end-to-end test skipped (apt-get install chromium chromium-driver)");
        return;
    };
    let db = tmp.path().join("forms.db").display().to_string();
    let mut tokens = Vec::new();
    for (org, user) in [("Ministry Seoul", "kim"), ("Ministry Hague", "jansen")] {
        cli(&db, &["admin", "org", "create", org]);
        cli(
            &db,
            &[
                "admin", "user", "create", "--org", org, "--name", user, "--role", "admin",
            ],
        );
        tokens.push(cli(
            &db,
            &["admin", "token", "create", "--org", org, "--user", user],
        ));
    }
    let (seoul, hague) = (&tokens[0], &tokens[1]);
    let srv = start_server(&db);
    let base = format!("http://{}", srv.addr);
    let a = &srv.addr;
    let hague_org = api(a, "GET", "/api/v1/me", hague, None)["org"]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let seoul_org = api(a, "GET", "/api/v1/me", seoul, None)["org"]["id"]
        .as_i64()
        .unwrap()
        .to_string();

    // Seoul publishes a record: a value that is not a number is refused, with the typed values
    // kept; corrected, it is published.
    sign_in(&d, &base, seoul);
    fill_record(&d, "SeoulFab-Form", "lots");
    d.click("#record-form button[type=submit]");
    d.wait_text("the refusal", |t| {
        t.contains("Not saved: Value: `lots` is not a number")
    });
    assert!(
        d.source().contains("value=\"SeoulFab-Form\""),
        "typed values kept"
    );
    d.screenshot("forms-01-record-refused");
    d.type_into("#r-value", "41000");
    d.click("#record-form button[type=submit]");
    d.wait_url("the confirmation", |u| u.contains("done=record-published"));
    let t = d.text();
    assert!(
        t.contains("Record published.") && t.contains("41000"),
        "{t}"
    );
    let own = api(a, "GET", "/api/v1/records?scope=own", seoul, None);
    let rec = own["records"][0]["id"].as_i64().unwrap();

    // Edit it through the row's link.
    d.click(&format!("a[href=\"/partner?edit={rec}#record-form\"]"));
    d.wait_url("the edit form", |u| u.contains(&format!("edit={rec}")));
    assert!(d.text().contains(&format!("Edit record {rec}")));
    d.type_into("#r-value", "42000");
    d.click("#record-form button[type=submit]");
    d.wait_url("the confirmation", |u| u.contains("done=record-updated"));
    let t = d.text();
    assert!(t.contains("Record updated.") && t.contains("42000") && !t.contains("41000"));
    d.screenshot("forms-02-record-updated");

    // An agreement for Hague: a minimum number of firms that is not a number is refused; then
    // a firm-level grant of value, unit and period of N20.
    d.choose("#a-grantee", &[&hague_org]);
    d.type_into("#a-items", "N20");
    d.choose("#a-gran", &["country"]);
    d.type_into("#a-min", "many");
    d.click("#agreement-form button[type=submit]");
    d.wait_text("the refusal", |t| {
        t.contains("Not saved: Minimum firms: `many` is not a whole number")
    });
    d.screenshot("forms-03-agreement-refused");
    d.choose("#a-gran", &["firm"]);
    d.type_into("#a-min", "");
    d.click("#agreement-form button[type=submit]");
    d.wait_url("the confirmation", |u| u.contains("done=agreement-granted"));
    assert!(d.text().contains("Agreement granted."));

    // A request to Hague: a deadline in the past is refused; a future one is sent.
    d.choose("#q-to", &[&hague_org]);
    d.type_into("#q-basis", "Regulation (EU) 2023/1781, Art. 25(1)");
    d.type_into("#q-items", "N21");
    d.type_into("#q-metrics", "capacity");
    d.type_into("#q-purpose", "ArF capacity for the alliance's monitoring");
    d.set_value("#q-deadline", "2020-01-31");
    d.click("#request-form button[type=submit]");
    let t = d.wait_text("the refusal", |t| t.contains("Not saved:"));
    assert!(t.contains("deadline must be in the future"), "{t}");
    assert!(
        t.contains("ArF capacity for the alliance"),
        "typed purpose kept"
    );
    d.screenshot("forms-04-request-refused");
    d.set_value("#q-deadline", "2031-01-31");
    d.click("#request-form button[type=submit]");
    d.wait_url("the confirmation", |u| u.contains("done=request-sent"));
    assert!(d.text().contains("Information request sent."));
    sign_out(&d);

    // Hague: sees the agreed fields of Seoul's record, not the provider; answers the request.
    sign_in(&d, &base, hague);
    let shared = section(&d, "shared", "aggregates");
    assert!(
        shared.contains("42000") && !shared.contains("SeoulFab-Form"),
        "{shared}"
    );
    let req = api(a, "GET", "/api/v1/requests", hague, None)["requests"][0]["id"]
        .as_i64()
        .unwrap();
    assert!(d
        .text()
        .contains("None of your records is inside this request's scope"));
    d.type_into("#r-item", "N21");
    d.type_into("#r-metric", "capacity");
    d.type_into("#r-value", "12");
    d.type_into("#r-unit", "tools/year");
    d.type_into("#r-period", "2025");
    d.type_into("#r-provenance", "e2e form");
    d.click("#record-form button[type=submit]");
    d.wait_url("the confirmation", |u| u.contains("done=record-published"));
    let mine = api(a, "GET", "/api/v1/records?scope=own", hague, None);
    let hrec = mine["records"][0]["id"].as_i64().unwrap();
    let answer = format!(
        "#respond-{req} form[action=\"/partner/requests/{req}/respond\"] button[type=submit]"
    );
    d.click(&answer);
    d.wait_text("the refusal", |t| {
        t.contains("Not saved: Select at least one record to send")
    });
    d.screenshot("forms-05-answer-refused");
    d.click(&format!(
        "#respond-{req} input[name=\"record_id\"][value=\"{hrec}\"]"
    ));
    d.click(&answer);
    d.wait_url("the confirmation", |u| u.contains("done=request-answered"));
    assert!(d
        .text()
        .contains("Request answered with the selected records."));
    d.screenshot("forms-06-hague");
    sign_out(&d);

    // Seoul: who read its record, the answer to its request; then it revokes and deletes.
    sign_in(&d, &base, seoul);
    let readers = section(&d, "readers", "audit");
    assert!(
        readers.contains("jansen (Ministry Hague)") && readers.contains("list of shared records"),
        "{readers}"
    );
    let t = d.text();
    assert!(
        t.contains(&format!("Records provided under request {req}")) && t.contains("tools/year"),
        "{t}"
    );
    d.go(&base, "/partner#readers");
    d.screenshot("forms-07-seoul-readers");
    let ag = api(a, "GET", "/api/v1/agreements", seoul, None)["agreements"][0]["id"]
        .as_i64()
        .unwrap();
    d.click(&format!(
        "form[action=\"/partner/agreements/{ag}/revoke\"] button"
    ));
    d.wait_url("the confirmation", |u| u.contains("done=agreement-revoked"));
    assert!(d.text().contains("Agreement revoked"));
    d.click(&format!(
        "form[action=\"/partner/records/{rec}/delete\"] button"
    ));
    d.wait_url("the confirmation", |u| u.contains("done=record-deleted"));
    assert!(!d.text().contains("42000"));
    d.screenshot("forms-08-seoul-after");
    sign_out(&d);

    // Hague no longer sees Seoul's record. It sends two more requests through the API; Seoul
    // declines one in the browser and Hague withdraws the other.
    sign_in(&d, &base, hague);
    assert!(!section(&d, "shared", "aggregates").contains("42000"));
    let mut more = Vec::new();
    for purpose in ["to be declined", "to be withdrawn"] {
        let r = api(
            a,
            "POST",
            "/api/v1/requests",
            hague,
            Some(serde_json::json!({
            "addressee_org_id": seoul_org.parse::<i64>().unwrap(),
            "legal_basis": "Regulation (EU) 2023/1781, Art. 25(1)", "purpose": purpose,
            "scope_items": ["N20"], "scope_metrics": ["capacity"], "deadline": "2031-06-30"})),
        );
        more.push(r["id"].as_i64().unwrap());
    }
    d.go(&base, "/partner");
    d.click(&format!(
        "form[action=\"/partner/requests/{}/withdraw\"] button",
        more[1]
    ));
    d.wait_url("the confirmation", |u| u.contains("done=request-withdrawn"));
    let t = d.text();
    assert!(
        t.contains("Request withdrawn") && t.contains("withdrawn"),
        "{t}"
    );
    sign_out(&d);
    sign_in(&d, &base, seoul);
    assert!(
        !d.source().contains(&format!("id=\"respond-{}\"", more[1])),
        "a withdrawn request has no answer form"
    );
    d.click(&format!(
        "form[action=\"/partner/requests/{}/decline\"] button",
        more[0]
    ));
    d.wait_url("the confirmation", |u| u.contains("done=request-declined"));
    let t = d.text();
    assert!(
        t.contains("Request declined.") && t.contains("declined"),
        "{t}"
    );
    d.screenshot("forms-09-seoul-declined");
}
