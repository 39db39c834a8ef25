//! Dashboard tests over the router with `oneshot`: every page answers with its key content,
//! partner data never shows without a session or across organisations, user input is escaped,
//! and sign-in / sign-out manage their own session token.

use crate::{app, AppState};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chipwatch_store::monitor::{NewAlert, NewArticle};
use chipwatch_store::partner::{
    Distribution, Granularity, NewAgreement, NewRecord, OrgKind, Principal, Role,
};
use chipwatch_store::Store;
use http_body_util::BodyExt;
use std::sync::OnceLock;
use tower::ServiceExt;

pub(super) fn model() -> chipwatch_model::ValueChain {
    static M: OnceLock<chipwatch_model::ValueChain> = OnceLock::new();
    M.get_or_init(chipwatch_data::default_model).clone()
}

pub(super) struct Env {
    pub(super) app: Router,
    pub(super) store: Store,
    _dir: tempfile::TempDir,
}

pub(super) async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("web.db").display().to_string())
        .await
        .unwrap();
    let state = AppState::new(store.clone(), model(), "test-web");
    Env {
        app: app(state),
        store,
        _dir: dir,
    }
}

pub(super) struct Resp {
    pub(super) status: StatusCode,
    pub(super) headers: axum::http::HeaderMap,
    pub(super) body: String,
}

pub(super) async fn send(app: &Router, req: Request<Body>) -> Resp {
    let r = app.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub(super) async fn get(app: &Router, path: &str, cookie: Option<&str>) -> Resp {
    let mut b = Request::builder()
        .uri(path)
        .header("host", "127.0.0.1:8080");
    if let Some(c) = cookie {
        b = b.header("cookie", format!("chipwatch_session={c}"));
    }
    send(app, b.body(Body::empty()).unwrap()).await
}

pub(super) async fn post_form(
    app: &Router,
    path: &str,
    body: &str,
    cookie: Option<&str>,
    origin: &str,
) -> Resp {
    let mut b = Request::builder()
        .method("POST")
        .uri(path)
        .header("host", "127.0.0.1:8080")
        .header("origin", origin)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header("cookie", format!("chipwatch_session={c}"));
    }
    send(app, b.body(Body::from(body.to_string())).unwrap()).await
}

/// An organisation with an admin user and its API token.
pub(super) async fn org(store: &Store, name: &str) -> (Principal, String) {
    let o = store
        .create_org(name, OrgKind::Local, "test")
        .await
        .unwrap();
    let u = store
        .create_user(o.id, &format!("{name}-admin"), Role::Admin, "test")
        .await
        .unwrap();
    let secret = crate::auth::new_token_secret();
    store
        .create_token(u.id, &secret, "test", None, "test")
        .await
        .unwrap();
    let p = store.principal_for_secret(&secret).await.unwrap().unwrap();
    (p, secret)
}

pub(super) fn record(
    item: &str,
    provider: &str,
    value: f64,
    distribution: Distribution,
) -> NewRecord {
    NewRecord {
        item: item.into(),
        provider: Some(provider.into()),
        country: Some("KOR".into()),
        metric: "capacity".into(),
        value: Some(value),
        unit: Some("wafers/month".into()),
        period: Some("2025-Q1".into()),
        provenance: Some("survey".into()),
        distribution: Some(distribution),
        ..Default::default()
    }
}

/// Sign in through the form; the session cookie's value.
pub(super) async fn sign_in(app: &Router, token: &str) -> String {
    let r = post_form(
        app,
        "/login",
        &format!("token={token}&next=%2Fpartner"),
        None,
        "http://127.0.0.1:8080",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.headers["location"], "/partner");
    let c = r.headers["set-cookie"].to_str().unwrap().to_string();
    assert!(
        c.contains("HttpOnly") && c.contains("SameSite=Strict"),
        "{c}"
    );
    let v = c
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string();
    assert_ne!(v, token, "the API token itself must not become the cookie");
    v
}

