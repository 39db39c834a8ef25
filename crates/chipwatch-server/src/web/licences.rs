//! The licence register's pages: the register with its filters (`/licences`), and a licence on
//! a date (`/licences/{id}`) with its status, what is left per item line, its timeline, and
//! forms to draw a shipment down, record an event, and see what a proposed event (a revocation)
//! would take away before recording it.
//!
//! Forms post to dashboard routes that check the session and the origin (as the partner forms
//! do), turn the form into the API's body and call the API's own operations
//! (`routes::licences::{draw, record_event, propose}`): the role checks, the controls crate's
//! rules, tenant isolation and audit entries are the API's. A refused form comes back with the
//! reason and the values as typed (4xx); a form that succeeded redirects (post/redirect/get).

use super::{error_page, options, page_response, query_string, session, to_login, Nav, Params};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::routes::licences::{self as api, RegisterQuery};
use crate::AppState;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chipwatch_controls::licence::{EventImpact, ShipmentDraw, Status};
use chipwatch_controls::Date;
use chipwatch_report::svg::escape;
use chipwatch_store::licences::{today, StoredLicence, STATUSES};
use chipwatch_store::partner::{Principal, Role};
use serde_json::{json, Map, Value};
use std::fmt::Write;

/// Confirmations after a form succeeded (`?done=KEY`): fixed texts, nothing reflected.
const DONE: &[(&str, &str)] = &[
    ("shipment", "Shipment drawn down."),
    ("event", "Event recorded."),
];

const EVENT_KINDS: &[(&str, &str)] = &[
    ("partial_revocation", "partial revocation"),
    ("full_revocation", "full revocation"),
    ("suspension", "suspension"),
    ("reinstatement", "reinstatement"),
    ("amendment", "amendment"),
];

/// A number as people write it (no trailing `.0`).
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{:.2}", v)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

fn opt_num(v: Option<f64>) -> String {
    v.map_or_else(|| "no ceiling".to_string(), num)
}

fn status_text(s: &Status) -> String {
    match s {
        Status::NotYetValid { valid_from } => format!("not yet valid (from {valid_from})"),
        Status::Active => "active".into(),
        Status::Suspended { since, until } => match until {
            Some(u) => format!("suspended since {since} until {u}"),
            None => format!("suspended since {since}"),
        },
        Status::Revoked { on, reason } => format!("revoked on {on}: {reason}"),
        Status::Expired { on } => format!("expired on {on}"),
    }
}

fn join<'a>(v: impl IntoIterator<Item = &'a String>) -> String {
    let list: Vec<&str> = v.into_iter().map(String::as_str).collect();
    if list.is_empty() {
        "—".into()
    } else {
        escape(&list.join("; "))
    }
}

// ---------------------------------------------------------------------------------------------
// The register

