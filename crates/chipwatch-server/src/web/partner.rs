//! Partner exchange page, for the signed-in organisation only: its own records, the records and
//! country aggregates partners' agreements release to it, the agreements it granted or received,
//! information requests with their deadlines (and records attached to answered ones), and the
//! audit trail of its users. Everything goes through the same functions as the API
//! (`routes::exchange`, `routes::requests`, the store's policy), so the page can show exactly
//! what the API would show this user, and each release of partner data is audited the same way.

use super::partner_form_html as forms;
use super::{esc_list, page_response, session, to_login, Nav, Params};
use crate::auth::Auth;
use crate::extract::{Path, Query};
use crate::routes::{exchange, requests};
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chipwatch_report::svg::escape;
use chipwatch_store::audit;
use chipwatch_store::partner::policy::{self, RecordView};
use chipwatch_store::partner::{Principal, RequestStatus, Role};
use chipwatch_store::time;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write;

/// Audit entries shown (newest).
const AUDIT_SHOWN: usize = 40;

fn records_table(
    vc: &chipwatch_model::ValueChain,
    caption: &str,
    recs: &[RecordView],
    orgs: &HashMap<i64, String>,
    own: bool,
    manage: bool,
) -> String {
    if recs.is_empty() {
        return format!("<p class=\"muted\">{}: none.</p>", escape(caption));
    }
    let mut b = format!(
        r#"<table><caption>{}</caption><thead><tr><th scope="col">Id</th>{}<th scope="col">Item</th><th scope="col">Metric</th><th scope="col">Provider / site</th><th scope="col">Country</th><th scope="col" class="n">Value</th><th scope="col">Unit</th><th scope="col">Period</th><th scope="col">Provenance</th><th scope="col">TLP</th><th scope="col">Distribution</th>{}</tr></thead><tbody>"#,
        escape(caption),
        if own {
            ""
        } else {
            r#"<th scope="col">Owner</th>"#
        },
        if manage {
            r#"<th scope="col">Actions</th>"#
        } else {
            ""
        }
    );
    let masked = "<span class=\"muted\" title=\"not released by the agreement\">&mdash;</span>";
    for r in recs {
        let opt = |v: &Option<String>| v.as_deref().map_or_else(|| masked.to_string(), escape);
        let _ = write!(
            b,
            r#"<tr><td>{}</td>{}<td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td class="n">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}</tr>"#,
            r.id,
            if own {
                String::new()
            } else {
                format!(
                    "<td>{}</td>",
                    escape(orgs.get(&r.owner_org_id).map_or("?", String::as_str))
                )
            },
            super::item_link(vc, &r.item),
            escape(&r.metric),
            opt(&r.provider),
            r.site
                .as_deref()
                .map(|s| format!(" / {}", escape(s)))
                .unwrap_or_default(),
            opt(&r.country),
            r.value
                .map_or_else(|| masked.to_string(), |v| format!("{v}")),
            opt(&r.unit),
            opt(&r.period),
            opt(&r.provenance),
            escape(r.tlp.as_str()),
            escape(r.distribution.as_str()),
            if manage {
                format!(
                    r#"<td><a href="/partner?edit={id}#record-form" aria-label="Edit record {id}">Edit</a> {}</td>"#,
                    forms::button(
                        &format!("/partner/records/{}/delete", r.id),
                        "Delete",
                        &format!("record {}", r.id)
                    ),
                    id = r.id
                )
            } else {
                String::new()
            }
        );
    }
    b.push_str("</tbody></table>");
    b
}

/// A deadline in words, counted in calendar days (UTC) between `now` and `deadline`:
/// "3 days left", "1 day left", "due today", "overdue today" (passed earlier today),
/// "1 day overdue", "3 days overdue".
pub fn deadline_words(deadline: i64, now: i64) -> String {
    let days = deadline.div_euclid(86_400) - now.div_euclid(86_400);
    let n = |k: i64| {
        if k.abs() == 1 {
            "1 day".to_string()
        } else {
            format!("{} days", k.abs())
        }
    };
    match days {
        0 if deadline >= now => "due today".to_string(),
        0 => "overdue today".to_string(),
        d if d > 0 => format!("{} left", n(d)),
        d => format!("{} overdue", n(d)),
    }
}

