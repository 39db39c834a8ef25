//! End-to-end test of the denial notices page and the licence check's partner-denial box in
//! headless Chromium on the real `chipwatch serve`, with two organisations: BAFA publishes a
//! notice through the form (a bad destination is refused with the values kept), an agreement
//! releases it to MOTIE, MOTIE's licence check for a variant spelling of the end user shows it
//! above the verdicts, and BAFA's withdrawal through the form ends the match. Screenshots go to
//! `e2e-screenshots/denials-*.png`. Skipped, with a note, without chromedriver and Chromium.

mod e2e;
use e2e::*;
use serde_json::json;

fn sign_in(d: &Driver, base: &str, token: &str) {
    d.go(base, "/login?next=%2Flicence%2Fdenials");
    d.type_into("#token", token);
    d.click("form[action=\"/login\"] button[type=submit]");
    d.wait_url("the denial notices page", |u| {
        u.ends_with("/licence/denials")
    });
}

#[test]
fn denial_notices_in_chromium_for_two_organisations() {
    let tmp = tempfile::tempdir().unwrap();
    let shots = workspace().join("e2e-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let Some(d) = start_driver(shots, &tmp.path().join("profile")) else {
        eprintln!("note: chromedriver or chromium not installed; denial notices end-to-end test skipped (apt-get install chromium chromium-driver)");
        return;
    };
    let db = tmp.path().join("denials.db").display().to_string();
    let mut tokens = Vec::new();
    for (org, user) in [("BAFA", "weber"), ("MOTIE", "kim")] {
        cli(&db, &["admin", "org", "create", org]);
        cli(
            &db,
            &[
                "admin", "user", "create", "--org", org, "--name", user, "--role", "analyst",
            ],
        );
        tokens.push(cli(
            &db,
            &["admin", "token", "create", "--org", org, "--user", user],
        ));
    }
    // Agreements are granted by admins.
    cli(
        &db,
        &[
            "admin", "user", "create", "--org", "BAFA", "--name", "boss", "--role", "admin",
        ],
    );
    let admin = cli(
        &db,
        &[
            "admin", "token", "create", "--org", "BAFA", "--user", "boss",
        ],
    );
    let (de, kr) = (&tokens[0], &tokens[1]);
    let srv = start_server(&db);
    let base = format!("http://{}", srv.addr);
    let a = &srv.addr;

    // BAFA publishes: a destination that is not a code is refused, values kept; then accepted.
    sign_in(&d, &base, de);
    d.type_into("#reference", "BAFA-2025-0042");
    d.type_into("#authority", "BAFA");
    d.type_into("#jurisdiction", "DEU");
    d.set_value("#denied_on", "2025-03-14");
    d.type_into("#destination", "XX");
    d.type_into("#description", "DUV immersion scanner");
    d.type_into("#product", "NXT:2000i");
    d.type_into(
        "#end_user",
        "Shanghai Micro Electronics Equipment Co., Ltd.",
    );
    d.type_into("#end_user_aliases", "SMEE");
    d.choose("#reason_category", &["military_end_use"]);
    d.type_into("#reason", "supplies military programmes");
    d.choose("#distribution", &["community"]);
    d.click("form[action=\"/licence/denials\"] button[type=submit]");
    d.wait_text("the refusal", |t| t.contains("destination"));
    assert!(
        d.source().contains("value=\"BAFA-2025-0042\""),
        "typed values kept"
    );
    d.screenshot("denials-01-refused");
    d.type_into("#destination", "CHN");
    d.set_value("#denied_on", "2025-03-14");
    d.click("form[action=\"/licence/denials\"] button[type=submit]");
    d.wait_url("the confirmation", |u| u.contains("done=published"));
    let t = d.text();
    assert!(
        t.contains("Denial notice published.") && t.contains("BAFA-2025-0042"),
        "{t}"
    );
    d.screenshot("denials-02-published");

    // Released to MOTIE with the end user, not the reason.
    let kr_org = api(a, "GET", "/api/v1/me", kr, None)["org"]["id"]
        .as_i64()
        .unwrap();
    let ag = api(
        a,
        "POST",
        "/api/v1/agreements",
        &admin,
        Some(json!({"grantee_org_id": kr_org,
        "items": ["*"], "metrics": ["denial_notice"], "fields": ["end_user"]})),
    );
    assert!(ag["id"].is_i64(), "{ag}");
    d.click("form[action=\"/logout\"] button");
    d.wait_url("the sign-out redirect", |u| u.ends_with('/'));
    sign_in(&d, &base, kr);
    let t = d.text();
    assert!(
        t.contains("BAFA-2025-0042") && t.contains("withheld by the agreement"),
        "{t}"
    );
    assert!(!t.contains("supplies military programmes"));

    // MOTIE's licence check for a variant spelling shows the partner's denial first.
    d.go(&base, "/licence?product=ASML+TWINSCAN+NXT%3A2000i&from=NLD&to=CHN&date=2026-06-01&end_user=SHANGHAI+MICROELECTRONICS+EQUIPMENT+CO+LTD");
    let t = d.wait_text("the partner denials", |t| t.contains("Partner denials"));
    assert!(
        t.contains("consult the issuing authority before granting"),
        "{t}"
    );
    let src = d.source();
    assert!(
        src.find("id=\"partner-denials\"").unwrap()
            < src.find("class=\"badge").unwrap_or(usize::MAX),
        "the denials come before the verdicts"
    );
    d.screenshot("denials-03-licence-check");

    // BAFA withdraws it through the form; MOTIE's check no longer matches.
    d.click("form[action=\"/logout\"] button");
    d.wait_url("the sign-out redirect", |u| u.ends_with('/'));
    sign_in(&d, &base, de);
    let id = api(a, "GET", "/api/v1/licences/denials?scope=own", de, None)["denials"][0]["id"]
        .as_i64()
        .unwrap();
    d.set_value(&format!("#w-on-{id}"), "2025-09-01");
    d.type_into(&format!("#w-reason-{id}"), "end user left the programme");
    d.click(&format!(
        "form[action=\"/licence/denials/{id}/withdrawal\"] button"
    ));
    d.wait_url("the confirmation", |u| u.contains("done=withdrawn"));
    assert!(d.text().contains("withdrawn 2025-09-01"));
    d.screenshot("denials-04-withdrawn");
    let v = api(
        a,
        "POST",
        "/api/v1/licence/check",
        kr,
        Some(json!({"product": "NXT:2000i",
        "from": "NLD", "to": "CHN", "date": "2026-06-01", "end_user": "SMEE"})),
    );
    assert_eq!(v["partner_denials"], json!([]), "{v}");
}