/// GET /licences: the organisation's register on a date, with filters.
pub async fn register(State(s): State<AppState>, headers: HeaderMap, q: RawQuery) -> Response {
    let Some(p) = session(&s, &headers).await else {
        return to_login("/licences");
    };
    let f = Params::from_query(&q);
    let get = |n: &str| f.get(n).map(str::to_string);
    let rq = RegisterQuery {
        date: get("date"),
        status: get("status"),
        holder: get("holder"),
        destination: get("destination"),
        product: get("product"),
        authority: get("authority"),
        q: get("q"),
        ..Default::default()
    };
    let (filter, error) = match rq.filter() {
        Ok(x) => (Some(x), None),
        Err(e) => (None, Some(e.message)),
    };
    let date = filter.as_ref().and_then(|x| x.date).unwrap_or_else(today);
    let entries = match &filter {
        Some(x) => match s.store.licences(p.org.id, x).await {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %e, "licence register page failed");
                return error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Licence register",
                    "The register could not be read; see the server log.",
                    Some(&p),
                );
            }
        },
        None => Vec::new(),
    };
    let v = |n: &str| escape(f.get(n).unwrap_or(""));
    let mut statuses = vec![(String::new(), "any".to_string())];
    statuses.extend(
        STATUSES
            .iter()
            .map(|s| (s.to_string(), s.replace('_', " "))),
    );
    let mut b = String::new();
    if let Some(e) = &error {
        let _ = write!(
            b,
            r#"<div class="error" role="alert" id="filter-error"><p>{}</p></div>"#,
            escape(e)
        );
    }
    let _ = write!(
        b,
        r#"<form class="panel" method="get" action="/licences" aria-label="Filter the register"><div class="fields">
<div><label for="f-date">On date</label><input type="date" id="f-date" name="date" value="{date}"></div>
<div><label for="f-status">Status on that date</label><select id="f-status" name="status">{st}</select></div>
<div><label for="f-holder">Holder</label><input type="text" id="f-holder" name="holder" size="16" value="{holder}"></div>
<div><label for="f-dest">Destination <span class="hint">(ISO alpha-3)</span></label><input type="text" id="f-dest" name="destination" size="5" maxlength="3" value="{dest}"></div>
<div><label for="f-product">Product or control entry</label><input type="text" id="f-product" name="product" size="14" value="{product}"></div>
<div><label for="f-authority">Authority</label><input type="text" id="f-authority" name="authority" size="14" value="{authority}"></div>
<div><label for="f-q">Text</label><input type="search" id="f-q" name="q" size="14" value="{text}"></div>
<div><button type="submit">Filter</button> <a href="/licences">Clear</a></div></div></form>"#,
        date = if f.has("date") {
            v("date")
        } else {
            date.to_string()
        },
        st = options(&statuses, &[f.get("status").unwrap_or("").to_string()]),
        holder = v("holder"),
        dest = v("destination"),
        product = v("product"),
        authority = v("authority"),
        text = v("q"),
    );
    let mut csv_q: Vec<(String, String)> = f.pairs().to_vec();
    csv_q.retain(|(k, _)| k != "format");
    csv_q.push(("format".into(), "csv".into()));
    let _ = write!(
        b,
        r#"<p><a href="/api/v1/licences?{}">Download as CSV</a> · licences are registered through the API (<code>POST /api/v1/licences</code>).</p>"#,
        escape(&query_string(&csv_q))
    );
    let _ = write!(
        b,
        r#"<div class="scroll"><table id="register"><caption>{n} licence{s} on {date}</caption><thead><tr><th scope="col">Number</th><th scope="col">Holder</th><th scope="col">Authority</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Valid until</th><th scope="col">Destinations</th><th scope="col">Products</th><th scope="col" class="n">Shipments</th></tr></thead><tbody>"#,
        n = entries.len(),
        s = if entries.len() == 1 { "" } else { "s" },
    );
    for e in &entries {
        let l = &e.licence.licence;
        let products: Vec<String> = l.items.iter().filter_map(|i| i.product.clone()).collect();
        let _ = write!(
            b,
            r#"<tr><th scope="row"><a href="/licences/{id}?date={date}">{number}</a></th><td>{holder}</td><td>{authority}</td><td>{kind}</td><td><span class="badge">{status}</span></td><td>{until}</td><td>{dest}</td><td>{products}</td><td class="n">{ships}</td></tr>"#,
            id = e.licence.id,
            number = escape(&l.number),
            holder = escape(&l.holder),
            authority = escape(&l.authority),
            kind = escape(&json!(l.kind).as_str().unwrap_or_default().replace('_', " ")),
            status = escape(&status_text(&e.state.status)),
            until = e
                .state
                .valid_until
                .map_or("until revoked".into(), |d| d.to_string()),
            dest = join(&e.state.destinations),
            products = join(&products),
            ships = e.licence.shipments.len(),
        );
    }
    if entries.is_empty() {
        b.push_str(r#"<tr><td colspan="9">No licence matches.</td></tr>"#);
    }
    b.push_str("</tbody></table></div>");
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    page_response(
        status,
        &format!("Licence register: {}", p.org.name),
        Nav::Licences,
        Some(&p),
        &b,
    )
}

// ---------------------------------------------------------------------------------------------
// One licence

/// A form's values and outcome, to show the page again.
#[derive(Debug, Default)]
struct FormState {
    /// `shipment` or `event`.
    form: String,
    values: Params,
    error: Option<String>,
    done: Option<String>,
    impact: Option<EventImpact>,
    /// The same event's supply effect (scenario engine).
    decision: Option<chipwatch_controls::licence_impact::DecisionImpact>,
}