/// Names for the references the audit log stores (`org:2/user:5`, `org:2`, `record:7`).
pub struct Names {
    pub orgs: HashMap<i64, String>,
    pub users: HashMap<i64, String>,
}

impl Names {
    fn org(&self, id: i64) -> String {
        self.orgs
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("organisation {id}"))
    }
    fn user(&self, id: i64) -> String {
        self.users
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("user {id}"))
    }
    /// A stored actor or object reference in words: `kim (Ministry Seoul)`, `Ministry Seoul`,
    /// `record 7`, `the server`, `an administrator (command line)`.
    pub fn reference(&self, r: &str) -> String {
        let num = |x: &str| x.parse::<i64>().ok();
        if let Some((o, u)) = r.split_once('/') {
            if let (Some(o), Some(u)) = (
                o.strip_prefix("org:").and_then(num),
                u.strip_prefix("user:").and_then(num),
            ) {
                return format!("{} ({})", self.user(u), self.org(o));
            }
        }
        match r.split_once(':') {
            Some(("org", id)) if num(id).is_some() => self.org(num(id).unwrap_or(0)),
            Some(("user", id)) if num(id).is_some() => self.user(num(id).unwrap_or(0)),
            Some(("peer", id)) => format!("federation peer {id}"),
            Some((kind, id)) => format!("{} {id}", kind.replace('_', " ")),
            None => match r {
                "system" => "the server".to_string(),
                "cli" => "an administrator (command line)".to_string(),
                other => other.replace('_', " "),
            },
        }
    }
    /// An audit entry's JSON detail as a list of fields (`<dl>`), escaped; organisation and user
    /// ids named; text that is not a JSON object shown as it is.
    pub fn detail_html(&self, detail: &str) -> String {
        let Ok(Value::Object(m)) = serde_json::from_str::<Value>(detail) else {
            return if detail.trim().is_empty() || detail.trim() == "{}" {
                String::new()
            } else {
                escape(detail)
            };
        };
        if m.is_empty() {
            return String::new();
        }
        let mut b = String::from("<dl class=\"fields\">");
        for (k, v) in &m {
            let _ = write!(
                b,
                "<dt>{}</dt><dd>{}</dd>",
                escape(&k.replace('_', " ")),
                escape(&self.value(k, v))
            );
        }
        b.push_str("</dl>");
        b
    }
    fn value(&self, key: &str, v: &Value) -> String {
        match v {
            Value::Null => "-".to_string(),
            Value::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
            Value::Number(n) => match n.as_i64() {
                Some(id)
                    if key.ends_with("org_id")
                        || matches!(
                            key,
                            "org" | "grantee" | "grantor" | "addressee" | "requester" | "owner"
                        ) =>
                {
                    self.org(id)
                }
                Some(id) if key.ends_with("user_id") || key == "user" => self.user(id),
                // Times: seconds (or milliseconds) since the epoch, shown as UTC.
                Some(t)
                    if (key.ends_with("_at")
                        || matches!(
                            key,
                            "expires" | "deadline" | "valid_from" | "valid_until"
                        ))
                        && t > 0 =>
                {
                    time::format(if t > 100_000_000_000 { t / 1000 } else { t })
                }
                _ => n.to_string(),
            },
            Value::String(t) => {
                if t == "*" {
                    "all".to_string()
                } else if t.starts_with("org:") || t.starts_with("user:") {
                    self.reference(t)
                } else {
                    t.clone()
                }
            }
            Value::Array(a) => a
                .iter()
                .map(|x| self.value(key, x))
                .collect::<Vec<_>>()
                .join(", "),
            Value::Object(o) => o
                .iter()
                .map(|(k, x)| format!("{}: {}", k.replace('_', " "), self.value(k, x)))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

/// An audit action (`record.create`) in words (`record create`).
pub fn action_words(a: &str) -> String {
    a.replace(['.', '_'], " ")
}

fn list(v: &[String]) -> String {
    if v.iter().any(|x| x == "*") {
        "all".to_string()
    } else {
        esc_list(v)
    }
}

/// What the page shows around its forms: the values and refusal of the form just sent, the
/// record being edited, or the confirmation of a form that succeeded.
#[derive(Debug, Default)]
pub struct FormState {
    /// The form the values and error belong to: `record`, `record-ID` (editing), `agreement`,
    /// `request`, `respond-ID`; `delete-ID`, `revoke-ID`, `withdraw-ID` for one-button forms.
    pub form: String,
    pub values: Params,
    pub error: Option<String>,
    /// Record whose values fill the record form (`?edit=ID`).
    pub edit: Option<i64>,
    /// Key of a confirmation in [`super::partner_forms::DONE`] (`?done=KEY`).
    pub done: Option<String>,
}

/// GET /partner (`?verify=1` starts an audit verification, `?edit=ID` fills the record form
/// with a record to edit, `?done=KEY` confirms a form that succeeded).
pub async fn page(
    State(s): State<AppState>,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(p) = session(&s, &headers).await else {
        return to_login("/partner");
    };
    let qp = Params::parse(q.as_deref().unwrap_or(""));
    let form = FormState {
        edit: qp.get("edit").and_then(|v| v.parse().ok()),
        done: qp.get("done").map(str::to_string),
        ..FormState::default()
    };
    let verify = qp.get("verify") == Some("1");
    render_page(&s, &p, form, verify, StatusCode::OK).await
}

/// The page with a form's state, answered with `status` (a refused form: its 4xx).
pub async fn page_with(
    s: &AppState,
    p: &Principal,
    form: FormState,
    status: StatusCode,
) -> Response {
    render_page(s, p, form, false, status).await
}

async fn render_page(
    s: &AppState,
    p: &Principal,
    form: FormState,
    verify: bool,
    status: StatusCode,
) -> Response {
    match body(s, p, verify, &form).await {
        Ok(b) => page_response(
            status,
            &format!("Partner exchange: {}", p.org.name),
            Nav::Partner,
            Some(p),
            &b,
        ),
        Err(e) => {
            tracing::error!(code = e.code, message = %e.message, "partner page failed");
            super::error_page(e.status(), "Partner exchange", &e.message, Some(p))
        }
    }
}

async fn body(
    s: &AppState,
    p: &Principal,
    verify: bool,
    form: &FormState,
) -> crate::error::ApiResult<String> {
    let now = time::now();
    let orgs: HashMap<i64, String> = s
        .store
        .orgs()
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let org_name = |id: i64| escape(orgs.get(&id).map_or("?", String::as_str));
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<p class="lead">Critical-item data your organisation publishes and what partners share with it under sharing agreements and information requests. You see exactly what the agreements allow; fields an agreement does not release show as &mdash;.</p><dl class="kv"><dt>Organisation</dt><dd>{}</dd><dt>User</dt><dd>{} ({})</dd></dl>"#,
        escape(&p.org.name),
        escape(&p.user_name),
        p.role.as_str()
    );
    b.push_str(r##"<nav aria-label="On this page" class="noprint"><p><a href="#records">Own records</a> · <a href="#shared">Shared with you</a> · <a href="#aggregates">Country aggregates</a> · <a href="#agreements">Agreements</a> · <a href="#requests">Information requests</a> · <a href="#readers">Who read your records</a> · <a href="#audit">Audit trail</a></p></nav>"##);
    // Confirmations and refusals go here once the page is built (a refusal shows inside its
    // form when the form is on the page, at the top otherwise).
    const NOTICES: &str = "<!--notices-->";
    b.push_str(NOTICES);

    let own = exchange::visible_records(s, &p.org, &p.actor(), None, None, true, false).await?;
    let shared = exchange::visible_records(s, &p.org, &p.actor(), None, None, false, true).await?;
    let analyst = p.role >= Role::Analyst;
    let admin = p.role >= Role::Admin;
    // Other local organisations: partners an agreement or a request can name.
    let partners: Vec<(i64, String)> = s
        .store
        .orgs()
        .await?
        .into_iter()
        .filter(|o| o.id != p.org.id && o.kind == chipwatch_store::partner::OrgKind::Local)
        .map(|o| (o.id, o.name))
        .collect();
    let _ = write!(
        b,
        r#"<h2 id="records">Own records ({})</h2>{}"#,
        own.len(),
        records_table(
            &s.model,
            "Records owned by your organisation",
            &own,
            &orgs,
            true,
            analyst
        )
    );
    if analyst {
        let editing = form.edit.and_then(|id| own.iter().find(|r| r.id == id));
        if form.edit.is_some() && editing.is_none() {
            b.push_str("<div class=\"error\" role=\"alert\"><p>That record is not one of your organisation's records.</p></div>");
        }
        let groups: Vec<(i64, String)> = s
            .store
            .sharing_groups_of(p.org.id)
            .await?
            .into_iter()
            .map(|g| (g.id, g.name))
            .collect();
        let items: Vec<(String, String)> = s
            .model
            .items()
            .map(|(_, i)| (i.id.clone(), i.name.clone()))
            .collect();
        b.push_str(&forms::record_form(form, editing, &groups, &items));
    } else {
        b.push_str("<p class=\"muted\">Publishing and editing records needs the analyst role.</p>");
    }
    let _ = write!(
        b,
        r#"<h2 id="shared">Shared with you ({})</h2>{}"#,
        shared.len(),
        records_table(
            &s.model,
            "Partners' records released to you (firm-level agreements)",
            &shared,
            &orgs,
            false,
            false
        )
    );
    let axum::Json(agg) = exchange::aggregates(
        State(s.clone()),
        Auth(p.clone()),
        Query(exchange::AggregatesQuery {
            item: None,
            metric: None,
        }),
    )
    .await?;
    b.push_str(r#"<h3 id="aggregates">Country aggregates</h3>"#);
    if let Some(rows) = agg
        .get("aggregates")
        .and_then(Value::as_array)
        .filter(|r| !r.is_empty())
    {
        b.push_str(r#"<table><caption>Country aggregates released to you (country-level agreements; groups with too few distinct firms or one dominant firm are suppressed; a figure is renewed only when enough firms changed)</caption><thead><tr><th scope="col">From</th><th scope="col">Item</th><th scope="col">Metric</th><th scope="col">Country</th><th scope="col" class="n">Sum</th><th scope="col">Unit</th><th scope="col">Period</th><th scope="col">As of (UTC)</th></tr></thead><tbody>"#);
        for r in rows {
            let g = |k: &str| {
                r.get(k)
                    .and_then(Value::as_str)
                    .map(escape)
                    .unwrap_or_default()
            };
            let _ = write!(
                b,
                r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="n">{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>"#,
                org_name(r.get("grantor_org_id").and_then(Value::as_i64).unwrap_or(0)),
                g("item"),
                g("metric"),
                g("country"),
                r.get("value_sum")
                    .and_then(Value::as_f64)
                    .map_or(String::new(), |v| v.to_string()),
                g("unit"),
                g("period"),
                escape(&time::format(
                    r.get("as_of").and_then(Value::as_i64).unwrap_or(0)
                )),
                if r.get("current").and_then(Value::as_bool) == Some(false) {
                    " (newer data held back)"
                } else {
                    ""
                }
            );
        }
        b.push_str("</tbody></table>");
    } else {
        b.push_str("<p class=\"muted\">No country aggregates released to you (they need a country-level agreement and enough distinct firms).</p>");
    }

    // Agreements.
    let ags = s.store.agreements_of(p.org.id).await?;
    let _ = write!(
        b,
        r#"<h2 id="agreements">Sharing agreements ({})</h2>"#,
        ags.len()
    );
    if ags.is_empty() {
        b.push_str("<p class=\"muted\">No agreements granted or received.</p>");
    } else {
        let _ = write!(
            b,
            r#"<table><thead><tr><th scope="col">Id</th><th scope="col">Direction</th><th scope="col">Partner</th><th scope="col">Items</th><th scope="col">Metrics</th><th scope="col">Fields released</th><th scope="col">Granularity</th><th scope="col">Valid</th><th scope="col">Status</th>{}</tr></thead><tbody>"#,
            if admin {
                r#"<th scope="col">Actions</th>"#
            } else {
                ""
            }
        );
        for a in &ags {
            let granted = a.grantor_org_id == p.org.id;
            let status = if a.revoked_at.is_some() {
                format!(
                    "<span class=\"bad\">revoked {}</span>",
                    escape(&time::format(a.revoked_at.unwrap_or(0)))
                )
            } else if policy::agreement_active(a, now) {
                "<span class=\"ok\">active</span>".to_string()
            } else {
                "<span class=\"warn\">not in force</span>".to_string()
            };
            let _ = write!(
                b,
                r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{} &ndash; {}</td><td>{}</td>{}</tr>"#,
                a.id,
                if granted {
                    "granted by you"
                } else {
                    "granted to you"
                },
                org_name(if granted {
                    a.grantee_org_id
                } else {
                    a.grantor_org_id
                }),
                list(&a.items),
                list(&a.metrics),
                esc_list(&a.fields),
                escape(a.granularity.as_str()),
                if a.granularity == policy::Granularity::Country {
                    format!(" (min. {} firms)", a.min_firms)
                } else {
                    String::new()
                },
                escape(&time::format(a.valid_from)),
                a.valid_until
                    .map(|t| escape(&time::format(t)))
                    .unwrap_or_else(|| "open".into()),
                status,
                match (admin, granted && a.revoked_at.is_none()) {
                    (false, _) => String::new(),
                    (true, true) => format!(
                        "<td>{}</td>",
                        forms::button(
                            &format!("/partner/agreements/{}/revoke", a.id),
                            "Revoke",
                            &format!("agreement {}", a.id)
                        )
                    ),
                    (true, false) => "<td></td>".to_string(),
                }
            );
        }
        b.push_str("</tbody></table>");
    }
    if admin {
        if partners.is_empty() {
            b.push_str("<p class=\"muted\">No other organisation on this server to grant an agreement to.</p>");
        } else {
            b.push_str(&forms::agreement_form(form, &partners));
        }
    } else {
        b.push_str("<p class=\"muted\">Granting and revoking agreements needs the admin role.</p>");
    }

    // Information requests.
    let reqs = s.store.requests_of(p.org.id).await?;
    let _ = write!(
        b,
        r#"<h2 id="requests">Information requests ({})</h2>"#,
        reqs.len()
    );
    if reqs.is_empty() {
        b.push_str("<p class=\"muted\">No requests sent or received.</p>");
    } else {
        let _ = write!(
            b,
            r#"<table><thead><tr><th scope="col">Id</th><th scope="col">Direction</th><th scope="col">Partner</th><th scope="col">Legal basis</th><th scope="col">Purpose</th><th scope="col">Scope</th><th scope="col">Deadline</th><th scope="col">Confidentiality</th><th scope="col">Status</th>{}</tr></thead><tbody>"#,
            if analyst {
                r#"<th scope="col">Actions</th>"#
            } else {
                ""
            }
        );
        for r in &reqs {
            let sent = r.requester_org_id == p.org.id;
            let _ = write!(
                b,
                r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>items {}; metrics {}</td><td>{}{}</td><td>{}</td><td>{}</td>{}</tr>"#,
                r.id,
                if sent { "sent" } else { "received" },
                org_name(if sent {
                    r.addressee_org_id
                } else {
                    r.requester_org_id
                }),
                escape(&r.legal_basis),
                escape(&r.purpose),
                list(&r.scope_items),
                list(&r.scope_metrics),
                escape(&time::format(r.deadline)),
                if r.status != RequestStatus::Open {
                    String::new()
                } else if r.deadline < now {
                    format!(
                        " <span class=\"badge bad\">{}</span>",
                        deadline_words(r.deadline, now)
                    )
                } else {
                    format!(
                        " <span class=\"muted\">({})</span>",
                        deadline_words(r.deadline, now)
                    )
                },
                escape(r.confidentiality.as_str()),
                escape(r.status.as_str()),
                match (analyst, r.status == RequestStatus::Open, sent) {
                    (false, _, _) => String::new(),
                    (true, true, true) => format!(
                        "<td>{}</td>",
                        forms::button(
                            &format!("/partner/requests/{}/withdraw", r.id),
                            "Withdraw",
                            &format!("request {}", r.id)
                        )
                    ),
                    (true, true, false) => format!(
                        r##"<td><a href="#respond-{}">Answer or decline</a></td>"##,
                        r.id
                    ),
                    (true, false, _) => "<td></td>".to_string(),
                }
            );
        }
        b.push_str("</tbody></table>");
        if analyst {
            for r in reqs
                .iter()
                .filter(|r| r.addressee_org_id == p.org.id && r.status == RequestStatus::Open)
            {
                b.push_str(&forms::respond_form(form, r, &own));
            }
        }
        // Records attached to answered requests this organisation sent, under the request's terms.
        for r in reqs
            .iter()
            .filter(|r| r.requester_org_id == p.org.id && r.status == RequestStatus::Answered)
        {
            match requests::request_records(State(s.clone()), Auth(p.clone()), Path(r.id)).await {
                Ok(axum::Json(v)) => {
                    let recs: Vec<RecordView> = v
                        .get("records")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(record_view).collect())
                        .unwrap_or_default();
                    b.push_str(&records_table(
                        &s.model,
                        &format!("Records provided under request {}", r.id),
                        &recs,
                        &orgs,
                        false,
                        false,
                    ));
                }
                Err(e) if e.code == "forbidden" => {
                    let _ = write!(b, "<p class=\"muted\">Request {}: confidential; its records are visible to analysts and admins only.</p>", r.id);
                }
                Err(e) => return Err(e),
            }
        }
    }
    if analyst {
        if partners.is_empty() {
            b.push_str(
                "<p class=\"muted\">No other organisation on this server to send a request to.</p>",
            );
        } else {
            b.push_str(&forms::request_form(form, &partners));
        }
    } else {
        b.push_str("<p class=\"muted\">Sending and answering requests needs the analyst role.</p>");
    }

    // Who read the organisation's records.
    let own_ids: std::collections::HashSet<i64> = s
        .store
        .records_of_orgs(&[p.org.id], None, None)
        .await?
        .iter()
        .map(|r| r.id)
        .collect();
    b.push_str(&super::partner_readers::section(s, p, &orgs, &own_ids).await?);

    let in_form = b.contains(forms::IN_FORM_MARK);
    b = b.replacen(NOTICES, &forms::notices(form, in_form), 1);

    // Audit trail.
    b.push_str(r#"<h2 id="audit">Audit trail</h2>"#);
    if p.role < Role::Admin {
        b.push_str("<p class=\"muted\">The audit trail is visible to your organisation's administrators.</p>");
    } else {
        let prefix = format!("org:{}/", p.org.id);
        let newest = audit::newest_entries(&s.store, Some(&prefix), AUDIT_SHOWN as i64).await?;
        // Verifying reads the whole log: it runs as the server's one background job, started
        // only by instance admins (routes::audit), never on the page request itself.
        use crate::routes::audit::{is_instance_admin, start_verification, JobState};
        if !is_instance_admin(s, p).await? {
            b.push_str("<p class=\"muted\">The integrity of the whole log is verified by the instance administrators.</p>");
        } else {
            if verify {
                match start_verification(s, p).await {
                    Ok(_) => {}
                    // Already running: show that run's status.
                    Err(e) if e.code == "conflict" => {}
                    Err(e) => return Err(e),
                }
            }
            let st = s.audit_job.status();
            let rerun = r#"<a href="/partner?verify=1#audit">Verify the whole audit log</a> (runs in the background; reload to see the result)"#;
            match st.state {
                JobState::Idle => {
                    let _ = write!(b, "<p>Not verified since the server started. {rerun}.</p>");
                }
                JobState::Running => {
                    let _ = write!(
                        b,
                        "<p>Verification run {} is running. <a href=\"/partner#audit\">Reload</a>.</p>",
                        st.run
                    );
                }
                JobState::Failed => {
                    let _ = write!(
                        b,
                        "<p><span class=\"bad\">Verification run {} failed</span>: {}. {rerun}.</p>",
                        st.run,
                        escape(st.error.as_deref().unwrap_or("unknown error"))
                    );
                }
                JobState::Done => {
                    let ok = st.ok == Some(true);
                    let _ = write!(
                        b,
                        "<p>Keyed chain (run {}): {} ({} entries in the whole log{}). {rerun}.</p>",
                        st.run,
                        if ok {
                            "<span class=\"ok\">intact</span>"
                        } else {
                            "<span class=\"bad\">BROKEN</span>"
                        },
                        st.entries.unwrap_or(0),
                        if ok {
                            String::new()
                        } else {
                            format!("; {}", escape(&st.problems.join("; ")))
                        }
                    );
                }
            }
        }
        b.push_str(r#"<table><caption>Newest entries caused by your organisation's users</caption><thead><tr><th scope="col" class="n">Seq</th><th scope="col">Time (UTC)</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Object</th><th scope="col">Detail</th><th scope="col">Hash</th></tr></thead><tbody>"#);
        let names = Names {
            orgs: orgs.clone(),
            users: s
                .store
                .users_of(p.org.id)
                .await?
                .into_iter()
                .map(|u| (u.id, u.name))
                .collect(),
        };
        for e in &newest {
            let _ = write!(
                b,
                r#"<tr><td class="n">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code title="{}">{}</code></td></tr>"#,
                e.seq,
                escape(&time::format(e.ts / 1000)),
                escape(&names.reference(&e.actor)),
                escape(&action_words(&e.action)),
                escape(&names.reference(&e.object)),
                names.detail_html(&e.detail),
                escape(&e.hash),
                escape(&e.hash.chars().take(12).collect::<String>())
            );
        }
        b.push_str("</tbody></table>");
    }
    Ok(b)
}

/// A record view back from its JSON (the request endpoint answers JSON).
fn record_view(v: &Value) -> Option<RecordView> {
    let g = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    Some(RecordView {
        id: v.get("id")?.as_i64()?,
        uid: g("uid").unwrap_or_default(),
        owner_org_id: v.get("owner_org_id")?.as_i64()?,
        item: g("item")?,
        metric: g("metric")?,
        tlp: serde_json::from_value(v.get("tlp")?.clone()).ok()?,
        distribution: serde_json::from_value(v.get("distribution")?.clone()).ok()?,
        provider: g("provider"),
        site: g("site"),
        country: g("country"),
        value: v.get("value").and_then(Value::as_f64),
        unit: g("unit"),
        period: g("period"),
        provenance: g("provenance"),
        sharing_group_id: None,
        origin: None,
        created_at: v.get("created_at").and_then(Value::as_i64).unwrap_or(0),
    })
}
