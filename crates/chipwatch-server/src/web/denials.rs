//! The denial notices page (`/licence/denials`): the notices the signed-in user's organisation
//! may see (its own, partners' released by agreements, federated copies; withheld fields say
//! so), a form to publish one and a withdrawal form per own notice in force; and the box of
//! matched partner denials on the licence check page ([`matches_html`]).
//!
//! Forms post to dashboard routes that check the session and the origin and then call the API's
//! own handlers (`routes::denials`): roles, validation, tenant isolation and audit are the
//! API's. A refused form comes back with its message and the values as typed; a form that
//! succeeded redirects (post/redirect/get).

use super::{error_page, page_response, session, to_login, Nav, Params};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::extract::{Json, Path};
use crate::routes::denials::{self as api, DeniedItemBody, NoticeBody, WithdrawalBody};
use crate::AppState;
use axum::extract::Path as UrlPath;
use axum::extract::{RawQuery, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chipwatch_controls::denials::ReasonCategory;
use chipwatch_report::svg::escape;
use chipwatch_store::denial_notices::{DenialFilter, DenialView};
use chipwatch_store::partner::{Principal, Role};
use serde_json::Value;
use std::fmt::Write;

const PAGE: &str = "/licence/denials";

/// Confirmations after a form succeeded (fixed texts: nothing typed is reflected).
const DONE: &[(&str, &str)] = &[
    ("published", "Denial notice published."),
    (
        "withdrawn",
        "Withdrawal recorded: the notice no longer matches licence checks.",
    ),
];

fn redirect(key: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(l) = HeaderValue::from_str(&format!("{PAGE}?done={key}")) {
        r.headers_mut().insert(LOCATION, l);
    }
    r
}

async fn guard(s: &AppState, headers: &HeaderMap) -> Result<Principal, Response> {
    let Some(p) = session(s, headers).await else {
        return Err(to_login(PAGE));
    };
    if !super::same_origin(headers) {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "Cross-site form",
            "This form must be sent from the dashboard itself.",
            Some(&p),
        ));
    }
    Ok(p)
}

fn item_label(v: &DenialView) -> String {
    let i = &v.notice.item;
    let mut s = escape(&i.description);
    for x in [&i.product, &i.control_entry, &i.model_item]
        .into_iter()
        .flatten()
    {
        let _ = write!(s, " <code>{}</code>", escape(x));
    }
    s
}

fn withheld(v: &DenialView, field: &str, shown: String) -> String {
    if v.withheld.iter().any(|w| w == field) {
        r#"<span class="hint">withheld by the agreement</span>"#.to_string()
    } else if shown.is_empty() {
        "–".to_string()
    } else {
        shown
    }
}

