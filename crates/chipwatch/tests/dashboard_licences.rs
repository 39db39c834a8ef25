//! End-to-end test of the licence register's pages in headless Chromium on the real
//! `chipwatch serve`: a licence registered through the API, the register with a filter, the
//! licence page on a date, a shipment drawn through the form, an over-quantity shipment refused
//! with the limit beside the form, a proposed partial revocation's impact (nothing recorded),
//! then the revocation recorded. Screenshots go to `e2e-screenshots/licences-*.png`. Skipped,
//! with a note, without chromedriver and Chromium.

mod e2e;
use e2e::*;
use serde_json::json;

const GAMMA: &str = "Gamma Semiconductor Co., Ltd.";
const DELTA: &str = "Delta Integrated Circuit Co., Ltd.";

#[test]
fn licence_register_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let shots = workspace().join("e2e-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let Some(d) = start_driver(shots, &tmp.path().join("profile")) else {
        eprintln!("note: chromedriver or chromium not installed; licence register end-to-end test skipped (apt-get install chromium chromium-driver)");
        return;
    };
    let db = tmp.path().join("licences.db").display().to_string();
    cli(&db, &["admin", "org", "create", "Ministry Hague"]);
    cli(
        &db,
        &[
            "admin",
            "user",
            "create",
            "--org",
            "Ministry Hague",
            "--name",
            "jansen",
            "--role",
            "analyst",
        ],
    );
    let token = cli(
        &db,
        &[
            "admin",
            "token",
            "create",
            "--org",
            "Ministry Hague",
            "--user",
            "jansen",
        ],
    );
    let srv = start_server(&db);
    let base = format!("http://{}", srv.addr);
    let a = &srv.addr;

    // Registered through the API.
    let licence = json!({
        "number": "NL-2023-EX-0042",
        "authority": "Ministerie van Buitenlandse Zaken, CDIU (fictitious example)",
        "jurisdiction": "NLD", "kind": "global", "holder": "Example Lithography B.V.",
        "consignees": [GAMMA, DELTA], "end_users": [GAMMA, DELTA],
        "items": [
            {"id": "1", "description": "ArF immersion scanner", "product": "NXT:2000i",
             "control_entry": "3B001.f.1", "quantity": 5, "value": 400},
            {"id": "2", "description": "ArF immersion scanner", "product": "NXT:1980Di",
             "quantity": 8, "value": 300}
        ],
        "destinations": ["CHN"], "value_ceiling": 800, "currency": "EUR million",
        "granted_on": "2023-06-20", "valid_from": "2023-07-01", "valid_until": "2024-12-31",
        "legal_basis": {"measure_id": "NL-semiconductor-equipment",
                        "version": "2023 (Stcrt. 2023, 18212)"}
    });
    let created = api(a, "POST", "/api/v1/licences", &token, Some(licence));
    let id = created["id"].as_i64().unwrap();

    d.go(&base, "/login?next=%2Flicences");
    d.type_into("#token", &token);
    d.click("form[action=\"/login\"] button[type=submit]");
    d.wait_url("the register", |u| u.ends_with("/licences"));

    // The register, filtered by product on a date.
    d.set_value("#f-date", "2023-12-01");
    d.type_into("#f-product", "NXT:1980Di");
    d.click("form[action=\"/licences\"] button[type=submit]");
    d.wait_url("the filtered register", |u| u.contains("product="));
    let text = d.wait_text("the register", |t| t.contains("1 licence on 2023-12-01"));
    assert!(
        text.contains("NL-2023-EX-0042") && text.contains("active"),
        "{text}"
    );
    d.screenshot("licences-register");

    // The licence page on that date.
    d.click("#register a");
    d.wait_url("the licence page", |u| {
        u.contains(&format!("/licences/{id}"))
    });
    let text = d.wait_text("the licence page", |t| {
        t.contains("Draw-down on 2023-12-01")
    });
    assert!(text.contains("Status on 2023-12-01: active"), "{text}");

    // A shipment drawn through the form.
    d.type_into("#s-ref", "S-1");
    d.set_value("#s-date", "2023-09-01");
    d.choose("#s-item", &["1"]);
    d.type_into("#s-qty", "2");
    d.type_into("#s-value", "160");
    d.type_into("#s-consignee", GAMMA);
    d.click("#shipment-form button[type=submit]");
    let text = d.wait_text("the drawn shipment", |t| t.contains("Shipment drawn down."));
    assert!(text.contains("S-1: 2 of line 1"), "{text}");
    let drawn = api(
        a,
        "GET",
        &format!("/api/v1/licences/{id}?date=2023-09-01"),
        &token,
        None,
    );
    assert_eq!(drawn["drawdown"]["items"][0]["remaining_quantity"], 3.0);

    // An over-quantity shipment: refused, the limit named beside the form, the values kept.
    d.type_into("#s-ref", "S-2");
    d.set_value("#s-date", "2023-10-01");
    d.choose("#s-item", &["1"]);
    d.type_into("#s-qty", "4");
    d.type_into("#s-consignee", GAMMA);
    d.click("#shipment-form button[type=submit]");
    let text = d.wait_text("the refusal", |t| t.contains("Not recorded"));
    assert!(
        text.contains("Refused: item line `1`: 4 exceeds the 3 left"),
        "{text}"
    );
    assert!(d.source().contains("value=\"S-2\""));
    d.screenshot("licences-refused");
    let after = api(a, "GET", &format!("/api/v1/licences/{id}"), &token, None);
    assert_eq!(
        after["shipments"].as_array().unwrap().len(),
        1,
        "the refusal stored nothing"
    );

    // A proposed partial revocation: its impact, nothing recorded.
    d.go(&base, &format!("/licences/{id}?date=2024-01-01"));
    d.choose("#e-kind", &["partial_revocation"]);
    d.set_value("#e-date", "2024-01-01");
    d.type_into(
        "#e-reason",
        "licence partly revoked for the NXT:2000i and one customer",
    );
    d.type_into("#e-instrument", "decision of the minister (fictitious)");
    d.type_into("#e-items", "1");
    d.type_into("#e-consignees", DELTA);
    d.click("#event-form button[type=submit]");
    let text = d.wait_text("the impact", |t| t.contains("Impact of the proposed"));
    assert!(
        text.contains("Impact of the proposed partial revocation on 2024-01-01"),
        "{text}"
    );
    assert!(text.contains(DELTA), "{text}");
    // Its supply effect through the scenario engine, under the impact.
    assert!(
        text.contains("Supply effect of the proposed decision")
            && text.contains("N22 ArF immersion (DUV) lithography tools")
            && text.contains("the decision names no country, yet one destination (CHN)"),
        "{text}"
    );
    d.screenshot("licences-impact");
    let still = api(a, "GET", &format!("/api/v1/licences/{id}"), &token, None);
    assert!(
        still["events"].as_array().unwrap().is_empty(),
        "the impact recorded nothing"
    );

    // Then recorded, with the form still filled in.
    d.click("#event-form button[formaction]");
    let text = d.wait_text("the recorded event", |t| t.contains("Event recorded."));
    assert!(text.contains("0 (revoked)"), "{text}");
    d.screenshot("licences-licence");
    let done = api(
        a,
        "GET",
        &format!("/api/v1/licences/{id}?date=2024-02-01"),
        &token,
        None,
    );
    assert_eq!(done["events"].as_array().unwrap().len(), 1);

    // A licence check kept as a determination record for a case, then found on the records
    // page.
    d.go(
        &base,
        "/licence?product=NXT%3A2050i&from=NLD&to=CHN&date=2024-10-01&end_user=Gamma+Semiconductor",
    );
    let text = d.wait_text("the licence check", |t| {
        t.contains("Keep this determination for a case")
    });
    // The register's licence for the requirement, named under the verdict.
    assert!(
        text.contains("Licences of your register for these requirements")
            && text.contains("NL-2023-EX-0042"),
        "{text}"
    );
    d.type_into("#case", "CDIU-2024-17");
    d.click("#keep-form button[type=submit]");
    d.wait_url("the records page", |u| u.contains("/licence/records?kept="));
    let text = d.wait_text("the records", |t| t.contains("CDIU-2024-17"));
    assert!(
        text.contains("licence required") && text.contains("NXT:2050i"),
        "{text}"
    );
    d.screenshot("licences-records");
    let recs = api(a, "GET", "/api/v1/licence/records", &token, None);
    assert_eq!(recs["records"][0]["case_ref"], "CDIU-2024-17", "{recs}");
    assert_eq!(done["drawdown"]["items"][0]["revoked"], true);
}