/// GET /licences/{id}?date=: the licence on a date.
pub async fn licence(
    State(s): State<AppState>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    q: RawQuery,
) -> Response {
    let Some(p) = session(&s, &headers).await else {
        return to_login(&format!("/licences/{}", super::url_encode(&id)));
    };
    let f = Params::from_query(&q);
    let state = FormState {
        done: f.get("done").map(str::to_string),
        ..Default::default()
    };
    match api::date_param("date", f.get("date")) {
        Ok(d) => page(&s, &p, &id, d.unwrap_or_else(today), state, StatusCode::OK).await,
        Err(e) => error_page(StatusCode::BAD_REQUEST, "Licence", &e.message, Some(&p)),
    }
}

async fn page(
    s: &AppState,
    p: &Principal,
    id: &str,
    date: Date,
    form: FormState,
    status: StatusCode,
) -> Response {
    let not_found = || {
        error_page(
            StatusCode::NOT_FOUND,
            "Licence not found",
            "No such licence in your organisation's register.",
            Some(p),
        )
    };
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    let l = match s.store.licence(p.org.id, id).await {
        Ok(l) => l,
        Err(chipwatch_store::StoreError::NotFound(_)) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "licence page failed");
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Licence",
                "The licence could not be read; see the server log.",
                Some(p),
            );
        }
    };
    let body = licence_body(&l, p, date, &form);
    page_response(
        status,
        &format!("Licence {}", l.licence.number),
        Nav::Licences,
        Some(p),
        &body,
    )
}