pub(super) fn page_ok(r: &Resp) {
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        &r.body[..r.body.len().min(2000)]
    );
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(r.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    assert!(r.body.starts_with("<!DOCTYPE html>") && r.body.ends_with("</html>"));
    assert!(
        r.body.contains(r##"<a class="skip" href="#main">"##)
            && r.body.contains(r#"<main id="main""#)
    );
    assert!(!r.body.contains("<script"), "no scripts on any page");
}

#[tokio::test]
async fn overview_shows_chain_chokepoints_and_world_view() {
    let e = env().await;
    let r = get(&e.app, "/", None).await;
    page_ok(&r);
    assert!(r.body.contains("Logic-chip value chain"));
    // Every process of the chain is a box linking to its page, inputs coloured by HHI.
    for id in ["N0", "N25", "N69", "N78", "N99", "N117"] {
        assert!(r.body.contains(&format!(r#"href="/item/{id}""#)), "{id}");
    }
    assert!(
        r.body.contains(r#"href="/item/N19""#) && r.body.contains("#f08080"),
        "lithography tools drawn as highly concentrated"
    );
    assert!(r.body.contains("Top chokepoints") && r.body.contains("SPOF"));
    assert!(r.body.contains("Country shares by segment") && r.body.contains("Fab tools"));
    assert!(
        r.body.contains("vintage georgetown-cset/eto-chip-explorer"),
        "provenance line names the dataset vintage"
    );
    assert!(r.body.contains(r#"<a href="/login">Sign in</a>"#));
}

#[tokio::test]
async fn item_page_keeps_country_and_firm_views_apart() {
    let e = env().await;
    let r = get(&e.app, "/item/N20", None).await;
    page_ok(&r);
    assert!(r.body.contains("N20 EUV lithography tools"));
    assert!(r.body.contains("By country, hq basis") && r.body.contains("By firm"));
    // Providers link to their pages; a country's code shows once ("Netherlands (NLD)").
    assert!(r
        .body
        .contains(r#"<td><a href="/countries/NLD">Netherlands (NLD)</a></td>"#));
    assert!(r
        .body
        .contains(r#"<td><a href="/firms/P88">ASML</a> (NLD)</td>"#));
    assert!(!r.body.contains("NLD (NLD)") && !r.body.contains("CHN (CHN)"));
    assert!(r.body.contains("Market size</dt><dd>$13.0B (2025"));
    assert!(r.body.contains("must never be added together"));
    assert!(
        r.body.contains(r#"href="/item/N19""#),
        "taxonomy parent linked"
    );
    assert!(r
        .body
        .contains("ETO/CSET Advanced Semiconductor Supply Chain Dataset"));
    // Lookup by name works too; unknown ids are a 404 page with the input escaped.
    assert_eq!(
        get(&e.app, "/item/EUV%20lithography%20tools", None)
            .await
            .status,
        StatusCode::OK
    );
    let r = get(&e.app, "/item/%3Cscript%3Ex", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("&lt;script&gt;x") && !r.body.contains("<script>x"));
}

#[tokio::test]
async fn item_page_lists_uses_through_a_taxonomy_parent_and_links_sources() {
    let e = env().await;
    // `chipwatch show N31`: used by N25, and N117 via its parent N126. The page says the same.
    let r = get(&e.app, "/item/N31", None).await;
    page_ok(&r);
    let uses = &r.body[r.body.find("<h2>Uses (goes into)</h2>").unwrap()..];
    let uses = &uses[..uses.find("</section>").unwrap()];
    assert!(!uses.contains("none"), "{uses}");
    assert!(uses.contains(r#"href="/item/N25""#), "{uses}");
    assert!(
        uses.contains(r#"href="/item/N117""#)
            && uses.contains(r#"as a type of <a href="/item/N126""#),
        "{uses}"
    );
    // Markdown links in source labels are links, the rest escaped; no brackets left.
    let r = get(&e.app, "/item/N0", None).await;
    page_ok(&r);
    let src = &r.body[r.body.find("<h2>Sources</h2>").unwrap()..];
    assert!(
        src.contains(r#"<a href="https://"#),
        "{}",
        &src[..src.len().min(1500)]
    );
    assert!(
        !src[..src.find("</ul>").unwrap_or(0)].contains("]("),
        "{src}"
    );
}

#[test]
fn source_labels_render_markdown_links_and_escape_the_rest() {
    use super::source_html;
    assert_eq!(
        source_html("[CSET](https://cset.example/x) (citing <SIA> & co)"),
        r#"<a href="https://cset.example/x" rel="noopener noreferrer">CSET</a> (citing &lt;SIA&gt; &amp; co)"#
    );
    // Several addresses in one pair of brackets: the first one is the link.
    assert_eq!(
        source_html("[WSTS](https://a.example/1, https://b.example/2)."),
        r#"<a href="https://a.example/1" rel="noopener noreferrer">WSTS</a>."#
    );
    // Not http(s): stays text, escaped; unbalanced brackets stay text.
    assert_eq!(
        source_html(r#"[x](javascript:alert(1)) [y"#),
        "[x](javascript:alert(1)) [y"
    );
    assert_eq!(
        source_html(r#"[a"b](https://e.example/?q="x")"#),
        r#"<a href="https://e.example/?q=&quot;x&quot;" rel="noopener noreferrer">a&quot;b</a>"#
    );
    assert_eq!(source_html("plain <b>"), "plain &lt;b&gt;");
}

#[tokio::test]
async fn scenario_runs_from_the_query_string_and_escapes_input() {
    let e = env().await;
    let r = get(&e.app, "/scenario", None).await;
    page_ok(&r);
    assert!(
        r.body.contains(r#"<label for="s0_kind">Kind</label>"#)
            && !r.body.contains("id=\"result\"")
    );
    let q = "/scenario?run=1&name=%3Cb%3EEUV%20stop&s0_kind=export_block&s0_from=NLD&s0_to=CHN&s0_items=N20";
    let r = get(&e.app, q, None).await;
    page_ok(&r);
    assert!(r.body.contains("Result: &lt;b&gt;EUV stop") && !r.body.contains("<b>EUV stop"));
    assert!(r.body.contains("<polyline") && r.body.contains("Binding-constraint chains"));
    assert!(
        r.body.contains(r#"<th scope="row">CHN"#),
        "the blocked consumer is listed"
    );
    assert!(r.body.contains("Share this scenario") && r.body.contains("s0_from=NLD"));
    assert!(
        r.body.contains(r#"<option value="NLD" selected>"#),
        "the form keeps the shock"
    );
    // A bad reference names the field and answers 422.
    let r = get(
        &e.app,
        "/scenario?run=1&s0_kind=export_block&s0_from=NLD&s0_items=N%3Cx%3E",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("class=\"error\"") && r.body.contains("N&lt;x&gt;"));
    let r = get(
        &e.app,
        "/scenario?run=1&s0_kind=capacity_loss&s0_items=N20",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("shock 1: choose at least one provider"));
    // The printable report is the chipwatch-report document.
    let r = get(
        &e.app,
        "/scenario/report?s0_kind=export_block&s0_from=NLD&s0_items=N20",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("chipwatch scenario report"));
}

#[test]
fn scenario_params_round_trip() {
    let p = super::Params::parse("run=1&name=x&horizon=90&s0_kind=capacity_loss&s0_from=TWN&s0_from=KOR&s0_items=N22&s0_fraction=0.5&s1_kind=demand_surge&s1_to=USA&s1_items=*&s1_factor=2");
    let sc = super::scenario::from_params(&p).unwrap();
    assert_eq!(sc.horizon_days, 90);
    assert_eq!(
        sc.shocks.len(),
        3,
        "one capacity loss per provider, one surge"
    );
    let back = super::scenario::from_params(&super::Params::parse(&super::query_string(
        &super::scenario::to_params(&sc),
    )))
    .unwrap();
    assert_eq!(back, sc);
    assert!(
        super::scenario::from_params(&super::Params::parse("s0_kind=nuke&s0_items=N1")).is_err()
    );
    assert!(
        super::scenario::from_params(&super::Params::parse("horizon=abc"))
            .unwrap_err()
            .contains("horizon")
    );
}

#[tokio::test]
async fn licence_screening_and_measure_pages() {
    let e = env().await;
    page_ok(&get(&e.app, "/licence", None).await);
    let r = get(
        &e.app,
        "/licence?product=NXT%3A2000i&from=NLD&to=CHN&date=2024-06-01",
        None,
    )
    .await;
    page_ok(&r);
    assert!(
        r.body.contains("Verdict:") && r.body.contains("licence required"),
        "{}",
        &r.body[..3000.min(r.body.len())]
    );
    assert!(r.body.contains("One verdict per jurisdiction") && r.body.contains("NL"));
    // The exporter is named once: "export from NLD", not "export from NLD (NLD)".
    assert!(
        r.body.contains("reaches the shipment: export from NLD") && !r.body.contains("NLD (NLD)"),
        "{}",
        r.body
    );
    let r = get(&e.app, "/licence?from=NLD&to=%3Cx%3E", None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("`&lt;x&gt;` is not an ISO 3166-1 alpha-3"));
    // Fail closed in the dashboard: a typo in a country code is an error naming the field with
    // a suggestion; a missing overlay is an amber "undetermined" naming the value to give.
    let r = get(&e.app, "/licence?product=NXT%3A2000i&from=NLD&to=NDL", None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("`to`") && r.body.contains("NLD (Netherlands"));
    assert!(!r.body.contains("Verdict:"));
    let r = get(
        &e.app,
        "/licence?from=NLD&to=CHN&date=2026-11-21&params=wavelength_nm%3D193%0Anumerical_aperture%3D1.35",
        None,
    )
    .await;
    page_ok(&r);
    assert!(r.body.contains("badge v-undetermined"), "{}", r.body);
    assert!(
        r.body.contains("class=\"undetermined\"") && r.body.contains("dedicated_chuck_overlay_nm")
    );
    assert!(r.body.contains("Rule set <code>"));

    let r = get(
        &e.app,
        "/screening?names=Huawei%20Technologies%0A%3Ci%3Enobody%20at%20all",
        None,
    )
    .await;
    page_ok(&r);
    assert!(r.body.contains("Huawei Technologies: <span class=\"bad\">"));
    assert!(r
        .body
        .contains("&lt;i&gt;nobody at all: <span class=\"ok\">no match"));
    assert_eq!(
        get(&e.app, "/screening?names=x&threshold=7", None)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let r = get(&e.app, "/measures", None).await;
    page_ok(&r);
    assert!(r.body.contains("Measures in the rule base"));
    let id = r
        .body
        .split("/measures?measure=")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = get(
        &e.app,
        &format!("/measures?measure={id}&date=2025-06-01"),
        None,
    )
    .await;
    assert!(r.status == StatusCode::OK || r.status == StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Impact of") || r.body.contains("class=\"error\""));
    let r = get(
        &e.app,
        "/measures?measure=NL-semiconductor-equipment&date=2024-06-01",
        None,
    )
    .await;
    page_ok(&r);
    assert!(
        r.body.contains("Impact of NL-semiconductor-equipment") && r.body.contains("Who is hit")
    );
}

pub(super) fn article(
    title: &str,
    lang: &str,
    body: &str,
    country: &str,
    item: &str,
    cluster: &str,
    hash: &str,
) -> NewArticle {
    let record = serde_json::json!({
        "source": "test-feed", "title": title, "language": lang, "relevant": true, "event_type": "factory_fire",
        "status": "effective", "certainty": 0.9, "countries": [country], "actors": {"imposing": [], "target": []},
        "organisations": [{"name": "Example Fab <Co>", "provider_id": null, "id": "ext:x", "country": country, "role": "affected"}],
        "items": [item], "severity": 0.6, "cluster_id": cluster, "evidence": [body], "locations": [country],
        "dates": [], "quantities": [], "other_event_types": [], "people": [], "warnings": [], "content_hash": hash,
        "learned": {"relevant": 0.97, "event_type": "factory_fire", "probability": 0.81, "decision": "rescued", "features": ["fire", "<b>"]}
    });
    NewArticle {
        canonical_url: Some(format!("https://news.example/{hash}")),
        content_hash: hash.into(),
        source: "test-feed".into(),
        url: Some(format!("https://news.example/{hash}")),
        title: title.into(),
        language: lang.into(),
        body: body.into(),
        seen_at: None,
        published_at: Some("2025-03-01T08:00:00Z".into()),
        event_time: 1_740_816_000,
        relevant: true,
        event_type: "factory_fire".into(),
        cluster_id: Some(cluster.into()),
        severity: 0.6,
        simhash: 1,
        entities: "[]".into(),
        record: record.to_string(),
    }
}

#[tokio::test]
async fn monitor_filters_events_and_shows_text_beside_entities() {
    let e = env().await;
    let alert = serde_json::json!({"watch": "photoresist", "matched": ["item:N31"], "event_type": "factory_fire", "severity": 0.6,
        "title": "Fire at resist plant", "source": "test-feed", "actors": {"imposing": [], "target": []}, "items": ["N31"], "evidence": [],
        "impact": {"world_availability_min": 0.8, "consumers": [{"country": "KOR", "final_output_availability_min": 0.7, "binding_constraint": ["N99", "N31"], "binding_providers": ["JPN"], "losses": []}]}});
    e.store
        .monitor_insert_article(
            &article(
                "Fire at resist plant",
                "en",
                "A fire <b>halted</b> photoresist output.",
                "JPN",
                "N31",
                "c-1",
                "h1",
            ),
            &[NewAlert {
                watch: "photoresist".into(),
                payload: alert.to_string(),
            }],
        )
        .await
        .unwrap();
    e.store
        .monitor_insert_article(
            &article(
                "光刻胶工厂火灾",
                "zh",
                "工厂发生火灾。",
                "JPN",
                "N31",
                "c-1",
                "h2",
            ),
            &[],
        )
        .await
        .unwrap();
    e.store
        .monitor_insert_article(
            &article(
                "Wafer plant fire",
                "en",
                "Wafers hit.",
                "TWN",
                "N26",
                "c-2",
                "h3",
            ),
            &[],
        )
        .await
        .unwrap();
    let r = get(&e.app, "/monitor", None).await;
    page_ok(&r);
    assert!(r.body.contains("Fire at resist plant") && r.body.contains("Wafer plant fire"));
    assert!(
        r.body
            .contains("A fire &lt;b&gt;halted&lt;/b&gt; photoresist output.")
            && !r.body.contains("<b>halted")
    );
    assert!(r
        .body
        .contains(r#"<blockquote lang="zh">工厂发生火灾。</blockquote>"#));
    assert!(r.body.contains("Example Fab &lt;Co&gt;"));
    assert!(
        r.body.contains(
            "rescued: relevance 0.97, most probable type factory fire (0.81); n-grams: fire, &lt;b&gt;"
        ),
        "the learned layer's reading, escaped"
    );
    // Alerts name what matched (a link to the item, not `item:N31`) and the event type in words.
    let alerts = &r.body[r.body.find("photoresist").unwrap()..];
    assert!(!r.body.contains("item:N31"), "internal reference shown");
    assert!(alerts.contains(r#"<a href="/item/N31">N31 Photoresists</a>"#));
    assert!(alerts.contains("(factory fire, severity"));
    assert!(
        r.body.contains(r#"<td class="n">2</td>"#),
        "cluster c-1 has two reports"
    );
    assert!(
        r.body.contains("photoresist") && r.body.contains("KOR 0.700"),
        "alert with its impact"
    );
    let r = get(&e.app, "/monitor?country=TWN", None).await;
    assert!(r.body.contains("Wafer plant fire") && !r.body.contains("<h3 id=\"ev1\""));
    assert!(
        !r.body.contains("KOR 0.700"),
        "the alert of a filtered-out event is not shown"
    );
    let r = get(&e.app, "/monitor?lang=zh&item=N31", None).await;
    assert!(r.body.contains("光刻胶工厂火灾") && !r.body.contains("Wafer plant fire</a></h3>"));
    assert!(r.body.contains("(1 match)"));
    let r = get(&e.app, "/monitor?type=earthquake", None).await;
    assert!(r.body.contains("No events match"));
}

#[tokio::test]
async fn partner_page_needs_a_session_and_shows_only_own_and_agreed_data() {
    let e = env().await;
    let (a, a_tok) = org(&e.store, "Ministry A").await;
    let (b, b_tok) = org(&e.store, "Company B").await;
    e.store
        .create_record(
            &a,
            record("N22", "FabA-secret", 111.0, Distribution::Community),
        )
        .await
        .unwrap();
    e.store
        .create_record(
            &b,
            record("N20", "FabB-shared", 222.0, Distribution::Community),
        )
        .await
        .unwrap();
    e.store
        .create_record(
            &b,
            record("N26", "FabB-private", 333.0, Distribution::Community),
        )
        .await
        .unwrap();
    // B shares N20 with A, releasing value and unit but not the provider.
    e.store
        .create_agreement(
            &b,
            NewAgreement {
                grantee_org_id: a.org.id,
                items: vec!["N20".into()],
                metrics: vec!["*".into()],
                fields: vec!["value".into(), "unit".into(), "period".into()],
                granularity: Granularity::Firm,
                min_firms: 1,
                max_firm_share: 0.6,
                valid_from: chipwatch_store::time::now() - 10,
                valid_until: None,
            },
        )
        .await
        .unwrap();

    // No session: redirected to the login page, nothing leaks.
    let r = get(&e.app, "/partner", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers["location"], "/login?next=%2Fpartner");
    assert!(!r.body.contains("FabA") && !r.body.contains("FabB"));
    // A forged or API-shaped but unknown cookie is no session either.
    assert_eq!(
        get(&e.app, "/partner", Some("cw_0000")).await.status,
        StatusCode::SEE_OTHER
    );

    let ca = sign_in(&e.app, &a_tok).await;
    let plain = get(&e.app, "/partner", Some(&ca)).await;
    page_ok(&plain);
    assert!(
        plain.body.contains("Not verified since the server started")
            && plain.body.contains("?verify=1"),
        "a plain view does not walk the whole log"
    );
    let r = get(&e.app, "/partner?verify=1", Some(&ca)).await;
    page_ok(&r);
    assert!(r.body.contains("Partner exchange: Ministry A"));
    assert!(r.body.contains("FabA-secret") && r.body.contains(">111<"));
    assert!(
        r.body.contains(">222<") && r.body.contains("wafers/month"),
        "agreed fields of B's N20 record"
    );
    assert!(
        !r.body.contains("FabB-shared"),
        "the provider field was not released"
    );
    assert!(!r.body.contains("FabB-private") && !r.body.contains(">333<"));
    assert!(r.body.contains("granted to you") && r.body.contains("Company B"));
    // The verification runs in the background (Ministry A, created first, is the operator).
    let mut verified = false;
    for _ in 0..500 {
        let r = get(&e.app, "/partner", Some(&ca)).await;
        if r.body
            .contains("Keyed chain (run 1): <span class=\"ok\">intact")
        {
            verified = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        verified,
        "the background verification reports an intact chain"
    );
    let audit = &r.body[r.body.find(r#"id="audit""#).unwrap()..];
    assert!(
        audit.contains("<td>records read</td>"),
        "the release is in A's audit trail"
    );
    // Names instead of internal references; details as fields, not raw JSON.
    assert!(
        audit.contains("<td>Ministry A-admin (Ministry A)</td>"),
        "{audit}"
    );
    assert!(
        !audit.contains("org:") && !audit.contains("user:"),
        "{audit}"
    );
    assert!(audit.contains(r#"<dl class="fields">"#) && !audit.contains("{&quot;"));

    let cb = sign_in(&e.app, &b_tok).await;
    let r = get(&e.app, "/partner?verify=1", Some(&cb)).await;
    page_ok(&r);
    assert!(
        r.body.contains("verified by the instance administrators")
            && !r.body.contains("Keyed chain"),
        "an admin of another organisation neither starts nor sees the verification"
    );
    assert!(r.body.contains("FabB-shared") && r.body.contains("FabB-private"));
    assert!(
        !r.body.contains("FabA-secret") && !r.body.contains(">111<"),
        "A shared nothing with B"
    );
    assert!(r.body.contains("granted by you"));

    // Sign-out revokes the session at once; the API token still works for the API.
    let r = post_form(&e.app, "/logout", "", Some(&ca), "http://127.0.0.1:8080").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.headers["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        get(&e.app, "/partner", Some(&ca)).await.status,
        StatusCode::SEE_OTHER
    );
    let r = send(
        &e.app,
        Request::builder()
            .uri("/api/v1/me")
            .header("authorization", format!("Bearer {a_tok}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn login_rejects_bad_tokens_and_cross_site_forms() {
    let e = env().await;
    let (_, tok) = org(&e.store, "Org <&>").await;
    let r = get(&e.app, "/login?next=%2F%2Fevil.example", None).await;
    page_ok(&r);
    assert!(
        r.body.contains(r#"name="next" value="/""#),
        "no open redirect"
    );
    let r = post_form(
        &e.app,
        "/login",
        "token=cw_nope",
        None,
        "http://127.0.0.1:8080",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.body.contains("Unknown, revoked or expired token")
            && r.headers.get("set-cookie").is_none()
    );
    let r = post_form(
        &e.app,
        "/login",
        &format!("token={tok}"),
        None,
        "https://evil.example",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.headers.get("set-cookie").is_none());
    // The header shows the organisation name escaped once signed in.
    let c = sign_in(&e.app, &tok).await;
    let r = get(&e.app, "/", Some(&c)).await;
    assert!(r.body.contains("Org &lt;&amp;&gt;") && r.body.contains("Sign out"));
}

#[tokio::test]
async fn saving_a_scenario_needs_an_analyst_session() {
    let e = env().await;
    let (_, tok) = org(&e.store, "Ministry A").await;
    let q = "run=1&name=Saved%20one&s0_kind=export_block&s0_from=NLD&s0_items=N20";
    let r = post_form(
        &e.app,
        "/scenario/save",
        &format!("query={}", super::url_encode(q)),
        None,
        "http://127.0.0.1:8080",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.headers["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));
    let c = sign_in(&e.app, &tok).await;
    let r = post_form(
        &e.app,
        "/scenario/save",
        &format!("query={}", super::url_encode(q)),
        Some(&c),
        "http://127.0.0.1:8080",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let loc = r.headers["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with("/scenario?saved="));
    let r = get(&e.app, &loc, Some(&c)).await;
    page_ok(&r);
    assert!(
        r.body.contains("Scenario saved.")
            && r.body.contains("Result: Saved one")
            && r.body.contains("Saved scenarios of Ministry A")
    );
    // Another organisation cannot open it.
    let (_, tok_b) = org(&e.store, "Company B").await;
    let cb = sign_in(&e.app, &tok_b).await;
    let r = get(&e.app, &loc, Some(&cb)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("no saved scenario") && !r.body.contains("Result: Saved one"));
}

#[tokio::test]
async fn assets_are_embedded() {
    let e = env().await;
    let r = get(&e.app, "/static/dashboard.css", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
            && r.body.contains("@media print")
    );
    let r = get(&e.app, "/static/favicon.svg", None).await;
    assert!(r.body.starts_with("<svg"));
    // Unknown paths still get the API's JSON 404.
    let r = get(&e.app, "/nope", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("\"not_found\""));
}

#[tokio::test]
async fn search_ranks_model_rule_base_and_events_and_escapes() {
    let e = env().await;
    let mut a = article(
        "ASML halts EUV shipments <b>now</b>",
        "en",
        "ASML said it halts shipments.",
        "NLD",
        "N20",
        "c-asml",
        "h-asml",
    );
    let mut rec: serde_json::Value = serde_json::from_str(&a.record).unwrap();
    rec["organisations"] = serde_json::json!([{"name": "ASML", "provider_id": "P88", "id": "P88", "country": "NLD", "role": "subject"}]);
    a.record = rec.to_string();
    e.store.monitor_insert_article(&a, &[]).await.unwrap();

    // Nav search box on every page.
    let r = get(&e.app, "/", None).await;
    assert!(
        r.body.contains(r#"action="/search" role="search""#)
            && r.body.contains(r#"<label for="nav-q""#)
    );

    let r = get(&e.app, "/search?q=asml", None).await;
    page_ok(&r);
    // The firm (exact name) ranks before the event (title starts with it).
    let firm = r.body.find(r#"href="/firms/P88""#).expect("firm found");
    let event = r
        .body
        .find("ASML halts EUV shipments &lt;b&gt;now&lt;/b&gt;")
        .expect("event found, escaped");
    assert!(firm < event);
    assert!(!r.body.contains("<b>now</b>"));
    // Items by id and by catalogue alias; countries by ISO code and name; measures by id.
    let r = get(&e.app, "/search?q=N20", None).await;
    assert!(r.body.contains(r#"href="/item/N20""#));
    let r = get(&e.app, "/search?q=japan", None).await;
    assert!(
        r.body.contains(r#"href="/countries/JPN">Japan (JPN)</a>"#),
        "{}",
        &r.body[r.body.len().saturating_sub(3000)..]
    );
    let r = get(&e.app, "/search?q=us-sme", None).await;
    assert!(r.body.contains(r#"href="/measures?measure=US-SME""#));
    // Nothing found, and user input escaped.
    let r = get(&e.app, "/search?q=%3Cscript%3Ezzz", None).await;
    page_ok(&r);
    assert!(r.body.contains("0 results") && r.body.contains("&lt;script&gt;zzz"));
    // Too long: 400 naming the field.
    let r = get(&e.app, &format!("/search?q={}", "x".repeat(201)), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("q: the search text is longer than 200"));
}

#[tokio::test]
async fn search_shows_partner_records_only_to_those_who_may_see_them() {
    let e = env().await;
    let (a, a_tok) = org(&e.store, "Ministry A").await;
    let (b, _) = org(&e.store, "Company B").await;
    e.store
        .create_record(
            &a,
            record("N22", "FabA-zebra", 1.0, Distribution::Community),
        )
        .await
        .unwrap();
    e.store
        .create_record(
            &b,
            record("N26", "FabB-zebra", 2.0, Distribution::Community),
        )
        .await
        .unwrap();
    let r = get(&e.app, "/search?q=zebra", None).await;
    page_ok(&r);
    assert!(!r.body.contains("record "), "signed out: no partner data");
    assert!(r.body.contains("0 results"));
    let c = sign_in(&e.app, &a_tok).await;
    let r = get(&e.app, "/search?q=zebra", Some(&c)).await;
    page_ok(&r);
    assert!(r.body.contains("Partner record (own)") && r.body.contains("FabA-zebra"));
    assert!(
        !r.body.contains("FabB-zebra"),
        "no agreement: B's record stays hidden"
    );
    assert!(r.body.contains("1 result for"));
}

#[tokio::test]
async fn firm_page_shows_supply_list_status_and_events() {
    let e = env().await;
    let mut a = article("ASML fire", "en", "text", "NLD", "N20", "c1", "h1");
    let mut rec: serde_json::Value = serde_json::from_str(&a.record).unwrap();
    rec["organisations"] = serde_json::json!([{"name": "ASML", "provider_id": "P88", "id": "P88", "country": "NLD", "role": "affected"}]);
    a.record = rec.to_string();
    e.store.monitor_insert_article(&a, &[]).await.unwrap();
    e.store
        .monitor_insert_article(
            &article("Other fab fire", "en", "t", "KOR", "N22", "c2", "h2"),
            &[],
        )
        .await
        .unwrap();
    let r = get(&e.app, "/firms/P88", None).await;
    page_ok(&r);
    assert!(r.body.contains("<h1>ASML</h1>"));
    assert!(r
        .body
        .contains(r#"<a href="/countries/NLD">Netherlands (NLD)</a>"#));
    assert!(r.body.contains(r#"href="/item/N20""#), "supplies EUV tools");
    assert!(
        r.body.contains("Restricted-party list status")
            && r.body.contains("No match for <b>ASML</b>")
    );
    assert!(r.body.contains("ASML fire") && !r.body.contains("Other fab fire"));
    // By name too; a listed firm shows its hit.
    let r = get(&e.app, "/firms/SMIC", None).await;
    page_ok(&r);
    assert!(
        r.body.contains("possible match")
            && r.body
                .contains("<td>Semiconductor Manufacturing International Corporation</td>")
            && r.body.contains("<td>US-EL</td>"),
        "SMIC is on the Entity List"
    );
    // A country provider redirects to the country page; unknown and bucket ids are 404s.
    let r = get(&e.app, "/firms/P7", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers["location"], "/countries/JPN");
    let r = get(&e.app, "/firms/%3Cb%3Enope", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("firm: no provider `&lt;b&gt;nope`"));
    let r = get(&e.app, "/firms/P5", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn country_page_shows_supply_dependence_and_measures() {
    let e = env().await;
    let r = get(&e.app, "/countries/NLD", None).await;
    page_ok(&r);
    assert!(r.body.contains("<h1>Netherlands (NLD)</h1>"));
    // Supplies EUV tools (hq basis), imposes its own and (as an EU member) EU measures.
    let sup =
        &r.body[r.body.find(r#"id="supplies""#).unwrap()..r.body.find(r#"id="depends""#).unwrap()];
    assert!(sup.contains(r#"href="/item/N20""#));
    let imp =
        &r.body[r.body.find(r#"id="imposes""#).unwrap()..r.body.find(r#"id="faces""#).unwrap()];
    assert!(
        imp.contains("its own measure") && imp.contains("EU member"),
        "{imp}"
    );
    // China: faces US measures through the EAR groups; depends on others for EUV tools.
    let r = get(&e.app, "/countries/chn", None).await;
    page_ok(&r);
    let faces = &r.body[r.body.find(r#"id="faces""#).unwrap()..];
    assert!(
        faces.contains(r#"href="/measures?measure=US-744.23""#) && faces.contains("(US-CN)"),
        "{faces}"
    );
    let dep =
        &r.body[r.body.find(r#"id="depends""#).unwrap()..r.body.find(r#"id="imposes""#).unwrap()];
    assert!(dep.contains(r#"href="/item/N20""#) && dep.contains(r#"href="/countries/NLD""#));
    // A real country the model does not list: named, and its dependence not claimed to be nil.
    let r = get(&e.app, "/countries/ISL", None).await;
    page_ok(&r);
    assert!(r.body.contains("<h1>Iceland (ISL)</h1>"));
    assert!(r
        .body
        .contains("Not computed: the model does not list this country"));
    assert!(!r
        .body
        .contains("No item where another country holds more than half"));
    // Bad code: 400 naming the field, escaped.
    let r = get(&e.app, "/countries/%3Cx%3E", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r
        .body
        .contains("country: `&lt;x&gt;` is not an ISO 3166-1 alpha-3 code"));
}

#[test]
fn deadline_words_at_each_boundary() {
    use super::partner::deadline_words;
    let day = 86_400;
    // Noon UTC on some day.
    let now = 20_000 * day + 12 * 3600;
    let midnight = 20_000 * day;
    assert_eq!(deadline_words(midnight + 3 * day + 60, now), "3 days left");
    assert_eq!(deadline_words(midnight + 2 * day, now), "2 days left");
    assert_eq!(
        deadline_words(midnight + day, now),
        "1 day left",
        "tomorrow 00:00"
    );
    assert_eq!(
        deadline_words(midnight + 2 * day - 1, now),
        "1 day left",
        "tomorrow 23:59:59"
    );
    assert_eq!(
        deadline_words(midnight + day - 1, now),
        "due today",
        "tonight 23:59:59"
    );
    assert_eq!(deadline_words(now, now), "due today", "this very second");
    assert_eq!(deadline_words(now - 1, now), "overdue today");
    assert_eq!(
        deadline_words(midnight, now),
        "overdue today",
        "today 00:00"
    );
    assert_eq!(
        deadline_words(midnight - 1, now),
        "1 day overdue",
        "yesterday 23:59:59"
    );
    assert_eq!(deadline_words(midnight - day, now), "1 day overdue");
    assert_eq!(deadline_words(midnight - day - 1, now), "2 days overdue");
    assert_eq!(deadline_words(midnight - 3 * day, now), "3 days overdue");
}

#[test]
fn audit_references_and_details_read_as_names_and_fields() {
    use super::partner::{action_words, Names};
    let names = Names {
        orgs: [(2, "Ministry <Seoul>".to_string())].into_iter().collect(),
        users: [(5, "kim".to_string())].into_iter().collect(),
    };
    assert_eq!(names.reference("org:2/user:5"), "kim (Ministry <Seoul>)");
    assert_eq!(names.reference("org:2"), "Ministry <Seoul>");
    assert_eq!(names.reference("org:9/user:7"), "user 7 (organisation 9)");
    assert_eq!(names.reference("record:7"), "record 7");
    assert_eq!(names.reference("sharing_group:3"), "sharing group 3");
    assert_eq!(names.reference("system"), "the server");
    assert_eq!(action_words("records.read"), "records read");
    let d =
        names.detail_html(r#"{"grantee_org_id":2,"records":[1,2],"note":"<b>x</b>","ok":true}"#);
    assert_eq!(
        d,
        "<dl class=\"fields\"><dt>grantee org id</dt><dd>Ministry &lt;Seoul&gt;</dd><dt>note</dt><dd>&lt;b&gt;x&lt;/b&gt;</dd><dt>ok</dt><dd>yes</dd><dt>records</dt><dd>1, 2</dd></dl>"
    );
    let d = names.detail_html(r#"{"grantee":2,"expires_at":1796375270,"metrics":["*"]}"#);
    assert!(
        d.contains("<dt>grantee</dt><dd>Ministry &lt;Seoul&gt;</dd>")
            && d.contains("<dt>expires at</dt><dd>2026-12-04T")
            && d.contains("<dt>metrics</dt><dd>all</dd>"),
        "{d}"
    );
    assert_eq!(names.detail_html("{}"), "");
    assert_eq!(names.detail_html("not <json>"), "not &lt;json&gt;");
}

#[tokio::test]
async fn monitor_says_when_it_leaves_evidence_or_countries_out() {
    let e = env().await;
    let consumers: Vec<serde_json::Value> = ["KOR", "TWN", "USA", "CHN", "JPN", "DEU"]
        .iter()
        .map(|c| serde_json::json!({"country": c, "final_output_availability_min": 0.9, "binding_constraint": [], "binding_providers": [], "losses": []}))
        .collect();
    let alert = serde_json::json!({"watch": "w", "matched": ["country:JPN", "provider:P88"], "event_type": "factory_fire", "severity": 0.5,
        "title": "Long event", "source": "t", "items": ["N31"], "evidence": [],
        "impact": {"world_availability_min": 0.9, "consumers": consumers}});
    let mut a = article("Long event", "en", "text", "JPN", "N31", "c-9", "h9");
    let mut rec: serde_json::Value = serde_json::from_str(&a.record).unwrap();
    rec["evidence"] =
        serde_json::json!((1..=8).map(|k| format!("sentence {k}")).collect::<Vec<_>>());
    a.record = rec.to_string();
    e.store
        .monitor_insert_article(
            &a,
            &[NewAlert {
                watch: "w".into(),
                payload: alert.to_string(),
            }],
        )
        .await
        .unwrap();
    let r = get(&e.app, "/monitor?all=1", None).await;
    page_ok(&r);
    assert!(r.body.contains("sentence 6") && !r.body.contains("sentence 7"));
    assert!(r.body.contains("and 2 more evidence sentences not shown"));
    assert!(
        r.body.contains("; and 2 more countries"),
        "six consumers, four shown"
    );
    // What matched, in names and links.
    assert!(r
        .body
        .contains(r#"<a href="/countries/JPN">Japan (JPN)</a>, <a href="/firms/P88">ASML</a>"#));
}
