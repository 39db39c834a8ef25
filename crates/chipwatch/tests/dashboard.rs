//! End-to-end test of the web dashboard: the real `chipwatch` binary serves a temporary SQLite
//! database on 127.0.0.1, organisations, users and tokens come from the CLI, records, an
//! agreement and an information request from the API, events from `chipwatch monitor ingest`;
//! headless Chromium (driven through chromedriver's W3C WebDriver API) visits every page, runs a
//! scenario, checks a licence, filters events, and signs in as two organisations to confirm each
//! sees only its own and agreed data. Screenshots go to `e2e-screenshots/` (git-ignored) at the
//! workspace root.
//!
//! Skipped, with a note, when `chromedriver` or Chromium is not installed (`.ci/run` installs
//! the Debian packages `chromium` and `chromium-driver`). The WebDriver client is a few plain
//! HTTP/1.1 calls over `std::net`, so the test needs no extra crates.

mod e2e;
use e2e::*;
use serde_json::json;
use std::process::Command;

#[test]
fn dashboard_end_to_end_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let shots = workspace().join("e2e-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = tmp.path().join("chromium-profile");
    let Some(d) = start_driver(shots.clone(), &profile) else {
        eprintln!("note: chromedriver or chromium not installed; dashboard end-to-end test skipped (apt-get install chromium chromium-driver)");
        return;
    };

    // Tenants, users and tokens through the CLI.
    let db = tmp.path().join("e2e.db").display().to_string();
    cli(&db, &["admin", "org", "create", "Ministry Seoul"]);
    cli(&db, &["admin", "org", "create", "Ministry Hague"]);
    cli(
        &db,
        &[
            "admin",
            "user",
            "create",
            "--org",
            "Ministry Seoul",
            "--name",
            "kim",
            "--role",
            "admin",
        ],
    );
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
            "admin",
        ],
    );
    let seoul = cli(
        &db,
        &[
            "admin",
            "token",
            "create",
            "--org",
            "Ministry Seoul",
            "--user",
            "kim",
        ],
    );
    let hague = cli(
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
    // Events: the two Chinese seeds and an English page, with a watchlist raising alerts.
    let fx = workspace().join("tests/fixtures");
    let out = Command::new(bin())
        .args(["monitor", "ingest", "--db", &db, "--watch"])
        .arg(fx.join("web/watchlist.toml"))
        .arg(fx.join("monitor/seeds"))
        .arg(fx.join("web/fab-fire-en.html"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ingest: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let srv = start_server(&db);
    let base = format!("http://{}", srv.addr);
    let a = &srv.addr;
    let seoul_org = api(a, "GET", "/api/v1/me", &seoul, None)["org"]["id"]
        .as_i64()
        .unwrap();
    let hague_org = api(a, "GET", "/api/v1/me", &hague, None)["org"]["id"]
        .as_i64()
        .unwrap();
    let rec = |item: &str, provider: &str, value: f64| {
        json!({"item": item, "provider": provider, "country": "KOR", "metric": "capacity", "value": value, "unit": "wafers/month",
               "period": "2025-Q1", "provenance": "e2e survey", "distribution": "community"})
    };
    api(
        a,
        "POST",
        "/api/v1/records",
        &seoul,
        Some(rec("N22", "SeoulFab-Private", 41000.0)),
    );
    api(
        a,
        "POST",
        "/api/v1/records",
        &hague,
        Some(rec("N20", "HagueFab-Shared", 52000.0)),
    );
    api(
        a,
        "POST",
        "/api/v1/records",
        &hague,
        Some(rec("N26", "HagueFab-Unshared", 63000.0)),
    );
    api(
        a,
        "POST",
        "/api/v1/agreements",
        &hague,
        Some(
            json!({"grantee_org_id": seoul_org, "items": ["N20"], "metrics": ["*"], "fields": ["value", "unit", "period"]}),
        ),
    );
    api(
        a,
        "POST",
        "/api/v1/requests",
        &seoul,
        Some(
            json!({"addressee_org_id": hague_org, "legal_basis": "Regulation (EU) 2023/1781, Art. 25(1)",
        "purpose": "EUV tool capacity monitoring", "scope_items": ["N20"], "scope_metrics": ["capacity"], "deadline": "2030-01-31"}),
        ),
    );

    // Overview: diagram, chokepoints, world view; the skip link is the first Tab stop.
    d.go(&base, "/");
    let t = d.text();
    assert!(
        t.contains("Semiconductor value chain")
            && t.contains("Top chokepoints")
            && t.contains("Who supplies what"),
        "{t}"
    );
    assert!(d.source().contains("Logic-chip value chain"));
    d.screenshot("01-overview");
    d.press_tab();
    assert_eq!(d.active_element_text(), "Skip to main content");
    // On a wide screen the whole value-chain diagram fits without scrolling.
    d.cmd(
        "POST",
        "/window/rect",
        json!({"width": 1920, "height": 1100}),
    );
    d.go(&base, "/");
    d.screenshot("00-overview-wide");
    d.cmd(
        "POST",
        "/window/rect",
        json!({"width": 1366, "height": 900}),
    );

    // Item page, reached through the chokepoint table's link.
    d.click("a[href=\"/item/N20\"]");
    d.wait_url("the item page", |u| u.ends_with("/item/N20"));
    let t = d.text();
    assert!(
        t.contains("N20 EUV lithography tools") && t.contains("By firm") && t.contains("ASML"),
        "{t}"
    );
    d.screenshot("02-item-N20");

    // Search from the navigation with the keyboard only: after the skip link, the brand and the
    // navigation links, the next Tab stop is the search box; Enter submits it.
    d.go(&base, "/item/N20");
    for _ in 0..chipwatch_server::web::NAV.len() + 3 {
        d.press_tab();
    }
    assert_eq!(d.active_element_attr("id"), "nav-q");
    d.type_into("#nav-q", "ASML");
    d.press_key("\u{E007}");
    d.wait_url("the search results", |u| u.contains("/search?q=ASML"));
    let t = d.text();
    assert!(
        t.contains("Firm") && t.contains("Netherlands (NLD)") && t.contains("Item"),
        "{t}"
    );
    d.screenshot("12-search-ASML");
    // Firm page from the search result, then its HQ country's page.
    d.click("a[href=\"/firms/P88\"]");
    d.wait_url("the firm page", |u| u.ends_with("/firms/P88"));
    let t = d.text();
    assert!(
        t.contains("What it supplies")
            && t.contains("Restricted-party list status")
            && t.contains("No match for ASML"),
        "{t}"
    );
    d.screenshot("13-firm-ASML");
    d.click("main a[href=\"/countries/NLD\"]");
    d.wait_url("the country page", |u| u.ends_with("/countries/NLD"));
    let t = d.text();
    assert!(
        t.contains("Netherlands (NLD)")
            && t.contains("What it depends on")
            && t.contains("Measures it imposes")
            && t.contains("Measures it faces"),
        "{t}"
    );
    d.screenshot("14-country-NLD");

    // Scenario builder: block EUV tools from NLD to CHN and run.
    d.go(&base, "/scenario");
    d.type_into("#name", "EUV block NLD to CHN");
    d.choose("#s0_kind", &["export_block"]);
    d.choose("#s0_from", &["NLD"]);
    d.choose("#s0_to", &["CHN"]);
    d.choose("#s0_items", &["N20"]);
    d.click("form[action=\"/scenario\"] button[type=submit]");
    d.wait_url("the scenario result", |u| u.contains("run=1"));
    let t = d.text();
    assert!(
        t.contains("Result: EUV block NLD to CHN") && t.contains("Binding-constraint chains"),
        "{t}"
    );
    assert!(
        d.url().contains("s0_from=NLD"),
        "the scenario is in the URL"
    );
    d.screenshot("03-scenario");
    // The same page as printed (print stylesheet: no navigation or forms).
    d.cdp("Emulation.setEmulatedMedia", json!({"media": "print"}));
    d.screenshot("03-scenario-print");
    d.cdp("Emulation.setEmulatedMedia", json!({"media": ""}));

    // Licence check of an ASML immersion scanner to China.
    d.go(&base, "/licence");
    d.click("#product option[value*=\"NXT:2000i\"]");
    d.type_into("#from", "NLD");
    d.type_into("#to", "CHN");
    d.click("form[action=\"/licence\"] button[type=submit]");
    d.wait_url("the licence verdict", |u| u.contains("from=NLD"));
    let t = d.text();
    assert!(
        t.contains("Verdict:") && t.to_lowercase().contains("licence required"),
        "{t}"
    );
    d.screenshot("04-licence");

    d.go(
        &base,
        "/screening?names=Huawei%20Technologies%0ASemiconductor%20Manufacturing%20International",
    );
    assert!(d.text().contains("match"));
    d.screenshot("05-screening");

    d.go(
        &base,
        "/measures?measure=NL-semiconductor-equipment&date=2024-06-01",
    );
    let t = d.text();
    assert!(
        t.contains("Impact of NL-semiconductor-equipment") && t.contains("Who is hit"),
        "{t}"
    );
    d.screenshot("06-measure-impact");

    // Monitor: filter to Chinese-language events.
    d.go(&base, "/monitor?all=1");
    let all = d.text();
    assert!(
        all.contains("Events") && all.contains("Alerts") && all.contains("Clusters"),
        "{all}"
    );
    d.choose("#lang", &["zh"]);
    d.click("form[action=\"/monitor\"] button[type=submit]");
    d.wait_url("the filtered feed", |u| u.contains("lang=zh"));
    assert!(d.url().contains("lang=zh"));
    let zh = d.text();
    assert!(
        zh.contains("language zh") && !zh.contains("language en"),
        "{zh}"
    );
    d.screenshot("07-monitor-zh");
    d.go(&base, "/monitor?all=1");
    d.screenshot("08-monitor-all");

    // Partner exchange: login required, then each organisation sees its own and agreed data.
    d.go(&base, "/partner");
    assert!(d.url().contains("/login?next=%2Fpartner"), "{}", d.url());
    d.screenshot("09-login");
    d.type_into("#token", &seoul);
    d.click("form[action=\"/login\"] button[type=submit]");
    d.wait_url("the partner page", |u| u.ends_with("/partner"));
    let t = d.text();
    assert!(
        t.contains("Partner exchange: Ministry Seoul")
            && t.contains("SeoulFab-Private")
            && t.contains("52000"),
        "{t}"
    );
    assert!(
        !t.contains("HagueFab-Shared") && !t.contains("HagueFab-Unshared") && !t.contains("63000"),
        "{t}"
    );
    assert!(
        t.contains("EUV tool capacity monitoring") && t.contains("2030-01-31"),
        "the request with its deadline"
    );
    d.screenshot("10-partner-seoul");
    d.click("form[action=\"/logout\"] button");
    d.wait_url("the sign-out redirect", |u| u.ends_with('/'));
    d.go(&base, "/login?next=%2Fpartner");
    d.type_into("#token", &hague);
    d.click("form[action=\"/login\"] button[type=submit]");
    d.wait_url("the partner page", |u| u.ends_with("/partner"));
    let t = d.text();
    assert!(
        t.contains("Partner exchange: Ministry Hague")
            && t.contains("HagueFab-Shared")
            && t.contains("HagueFab-Unshared"),
        "{t}"
    );
    assert!(
        !t.contains("SeoulFab-Private") && !t.contains("41000"),
        "{t}"
    );
    assert!(t.contains("granted by you") && t.contains("Audit trail"));
    // The audit trail names users and organisations, with details as fields, and the open
    // request's deadline is in words.
    assert!(
        t.contains("jansen (Ministry Hague)") && !t.contains("org:") && !t.contains("{\""),
        "{t}"
    );
    assert!(t.contains("days left)"), "{t}");
    d.screenshot("11-partner-hague");
    eprintln!("screenshots in {}", shots.display());
}