fn table(b: &mut String, views: &[DenialView], can_write: bool) {
    if views.is_empty() {
        b.push_str("<p>No denial notices visible to your organisation.</p>");
        return;
    }
    b.push_str(r#"<table id="denials"><thead><tr><th scope="col">Authority</th><th scope="col">Reference</th><th scope="col">Denied on</th><th scope="col">Item</th><th scope="col">Destination</th><th scope="col">End user</th><th scope="col">Consignees</th><th scope="col">Reason</th><th scope="col">Source</th><th scope="col">Status</th></tr></thead><tbody>"#);
    for v in views {
        let n = &v.notice;
        let source = if v.own {
            "own"
        } else if v.federated {
            "federated"
        } else {
            "partner"
        };
        let status = match n.withdrawn_on {
            Some(d) => format!("withdrawn {d}"),
            None if v.own && can_write => format!(
                r#"in force<form class="inline" method="post" action="{PAGE}/{id}/withdrawal"><label for="w-on-{id}">Withdrawn on</label><input type="date" id="w-on-{id}" name="withdrawn_on" required><label for="w-reason-{id}">Reason</label><input type="text" id="w-reason-{id}" name="reason" required size="20"><button type="submit">Withdraw</button></form>"#,
                id = v.id
            ),
            None => "in force".to_string(),
        };
        let reason_text = if v.withheld.iter().any(|w| w == "reason") {
            r#" <span class="hint">(text withheld by the agreement)</span>"#.to_string()
        } else {
            n.reason
                .as_deref()
                .map(|r| format!(": {}", escape(r)))
                .unwrap_or_default()
        };
        let reason = format!(
            "{}{reason_text}",
            escape(&n.reason_category.as_str().replace('_', " "))
        );
        let _ = write!(
            b,
            "<tr><td>{auth} ({jur})</td><td>{r}</td><td>{d}</td><td>{item}</td><td>{dest}</td><td>{eu}</td><td>{cons}</td><td>{reason}</td><td>{source}, TLP:{tlp}</td><td>{status}</td></tr>",
            auth = escape(&n.authority),
            jur = escape(&n.jurisdiction),
            r = escape(&n.reference),
            d = n.denied_on,
            item = item_label(v),
            dest = escape(&n.destination),
            eu = withheld(
                v,
                "end_user",
                n.end_user
                    .iter()
                    .chain(&n.end_user_aliases)
                    .map(|x| escape(x))
                    .collect::<Vec<_>>()
                    .join(" / ")
            ),
            cons = withheld(
                v,
                "consignees",
                n.consignees
                    .iter()
                    .map(|x| escape(x))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            tlp = escape(&v.tlp.as_str().to_uppercase()),
        );
    }
    b.push_str("</tbody></table>");
}

fn publish_form(b: &mut String, f: &Params) {
    let v = |n: &str| escape(f.get(n).unwrap_or(""));
    let cats: String = ReasonCategory::ALL
        .iter()
        .map(|c| {
            let sel = if f.get("reason_category") == Some(c.as_str()) {
                " selected"
            } else {
                ""
            };
            format!(
                r#"<option value="{v}"{sel}>{l}</option>"#,
                v = c.as_str(),
                l = c.as_str().replace('_', " ")
            )
        })
        .collect();
    let dists: String = [
        "organisation_only",
        "community",
        "connected_communities",
        "all",
    ]
    .iter()
    .map(|d| {
        let sel = if f.get("distribution").unwrap_or("community") == *d {
            " selected"
        } else {
            ""
        };
        format!(
            r#"<option value="{d}"{sel}>{l}</option>"#,
            l = d.replace('_', " ")
        )
    })
    .collect();
    let _ = write!(
        b,
        r#"<h2 id="publish">Publish a denial notice</h2>
<form class="panel" method="post" action="{PAGE}"><div class="fields">
<div><label for="reference">Reference</label><input type="text" id="reference" name="reference" required size="16" value="{reference}"></div>
<div><label for="authority">Authority</label><input type="text" id="authority" name="authority" required size="10" value="{authority}"></div>
<div><label for="jurisdiction">Jurisdiction <span class="hint">(alpha-3 or EU)</span></label><input type="text" id="jurisdiction" name="jurisdiction" required size="4" maxlength="3" value="{jurisdiction}"></div>
<div><label for="denied_on">Denied on</label><input type="date" id="denied_on" name="denied_on" required value="{denied_on}"></div>
<div><label for="destination">Destination</label><input type="text" id="destination" name="destination" required size="4" maxlength="3" value="{destination}"></div>
</div><div class="fields">
<div><label for="description">Item</label><input type="text" id="description" name="description" required size="24" value="{description}"></div>
<div><label for="product">Product <span class="hint">(catalogue, optional)</span></label><input type="text" id="product" name="product" size="14" value="{product}"></div>
<div><label for="control_entry">Control entry</label><input type="text" id="control_entry" name="control_entry" size="10" value="{control_entry}"></div>
<div><label for="model_item">Model item</label><input type="text" id="model_item" name="model_item" size="6" value="{model_item}"></div>
</div><div class="fields">
<div><label for="end_user">End user</label><input type="text" id="end_user" name="end_user" size="28" value="{end_user}"></div>
<div><label for="end_user_aliases">Aliases <span class="hint">(comma-separated)</span></label><input type="text" id="end_user_aliases" name="end_user_aliases" size="16" value="{aliases}"></div>
<div><label for="consignees">Consignees <span class="hint">(comma-separated)</span></label><input type="text" id="consignees" name="consignees" size="20" value="{consignees}"></div>
</div><div class="fields">
<div><label for="reason_category">Reason</label><select id="reason_category" name="reason_category">{cats}</select></div>
<div><label for="reason">Reason text <span class="hint">(released only where agreed)</span></label><input type="text" id="reason" name="reason" size="30" value="{reason}"></div>
<div><label for="distribution">Distribution</label><select id="distribution" name="distribution">{dists}</select></div>
<div><button type="submit">Publish notice</button></div></div></form>"#,
        reference = v("reference"),
        authority = v("authority"),
        jurisdiction = v("jurisdiction"),
        denied_on = v("denied_on"),
        destination = v("destination"),
        description = v("description"),
        product = v("product"),
        control_entry = v("control_entry"),
        model_item = v("model_item"),
        end_user = v("end_user"),
        aliases = v("end_user_aliases"),
        consignees = v("consignees"),
        reason = v("reason"),
    );
}

async fn render_page(
    s: &AppState,
    p: &Principal,
    form: &Params,
    message: Option<(&str, String)>,
    status: StatusCode,
) -> Response {
    let filter = DenialFilter {
        include_withdrawn: true,
        ..Default::default()
    };
    let views = match s.store.visible_denials(&p.org, &filter).await {
        Ok(v) => v,
        Err(e) => {
            let e: ApiError = e.into();
            return error_page(e.status(), "Denial notices", &e.message, Some(p));
        }
    };
    let ids: Vec<i64> = views.iter().filter(|v| !v.own).map(|v| v.id).collect();
    if !ids.is_empty() {
        let _ = crate::access_log::record_access(
            s,
            &p.actor(),
            "denials.read",
            "denials",
            serde_json::json!({"denials": ids}),
        )
        .await;
    }
    let mut b = String::from(
        r#"<p class="lead">Denial notices exchanged between partner authorities (Art. 23 of Regulation (EU) 2021/821, Wassenaar practice). A licence check for an essentially identical transaction shows the matching notices, so the officer consults the issuing authority before granting. Partners see your notices only under an agreement listing <code>denial_notice</code>, with the fields it releases.</p>"#,
    );
    if let Some((class, m)) = message {
        let _ = write!(
            b,
            r#"<div class="{class}" role="{role}"><p>{}</p></div>"#,
            escape(&m),
            role = if class == "error" { "alert" } else { "status" }
        );
    }
    let can_write = p.role >= Role::Analyst;
    table(&mut b, &views, can_write);
    if can_write {
        publish_form(&mut b, form);
    }
    page_response(status, "Denial notices", Nav::Licence, Some(p), &b)
}

/// GET /licence/denials
pub async fn page(State(s): State<AppState>, headers: HeaderMap, q: RawQuery) -> Response {
    let Some(p) = session(&s, &headers).await else {
        return to_login(PAGE);
    };
    let q = Params::from_query(&q);
    let done = q
        .get("done")
        .and_then(|k| DONE.iter().find(|(key, _)| *key == k))
        .map(|(_, m)| ("notice", m.to_string()));
    render_page(&s, &p, &Params::default(), done, StatusCode::OK).await
}

fn opt(f: &Params, k: &str) -> Option<String> {
    f.get(k).map(str::to_string)
}

fn notice_body(f: &Params) -> NoticeBody {
    NoticeBody {
        reference: f.get("reference").unwrap_or("").to_string(),
        authority: f.get("authority").unwrap_or("").to_string(),
        jurisdiction: f.get("jurisdiction").unwrap_or("").to_uppercase(),
        denied_on: f.get("denied_on").unwrap_or("").to_string(),
        item: DeniedItemBody {
            description: f.get("description").unwrap_or("").to_string(),
            product: opt(f, "product"),
            control_entry: opt(f, "control_entry"),
            model_item: opt(f, "model_item"),
        },
        destination: f.get("destination").unwrap_or("").to_uppercase(),
        end_user: opt(f, "end_user"),
        end_user_aliases: f.all("end_user_aliases"),
        consignees: f.all("consignees"),
        reason_category: f.get("reason_category").unwrap_or("").to_string(),
        reason: opt(f, "reason"),
        tlp: None,
        distribution: opt(f, "distribution"),
        sharing_group_id: None,
    }
}

async fn outcome(
    s: &AppState,
    p: &Principal,
    form: &Params,
    r: Result<impl IntoResponse, ApiError>,
    key: &str,
) -> Response {
    match r {
        Ok(_) => redirect(key),
        Err(e) => {
            let status = if e.status().is_client_error() {
                e.status()
            } else {
                tracing::error!(code = e.code, message = %e.message, "denial form failed");
                e.status()
            };
            render_page(s, p, form, Some(("error", e.message)), status).await
        }
    }
}

/// POST /licence/denials
pub async fn publish(State(s): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let p = match guard(&s, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let f = Params::parse(&body);
    let r = api::publish_denial(State(s.clone()), Auth(p.clone()), Json(notice_body(&f))).await;
    outcome(&s, &p, &f, r, "published").await
}

/// POST /licence/denials/{id}/withdrawal
pub async fn withdraw(
    State(s): State<AppState>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    body: String,
) -> Response {
    let p = match guard(&s, &headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<i64>() else {
        return error_page(
            StatusCode::NOT_FOUND,
            "Denial notices",
            "No such denial notice.",
            Some(&p),
        );
    };
    let f = Params::parse(&body);
    let b = WithdrawalBody {
        withdrawn_on: f.get("withdrawn_on").unwrap_or("").to_string(),
        reason: f.get("reason").unwrap_or("").to_string(),
    };
    let r = api::withdraw_denial(State(s.clone()), Auth(p.clone()), Path(id), Json(b)).await;
    outcome(&s, &p, &Params::default(), r, "withdrawn").await
}

/// The licence check page's box of matched partner denials (`partner_denials` entries of the
/// API), shown above the verdicts.
pub fn matches_html(ms: &[Value]) -> String {
    if ms.is_empty() {
        return r#"<p class="prov" id="partner-denials">No partner denial notice visible to your organisation matches this transaction.</p>"#.to_string();
    }
    let mut b = format!(
        r#"<section class="error" id="partner-denials" role="alert"><h2>Partner denials: {} matching notice{}</h2><ul>"#,
        ms.len(),
        if ms.len() == 1 { "" } else { "s" }
    );
    for m in ms {
        let s = |k: &str| escape(m[k].as_str().unwrap_or(""));
        let reason = match m["reason"].as_str() {
            Some(r) => format!(": {}", escape(r)),
            None => String::new(),
        };
        let _ = write!(
            b,
            "<li><strong>{auth} ({jur})</strong> denied on {date} (notice {r}): {item} to {dest}; reason {cat}{reason}. Matched {role} <q>{pn}</q> with the notice's {nf} <q>{nn}</q> ({rule}, similarity {sim:.2}), item by {irule}. <strong>{consult}</strong></li>",
            auth = s("authority"),
            jur = s("jurisdiction"),
            date = s("denied_on"),
            r = s("reference"),
            item = escape(m["item"]["description"].as_str().unwrap_or("")),
            dest = s("destination"),
            cat = escape(&m["reason_category"].as_str().unwrap_or("").replace('_', " ")),
            role = escape(&m["match"]["party_role"].as_str().unwrap_or("").replace('_', " ")),
            pn = escape(m["match"]["party_name"].as_str().unwrap_or("")),
            nf = escape(&m["match"]["notice_field"].as_str().unwrap_or("").replace('_', " ")),
            nn = escape(m["match"]["notice_name"].as_str().unwrap_or("")),
            rule = escape(m["match"]["name_rule"].as_str().unwrap_or("")),
            sim = m["match"]["similarity"].as_f64().unwrap_or(0.0),
            irule = escape(&m["match"]["item_rule"].as_str().unwrap_or("").replace('_', " ")),
            consult = s("consult"),
        );
    }
    b.push_str(r#"</ul><p><a href="/licence/denials">All denial notices</a></p></section>"#);
    b
}