fn licence_body(l: &StoredLicence, p: &Principal, date: Date, form: &FormState) -> String {
    let g = &l.licence;
    let st = l.record().state_on(date);
    let mut b = String::new();
    if let Some((_, msg)) = form
        .done
        .as_deref()
        .and_then(|k| DONE.iter().find(|(key, _)| *key == k))
    {
        let _ = write!(b, r#"<div class="notice" role="status"><p>{msg}</p></div>"#);
    }
    let _ = write!(
        b,
        r#"<p><a href="/licences?date={date}">Back to the register</a></p>
<form class="panel" method="get" action="/licences/{id}" aria-label="Show the licence on a date"><div class="fields"><div><label for="l-date">On date</label><input type="date" id="l-date" name="date" value="{date}"></div><div><button type="submit">Show on this date</button></div></div></form>
<h2 id="status">Status on {date}: <span class="badge">{status}</span></h2>
<dl class="kv"><dt>Number</dt><dd>{number}</dd><dt>Authority</dt><dd>{authority} ({jur})</dd><dt>Kind</dt><dd>{kind}</dd><dt>Holder</dt><dd>{holder}</dd>
<dt>Consignees on {date}</dt><dd>{consignees}</dd><dt>End users</dt><dd>{end_users}</dd><dt>Destinations on {date}</dt><dd>{dest}</dd>
<dt>Granted</dt><dd>{granted}</dd><dt>Valid</dt><dd>from {from} until {until}</dd><dt>Legal basis</dt><dd>{measure}, version {version}</dd><dt>Conditions</dt><dd>{conditions}</dd></dl>"#,
        id = l.id,
        status = escape(&status_text(&st.status)),
        number = escape(&g.number),
        authority = escape(&g.authority),
        jur = escape(&g.jurisdiction),
        kind = escape(&json!(g.kind).as_str().unwrap_or_default().replace('_', " ")),
        holder = escape(&g.holder),
        // The state compares parties by key; show them as the licence spells them.
        consignees = join(g.consignees.iter().filter(|c| {
            st.consignees
                .contains(&chipwatch_controls::licence::party_key(c))
        })),
        end_users = join(g.end_users.iter().filter(|c| {
            st.end_users
                .contains(&chipwatch_controls::licence::party_key(c))
        })),
        dest = join(&st.destinations),
        granted = g.granted_on,
        from = g.valid_from,
        until = st.valid_until.map_or("revoked".into(), |d| d.to_string()),
        measure = escape(&g.legal_basis.measure_id),
        version = escape(&g.legal_basis.version),
        conditions = join(&g.conditions),
    );
    // Draw-down per line.
    let _ = write!(
        b,
        r#"<div class="scroll"><table id="drawdown"><caption>Draw-down on {date}{cur}</caption><thead><tr><th scope="col">Line</th><th scope="col">Item</th><th scope="col">Control entry</th><th scope="col" class="n">Quantity authorised</th><th scope="col" class="n">Shipped</th><th scope="col" class="n">Quantity left</th><th scope="col" class="n">Value ceiling</th><th scope="col" class="n">Value shipped</th><th scope="col" class="n">Value left</th></tr></thead><tbody>"#,
        cur = g
            .currency
            .as_deref()
            .map(|c| format!(" (values in {})", escape(c)))
            .unwrap_or_default(),
    );
    for d in api::drawdown(l, &st) {
        let _ = write!(
            b,
            r#"<tr><th scope="row">{id}{revoked}</th><td>{desc}{product}</td><td>{entry}</td><td class="n">{ceiling}</td><td class="n">{shipped}</td><td class="n">{left}</td><td class="n">{vceil}</td><td class="n">{vship}</td><td class="n">{vleft}</td></tr>"#,
            id = escape(&d.item),
            revoked = if d.revoked {
                " <span class=\"badge\">revoked</span>"
            } else {
                ""
            },
            desc = escape(&d.description),
            product = d
                .product
                .as_deref()
                .map(|x| format!(" ({})", escape(x)))
                .unwrap_or_default(),
            entry = escape(d.control_entry.as_deref().unwrap_or("—")),
            ceiling = opt_num(d.quantity_ceiling),
            shipped = num(d.shipped_quantity),
            left = if d.revoked {
                "0 (revoked)".into()
            } else {
                opt_num(d.remaining_quantity)
            },
            vceil = opt_num(d.value_ceiling),
            vship = num(d.shipped_value),
            vleft = opt_num(d.remaining_value),
        );
    }
    let _ = write!(
        b,
        r#"<tr><th scope="row" colspan="6">Whole licence</th><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td></tr></tbody></table></div>"#,
        opt_num(g.value_ceiling),
        num(st.shipped_value),
        opt_num(st.remaining_value)
    );
    // Timeline.
    b.push_str(r#"<h2 id="timeline">Timeline</h2><ol class="natural">"#);
    for t in api::timeline(l, date) {
        let _ = write!(
            b,
            r#"<li><b>{}</b> {}: {}{}</li>"#,
            t.date,
            escape(&t.kind.replace('_', " ")),
            escape(&t.text),
            if t.after_date {
                format!(" <span class=\"muted\">(after {date})</span>")
            } else {
                String::new()
            }
        );
    }
    b.push_str("</ol>");
    let writer = p.role >= Role::Analyst;
    if writer {
        b.push_str(&shipment_form(l, date, form));
    }
    if let Some(imp) = &form.impact {
        b.push_str(&impact_html(imp));
        if let Some(d) = &form.decision {
            b.push_str(&super::licence_supply::decision_html(d));
        }
    }
    b.push_str(&event_form(l, date, form, writer));
    b
}

fn error_block(form: &FormState, name: &str) -> String {
    match &form.error {
        Some(e) if form.form == name => format!(
            r#"<div class="error" role="alert" id="{name}-error"><p><b>Not recorded:</b> {}</p></div>"#,
            escape(e)
        ),
        _ => String::new(),
    }
}

fn shipment_form(l: &StoredLicence, date: Date, form: &FormState) -> String {
    let vals = if form.form == "shipment" {
        form.values.clone()
    } else {
        Params::default()
    };
    let v = |n: &str, default: &str| escape(vals.get(n).unwrap_or(default));
    let lines: Vec<(String, String)> = l
        .licence
        .items
        .iter()
        .map(|i| {
            let label = match &i.product {
                Some(p) => format!("{} — {} ({p})", i.id, i.description),
                None => format!("{} — {}", i.id, i.description),
            };
            (i.id.clone(), label)
        })
        .collect();
    let first_dest = l.licence.destinations.first().map_or("", String::as_str);
    let invalid = if form.form == "shipment" && form.error.is_some() {
        r#" aria-describedby="shipment-error""#
    } else {
        ""
    };
    format!(
        r#"<form class="panel" method="post" action="/licences/{id}/shipments" id="shipment-form" aria-labelledby="shipment-form-h"{invalid}><h2 id="shipment-form-h">Draw a shipment down</h2>{err}
<div class="fields">
<div><label for="s-ref">Reference</label><input type="text" id="s-ref" name="reference" required size="12" value="{reference}"></div>
<div><label for="s-date">Date</label><input type="date" id="s-date" name="date" required value="{sdate}"></div>
<div><label for="s-item">Item line</label><select id="s-item" name="item">{items}</select></div>
<div><label for="s-qty">Quantity</label><input type="text" inputmode="decimal" id="s-qty" name="quantity" required size="6" value="{quantity}"></div>
<div><label for="s-value">Value <span class="hint">(optional)</span></label><input type="text" inputmode="decimal" id="s-value" name="value" size="8" value="{value}"></div>
</div><div class="fields">
<div><label for="s-dest">Destination <span class="hint">(ISO alpha-3)</span></label><input type="text" id="s-dest" name="destination" required size="5" maxlength="3" value="{dest}"></div>
<div><label for="s-consignee">Consignee</label><input type="text" id="s-consignee" name="consignee" required size="28" value="{consignee}"></div>
<div><label for="s-enduser">End user <span class="hint">(optional)</span></label><input type="text" id="s-enduser" name="end_user" size="28" value="{end_user}"></div>
<div><button type="submit">Draw down</button></div></div></form>"#,
        id = l.id,
        err = error_block(form, "shipment"),
        reference = v("reference", ""),
        sdate = v("date", &date.to_string()),
        items = options(&lines, &[vals.get("item").unwrap_or("").to_string()]),
        quantity = v("quantity", ""),
        value = v("value", ""),
        dest = v("destination", first_dest),
        consignee = v("consignee", ""),
        end_user = v("end_user", ""),
    )
}

fn event_form(l: &StoredLicence, date: Date, form: &FormState, writer: bool) -> String {
    let vals = if form.form == "event" {
        form.values.clone()
    } else {
        Params::default()
    };
    let v = |n: &str, default: &str| escape(vals.get(n).unwrap_or(default));
    let kinds: Vec<(String, String)> = EVENT_KINDS
        .iter()
        .map(|(k, l)| (k.to_string(), l.to_string()))
        .collect();
    let record = if writer {
        r#" <button type="submit" formaction="/licences/{id}/events" class="secondary">Record event</button>"#
            .replace("{id}", &l.id.to_string())
    } else {
        String::new()
    };
    format!(
        r#"<form class="panel" method="post" action="/licences/{id}/impact" id="event-form" aria-labelledby="event-form-h"><h2 id="event-form-h">A proposed event: its impact, then record it</h2>{err}
<p class="hint">"Show impact" records nothing: it shows what the event would take away on its date. Lists are separated by semicolons.</p>
<div class="fields">
<div><label for="e-kind">Event</label><select id="e-kind" name="kind">{kinds}</select></div>
<div><label for="e-date">Date</label><input type="date" id="e-date" name="date" required value="{edate}"></div>
<div><label for="e-reason">Reason</label><input type="text" id="e-reason" name="reason" required size="36" value="{reason}"></div>
<div><label for="e-instrument">Instrument <span class="hint">(decision, notice)</span></label><input type="text" id="e-instrument" name="instrument" size="24" value="{instrument}"></div>
</div><fieldset><legend>Partial revocation: what is withdrawn</legend><div class="fields">
<div><label for="e-items">Item lines</label><input type="text" id="e-items" name="items" size="8" value="{items}"></div>
<div><label for="e-consignees">Consignees</label><input type="text" id="e-consignees" name="consignees" size="28" value="{consignees}"></div>
<div><label for="e-endusers">End users</label><input type="text" id="e-endusers" name="end_users" size="28" value="{end_users}"></div>
<div><label for="e-dests">Destinations</label><input type="text" id="e-dests" name="destinations" size="8" value="{dests}"></div>
<div><label for="e-qty">Quantities <span class="hint">(line=quantity; for an amendment the new ceiling)</span></label><input type="text" id="e-qty" name="quantities" size="10" value="{quantities}"></div>
</div></fieldset><fieldset><legend>Amendment or suspension</legend><div class="fields">
<div><label for="e-validuntil">New last day of validity</label><input type="date" id="e-validuntil" name="valid_until" value="{valid_until}"></div>
<div><label for="e-adddest">Add destinations</label><input type="text" id="e-adddest" name="add_destinations" size="8" value="{add_dest}"></div>
<div><label for="e-addcons">Add consignees</label><input type="text" id="e-addcons" name="add_consignees" size="24" value="{add_cons}"></div>
<div><label for="e-until">Suspended until</label><input type="date" id="e-until" name="until" value="{until}"></div>
</div></fieldset>
<div><button type="submit">Show impact</button>{record}</div></form>"#,
        id = l.id,
        err = error_block(form, "event"),
        kinds = options(
            &kinds,
            &[vals.get("kind").unwrap_or("partial_revocation").to_string()]
        ),
        edate = v("date", &date.to_string()),
        reason = v("reason", ""),
        instrument = v("instrument", ""),
        items = v("items", ""),
        consignees = v("consignees", ""),
        end_users = v("end_users", ""),
        dests = v("destinations", ""),
        quantities = v("quantities", ""),
        valid_until = v("valid_until", ""),
        add_dest = v("add_destinations", ""),
        add_cons = v("add_consignees", ""),
        until = v("until", ""),
    )
}

fn impact_html(imp: &EventImpact) -> String {
    let mut b = format!(
        r#"<section class="panel" id="impact" aria-labelledby="impact-h"><h2 id="impact-h">Impact of the proposed {} on {} (not recorded)</h2>"#,
        escape(&imp.event),
        imp.date
    );
    if imp.stops_everything {
        b.push_str("<p><b>Nothing can be shipped under the licence any more.</b></p>");
    }
    if imp.items.is_empty() {
        b.push_str("<p>No item line loses quantity.</p>");
    } else {
        b.push_str(r#"<table><caption>Item lines no longer authorised</caption><thead><tr><th scope="col">Line</th><th scope="col">Item</th><th scope="col" class="n">Quantity left that is withdrawn</th><th scope="col" class="n">Value left that is withdrawn</th></tr></thead><tbody>"#);
        for i in imp.items.iter() {
            let _ = write!(
                b,
                r#"<tr><th scope="row">{}</th><td>{}{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
                escape(&i.id),
                escape(&i.description),
                i.product
                    .as_deref()
                    .map(|x| format!(" ({})", escape(x)))
                    .unwrap_or_default(),
                opt_num(i.quantity),
                i.value.map_or("—".into(), num),
            );
        }
        b.push_str("</tbody></table>");
    }
    let _ = write!(
        b,
        r#"<dl class="kv"><dt>Consignees removed</dt><dd>{}</dd><dt>End users removed</dt><dd>{}</dd><dt>Destinations removed</dt><dd>{}</dd><dt>Value no longer authorised</dt><dd>{}</dd></dl></section>"#,
        join(&imp.consignees_removed),
        join(&imp.end_users_removed),
        join(&imp.destinations_removed),
        imp.value_no_longer_authorised.map_or("—".into(), num),
    );
    b
}

// ---------------------------------------------------------------------------------------------
// Forms

/// The signed-in user of a same-origin form post, or the answer to give instead.
async fn guard(s: &AppState, headers: &HeaderMap, back: &str) -> Result<Principal, Response> {
    let Some(p) = session(s, headers).await else {
        return Err(to_login(back));
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

fn required<'a>(f: &'a Params, field: &str, label: &str) -> ApiResult<&'a str> {
    f.get(field)
        .ok_or_else(|| ApiError::validation(format!("{label} is required")))
}

fn number(f: &Params, field: &str, label: &str) -> ApiResult<Option<f64>> {
    f.get(field)
        .map(|v| {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| ApiError::validation(format!("{label}: `{v}` is not a number")))
        })
        .transpose()
}

fn date(f: &Params, field: &str, label: &str) -> ApiResult<Date> {
    let v = required(f, field, label)?;
    Date::parse(v).map_err(|e| ApiError::validation(format!("{label}: {e}")))
}

/// The API body of the shipment form.
fn shipment_body(f: &Params) -> ApiResult<ShipmentDraw> {
    Ok(ShipmentDraw {
        reference: required(f, "reference", "Reference")?.to_string(),
        date: date(f, "date", "Date")?,
        item: required(f, "item", "Item line")?.to_string(),
        quantity: number(f, "quantity", "Quantity")?
            .ok_or_else(|| ApiError::validation("Quantity is required"))?,
        value: number(f, "value", "Value")?.unwrap_or(0.0),
        destination: required(f, "destination", "Destination")?.to_ascii_uppercase(),
        consignee: required(f, "consignee", "Consignee")?.to_string(),
        end_user: f.get("end_user").map(str::to_string),
    })
}

/// A list field: separated by semicolons or new lines (party names contain commas).
fn list(f: &Params, field: &str) -> Vec<String> {
    f.get(field)
        .unwrap_or("")
        .split([';', '\n'])
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// The API body of the event form: the kind, date, reason and instrument, and only the fields
/// filled in (a field the kind does not have is refused by the controls crate, by name).
fn event_value(f: &Params) -> ApiResult<Value> {
    let kind = required(f, "kind", "Event")?;
    if !EVENT_KINDS.iter().any(|(k, _)| *k == kind) {
        return Err(ApiError::validation(format!(
            "Event: `{kind}` is not an event kind"
        )));
    }
    let mut m = Map::new();
    m.insert("kind".into(), json!(kind));
    m.insert("date".into(), json!(date(f, "date", "Date")?.to_string()));
    m.insert("reason".into(), json!(required(f, "reason", "Reason")?));
    for field in ["instrument", "valid_until", "until"] {
        if let Some(v) = f.get(field) {
            m.insert(field.into(), json!(v));
        }
    }
    for field in [
        "items",
        "consignees",
        "end_users",
        "destinations",
        "add_destinations",
        "add_consignees",
    ] {
        let mut v = list(f, field);
        if field.contains("destinations") {
            v.iter_mut().for_each(|d| *d = d.to_ascii_uppercase());
        }
        if !v.is_empty() {
            m.insert(field.into(), json!(v));
        }
    }
    let q = list(f, "quantities");
    if !q.is_empty() {
        let mut qs = Map::new();
        for pair in q.iter().flat_map(|x| x.split(',')) {
            let parsed = pair
                .split_once('=')
                .and_then(|(k, v)| Some((k.trim(), v.trim().parse::<f64>().ok()?)));
            match parsed {
                Some((k, v)) if !k.is_empty() && v.is_finite() => {
                    qs.insert(k.to_string(), json!(v));
                }
                _ => {
                    return Err(ApiError::validation(format!(
                        "Quantities: `{}` is not LINE=QUANTITY",
                        pair.trim()
                    )))
                }
            }
        }
        m.insert("quantities".into(), Value::Object(qs));
    }
    Ok(Value::Object(m))
}

/// 303 See Other to `to` (after a form post).
pub(super) fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(l) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, l);
    }
    r
}

/// The page again after a refused form: the status of the error, the form's values kept.
async fn refused(
    s: &AppState,
    p: &Principal,
    id: &str,
    date: Date,
    form: &str,
    values: Params,
    e: ApiError,
) -> Response {
    let status = e.status();
    if status.is_server_error() {
        tracing::error!(code = e.code, message = %e.message, "licence form failed");
    }
    let state = FormState {
        form: form.into(),
        values,
        error: Some(e.message),
        ..Default::default()
    };
    page(s, p, id, date, state, status).await
}

/// The common start of the licence page's form posts: the signed-in same-origin user, the
/// form, the date it names (else today) and the licence id; or the answer to give instead.
async fn form_post(
    s: &AppState,
    headers: &HeaderMap,
    id: &str,
    body: &str,
) -> Result<(Principal, Params, Date, i64), Response> {
    let back = format!("/licences/{}", super::url_encode(id));
    let p = guard(s, headers, &back).await?;
    let f = Params::parse(body);
    let when = f
        .get("date")
        .and_then(|d| Date::parse(d).ok())
        .unwrap_or_else(today);
    match id.parse::<i64>() {
        Ok(lid) => Ok((p, f, when, lid)),
        Err(_) => Err(page(s, &p, id, when, FormState::default(), StatusCode::NOT_FOUND).await),
    }
}

/// POST /licences/{id}/shipments: draw a shipment down.
pub async fn post_shipment(
    State(s): State<AppState>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    body: String,
) -> Response {
    let (p, f, when, lid) = match form_post(&s, &headers, &id, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let r = match shipment_body(&f) {
        Ok(b) => api::draw(&s, &Auth(p.clone()), lid, b).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(Ok(_)) => redirect(&format!(
            "/licences/{lid}?date={when}&done=shipment#drawdown"
        )),
        Ok(Err(refusal)) => {
            let e = ApiError::validation(format!("Refused: {refusal}"));
            refused(&s, &p, &id, when, "shipment", f, e).await
        }
        Err(e) => refused(&s, &p, &id, when, "shipment", f, e).await,
    }
}

/// POST /licences/{id}/events: record an event.
pub async fn post_event(
    State(s): State<AppState>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    body: String,
) -> Response {
    let (p, f, when, lid) = match form_post(&s, &headers, &id, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let r = match event_value(&f) {
        Ok(v) => api::record_event(&s, &Auth(p.clone()), lid, v).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => redirect(&format!("/licences/{lid}?date={when}&done=event#timeline")),
        Err(e) => refused(&s, &p, &id, when, "event", f, e).await,
    }
}

/// POST /licences/{id}/impact: the impact of the proposed event, shown on the licence page
/// with the form still filled in (nothing recorded).
pub async fn post_impact(
    State(s): State<AppState>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    body: String,
) -> Response {
    let (p, f, when, lid) = match form_post(&s, &headers, &id, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let r = match event_value(&f) {
        Ok(v) => api::propose_with_supply(&s, &Auth(p.clone()), lid, v).await,
        Err(e) => Err(e),
    };
    match r {
        Ok((imp, decision)) => {
            let state = FormState {
                form: "event".into(),
                values: f,
                impact: Some(imp),
                decision: Some(decision),
                ..Default::default()
            };
            page(&s, &p, &id, when, state, StatusCode::OK).await
        }
        Err(e) => refused(&s, &p, &id, when, "event", f, e).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_form_becomes_the_api_body() {
        let f = Params::parse(
            "kind=partial_revocation&date=2024-01-01&reason=r&items=1&consignees=Delta+Co.%2C+Ltd.%3B+Eta+Ltd\
             &destinations=chn&quantities=2%3D2%3B+3%3D1.5&until=&instrument=",
        );
        let v = event_value(&f).unwrap();
        assert_eq!(
            v,
            json!({"kind": "partial_revocation", "date": "2024-01-01", "reason": "r",
                   "items": ["1"], "consignees": ["Delta Co., Ltd.", "Eta Ltd"],
                   "destinations": ["CHN"], "quantities": {"2": 2.0, "3": 1.5}})
        );
        for (q, msg) in [
            ("kind=cancel&date=2024-01-01&reason=r", "Event"),
            ("kind=suspension&date=2024-02-30&reason=r", "Date"),
            ("kind=suspension&date=2024-01-01", "Reason"),
            (
                "kind=amendment&date=2024-01-01&reason=r&quantities=1%3Dmany",
                "Quantities",
            ),
        ] {
            let e = event_value(&Params::parse(q)).unwrap_err();
            assert!(e.message.starts_with(msg), "{q}: {}", e.message);
        }
        let e = shipment_body(&Params::parse(
            "reference=S&date=2024-01-01&item=1&quantity=x",
        ))
        .unwrap_err();
        assert!(e.message.starts_with("Quantity"), "{}", e.message);
        assert_eq!(num(3.0), "3");
        assert_eq!(num(2.5), "2.5");
    }
}
