//! The HTML of the partner exchange's forms (values escaped; a refused form shows its message
//! first, announced to screen readers, and keeps what was typed).

use super::options;
use super::partner::FormState;
use super::partner_forms::DONE;
use super::Params;

use chipwatch_report::svg::escape;
use chipwatch_store::partner::policy::RecordView;
use chipwatch_store::partner::InfoRequest;
use std::fmt::Write;

/// Metrics partners exchange most (the field takes any name).
const METRICS: &[&str] = &[
    "capacity",
    "utilisation",
    "inventory_days",
    "lead_time_days",
    "disruption_notice",
    "output",
];

/// Optional record fields an agreement can release (`item` and `metric` always are).
const RELEASABLE: &[&str] = &[
    "provider",
    "site",
    "country",
    "value",
    "unit",
    "period",
    "provenance",
];

fn pairs(v: &[&str]) -> Vec<(String, String)> {
    v.iter()
        .map(|x| (x.to_string(), x.replace('_', " ")))
        .collect()
}

/// Marks a refusal shown inside its form.
pub const IN_FORM_MARK: &str = "<b>Not saved:</b>";

/// The refusal of `form`, if the state belongs to it.
fn error_block(state: &FormState, form: &str, id: &str) -> String {
    match &state.error {
        Some(e) if state.form == form => format!(
            r#"<div class="error" role="alert" id="{id}"><p>{IN_FORM_MARK} {}</p></div>"#,
            escape(e)
        ),
        _ => String::new(),
    }
}

/// A confirmation, or a refusal that is not shown inside its form (one-button forms, and forms
/// the page no longer shows: a request answered meanwhile, a role that lacks the form), for the
/// top of the page.
pub fn notices(state: &FormState, shown_in_form: bool) -> String {
    let mut b = String::new();
    if let Some((_, _, msg)) = state
        .done
        .as_deref()
        .and_then(|k| DONE.iter().find(|(key, _, _)| *key == k))
    {
        let _ = write!(b, r#"<div class="notice" role="status"><p>{msg}</p></div>"#);
    }
    if let (false, Some(e)) = (shown_in_form, &state.error) {
        let _ = write!(
            b,
            r#"<div class="error" role="alert"><p><b>Not done:</b> {}</p></div>"#,
            escape(e)
        );
    }
    b
}

/// A one-button form (delete, revoke, decline, withdraw).
pub fn button(action: &str, label: &str, described: &str) -> String {
    format!(
        r#"<form method="post" action="{}" class="inline"><button type="submit" aria-label="{} {}">{}</button></form>"#,
        escape(action),
        escape(label),
        escape(described),
        escape(label)
    )
}

fn params_of(r: &RecordView) -> Params {
    let mut v = vec![
        ("item".to_string(), r.item.clone()),
        ("metric".to_string(), r.metric.clone()),
        ("tlp".to_string(), r.tlp.as_str().to_string()),
        (
            "distribution".to_string(),
            r.distribution.as_str().to_string(),
        ),
    ];
    for (k, x) in [
        ("provider", &r.provider),
        ("site", &r.site),
        ("country", &r.country),
        ("unit", &r.unit),
        ("period", &r.period),
        ("provenance", &r.provenance),
    ] {
        if let Some(x) = x {
            v.push((k.to_string(), x.clone()));
        }
    }
    if let Some(x) = r.value {
        v.push(("value".to_string(), x.to_string()));
    }
    Params(v)
}

/// Publish a record, or edit `editing` (one of the organisation's own records).
pub fn record_form(
    state: &FormState,
    editing: Option<&RecordView>,
    groups: &[(i64, String)],
    items: &[(String, String)],
) -> String {
    let (form, action, title, submit) = match editing {
        Some(r) => (
            format!("record-{}", r.id),
            format!("/partner/records/{}", r.id),
            format!("Edit record {}", r.id),
            "Save changes",
        ),
        None => (
            "record".to_string(),
            "/partner/records".to_string(),
            "Publish a record".to_string(),
            "Publish",
        ),
    };
    let vals = if state.form == form {
        state.values.clone()
    } else {
        editing.map(params_of).unwrap_or_default()
    };
    let v = |n: &str| escape(vals.get(n).unwrap_or(""));
    let sel = |n: &str, default: &str| vec![vals.get(n).unwrap_or(default).to_string()];
    let mut item_list = String::new();
    for (id, name) in items {
        let _ = write!(
            item_list,
            r#"<option value="{}">{}</option>"#,
            escape(id),
            escape(name)
        );
    }
    let group_field = if groups.is_empty() {
        String::new()
    } else {
        let g: Vec<(String, String)> = groups
            .iter()
            .map(|(id, n)| (id.to_string(), n.clone()))
            .collect();
        format!(
            r#"<div><label for="r-group">Sharing group <span class="hint">(with distribution "sharing group")</span></label><select id="r-group" name="sharing_group_id"><option value="">&mdash;</option>{}</select></div>"#,
            options(&g, &sel("sharing_group_id", ""))
        )
    };
    let cancel = if editing.is_some() {
        r##" <a href="/partner#records">Cancel</a>"##
    } else {
        ""
    };
    format!(
        r#"<form class="panel" method="post" action="{action}" id="record-form" aria-labelledby="record-form-h"><h3 id="record-form-h">{title}</h3>{err}
<div class="fields">
<div><label for="r-item">Item <span class="hint">(model id, e.g. N20, or your own code)</span></label><input type="text" id="r-item" name="item" required size="10" list="r-items" value="{item}"><datalist id="r-items">{item_list}</datalist></div>
<div><label for="r-metric">Metric</label><input type="text" id="r-metric" name="metric" required size="16" list="r-metrics" value="{metric}"><datalist id="r-metrics">{metrics}</datalist></div>
<div><label for="r-value">Value</label><input type="text" inputmode="decimal" id="r-value" name="value" required size="10" value="{value}"></div>
<div><label for="r-unit">Unit</label><input type="text" id="r-unit" name="unit" required size="12" value="{unit}"></div>
<div><label for="r-period">Period <span class="hint">(e.g. 2025-Q1)</span></label><input type="text" id="r-period" name="period" required size="9" value="{period}"></div>
</div><div class="fields">
<div><label for="r-provider">Provider <span class="hint">(optional)</span></label><input type="text" id="r-provider" name="provider" size="18" value="{provider}"></div>
<div><label for="r-site">Site <span class="hint">(optional)</span></label><input type="text" id="r-site" name="site" size="16" value="{site}"></div>
<div><label for="r-country">Country <span class="hint">(ISO alpha-3, optional)</span></label><input type="text" id="r-country" name="country" size="5" maxlength="3" value="{country}"></div>
<div><label for="r-provenance">Provenance</label><input type="text" id="r-provenance" name="provenance" required size="22" value="{provenance}"></div>
</div><div class="fields">
<div><label for="r-tlp">TLP</label><select id="r-tlp" name="tlp">{tlp}</select></div>
<div><label for="r-dist">Distribution</label><select id="r-dist" name="distribution">{dist}</select></div>
{group_field}
<div><button type="submit">{submit}</button>{cancel}</div></div></form>"#,
        err = error_block(state, &form, "record-error"),
        item = v("item"),
        metric = v("metric"),
        metrics = METRICS
            .iter()
            .map(|m| format!(r#"<option value="{m}">"#))
            .collect::<String>(),
        value = v("value"),
        unit = v("unit"),
        period = v("period"),
        provider = v("provider"),
        site = v("site"),
        country = v("country"),
        provenance = v("provenance"),
        tlp = options(
            &pairs(&["clear", "green", "amber", "amber+strict", "red"]),
            &sel("tlp", "amber")
        ),
        dist = options(
            &[
                ("organisation_only".into(), "organisation only".into()),
                (
                    "community".into(),
                    "community (all organisations here)".into()
                ),
                (
                    "connected_communities".into(),
                    "connected communities (federation peers)".into()
                ),
                ("all".into(), "all".into()),
                ("sharing_group".into(), "sharing group".into()),
            ],
            &sel("distribution", "organisation_only")
        ),
    )
}

/// Grant a sharing agreement to another organisation (admins).
pub fn agreement_form(state: &FormState, partners: &[(i64, String)]) -> String {
    let vals = if state.form == "agreement" {
        state.values.clone()
    } else {
        Params::default()
    };
    let v = |n: &str| escape(vals.get(n).unwrap_or(""));
    let chosen = if state.form == "agreement" {
        vals.all("fields")
    } else {
        vec!["value".into(), "unit".into(), "period".into()]
    };
    let mut fields = String::new();
    for f in RELEASABLE {
        let _ = write!(
            fields,
            r#"<label class="check"><input type="checkbox" name="fields" value="{f}"{}> {f}</label> "#,
            if chosen.iter().any(|c| c == f) {
                " checked"
            } else {
                ""
            }
        );
    }
    let p: Vec<(String, String)> = partners
        .iter()
        .map(|(id, n)| (id.to_string(), n.clone()))
        .collect();
    format!(
        r#"<form class="panel" method="post" action="/partner/agreements" id="agreement-form" aria-labelledby="agreement-form-h"><h3 id="agreement-form-h">Grant an agreement</h3>{err}
<div class="fields">
<div><label for="a-grantee">Partner</label><select id="a-grantee" name="grantee_org_id" required><option value="">choose&hellip;</option>{partners}</select></div>
<div><label for="a-items">Items <span class="hint">(ids, comma-separated; empty = all)</span></label><input type="text" id="a-items" name="items" size="16" value="{items}"></div>
<div><label for="a-metrics">Metrics <span class="hint">(comma-separated; empty = all)</span></label><input type="text" id="a-metrics" name="metrics" size="16" value="{metrics}"></div>
<div><label for="a-gran">Granularity</label><select id="a-gran" name="granularity">{gran}</select></div>
</div><fieldset><legend>Fields released <span class="hint">(item and metric always are)</span></legend>{fields}</fieldset>
<div class="fields">
<div><label for="a-min">Minimum firms <span class="hint">(country granularity; default 3)</span></label><input type="text" inputmode="numeric" id="a-min" name="min_firms" size="4" value="{min}"></div>
<div><label for="a-share">Largest firm's share at most <span class="hint">(country; 0-1, default 0.6)</span></label><input type="text" inputmode="decimal" id="a-share" name="max_firm_share" size="5" value="{share}"></div>
<div><label for="a-from">Valid from <span class="hint">(default now)</span></label><input type="date" id="a-from" name="valid_from" value="{from}"></div>
<div><label for="a-until">Valid until <span class="hint">(default open)</span></label><input type="date" id="a-until" name="valid_until" value="{until}"></div>
<div><button type="submit">Grant</button></div></div></form>"#,
        err = error_block(state, "agreement", "agreement-error"),
        partners = options(&p, &[vals.get("grantee_org_id").unwrap_or("").to_string()]),
        items = v("items"),
        metrics = v("metrics"),
        gran = options(
            &[
                ("firm".into(), "firm (records, agreed fields)".into()),
                ("country".into(), "country (aggregates only)".into()),
            ],
            &[vals.get("granularity").unwrap_or("firm").to_string()]
        ),
        min = v("min_firms"),
        share = v("max_firm_share"),
        from = v("valid_from"),
        until = v("valid_until"),
    )
}

/// Send an information request (analysts).
pub fn request_form(state: &FormState, partners: &[(i64, String)]) -> String {
    let vals = if state.form == "request" {
        state.values.clone()
    } else {
        Params::default()
    };
    let v = |n: &str| escape(vals.get(n).unwrap_or(""));
    let p: Vec<(String, String)> = partners
        .iter()
        .map(|(id, n)| (id.to_string(), n.clone()))
        .collect();
    format!(
        r#"<form class="panel" method="post" action="/partner/requests" id="request-form" aria-labelledby="request-form-h"><h3 id="request-form-h">Send an information request</h3>{err}
<div class="fields">
<div><label for="q-to">Addressee</label><select id="q-to" name="addressee_org_id" required><option value="">choose&hellip;</option>{partners}</select></div>
<div><label for="q-basis">Legal basis</label><input type="text" id="q-basis" name="legal_basis" required size="34" placeholder="Regulation (EU) 2023/1781, Art. 25(1)" value="{basis}"></div>
<div><label for="q-deadline">Deadline</label><input type="date" id="q-deadline" name="deadline" required value="{deadline}"></div>
<div><label for="q-conf">Confidentiality</label><select id="q-conf" name="confidentiality">{conf}</select></div>
</div><div class="fields">
<div><label for="q-items">Items in scope <span class="hint">(ids, comma-separated)</span></label><input type="text" id="q-items" name="scope_items" required size="16" value="{items}"></div>
<div><label for="q-metrics">Metrics in scope <span class="hint">(comma-separated)</span></label><input type="text" id="q-metrics" name="scope_metrics" required size="16" value="{metrics}"></div>
<div><label for="q-purpose">Purpose</label><textarea id="q-purpose" name="purpose" required rows="2" cols="40">{purpose}</textarea></div>
<div><button type="submit">Send request</button></div></div></form>"#,
        err = error_block(state, "request", "request-error"),
        partners = options(
            &p,
            &[vals.get("addressee_org_id").unwrap_or("").to_string()]
        ),
        basis = v("legal_basis"),
        deadline = v("deadline"),
        conf = options(
            &pairs(&["standard", "confidential"]),
            &[vals
                .get("confidentiality")
                .unwrap_or("standard")
                .to_string()]
        ),
        items = v("scope_items"),
        metrics = v("scope_metrics"),
        purpose = v("purpose"),
    )
}

/// Answer a received request with own records inside its scope, or decline it.
pub fn respond_form(state: &FormState, r: &InfoRequest, own: &[RecordView]) -> String {
    use chipwatch_store::partner::policy::list_matches;
    let form = format!("respond-{}", r.id);
    let checked = if state.form == form {
        state.values.all("record_id")
    } else {
        Vec::new()
    };
    let in_scope: Vec<&RecordView> = own
        .iter()
        .filter(|x| {
            list_matches(&r.scope_items, &x.item) && list_matches(&r.scope_metrics, &x.metric)
        })
        .collect();
    let mut b = format!(
        r#"<div class="panel" id="respond-{id}"><h3>Answer request {id}</h3>{err}"#,
        id = r.id,
        err = error_block(state, &form, &format!("respond-{}-error", r.id))
    );
    if in_scope.is_empty() {
        b.push_str("<p class=\"muted\">None of your records is inside this request's scope: publish one above, or decline.</p>");
    } else {
        let _ = write!(
            b,
            r#"<form method="post" action="/partner/requests/{}/respond"><fieldset><legend>Your records inside its scope</legend>"#,
            r.id
        );
        for x in in_scope {
            let _ = write!(
                b,
                r#"<label class="check"><input type="checkbox" name="record_id" value="{id}"{c}> record {id}: {item} {metric} {value} {unit} {period}</label><br>"#,
                id = x.id,
                c = if checked.iter().any(|c| *c == x.id.to_string()) {
                    " checked"
                } else {
                    ""
                },
                item = escape(&x.item),
                metric = escape(&x.metric),
                value = x.value.map(|v| v.to_string()).unwrap_or_default(),
                unit = escape(x.unit.as_deref().unwrap_or("")),
                period = escape(x.period.as_deref().unwrap_or("")),
            );
        }
        b.push_str(r#"</fieldset><button type="submit">Send the selected records</button></form>"#);
    }
    b.push_str(&button(
        &format!("/partner/requests/{}/decline", r.id),
        "Decline",
        &format!("request {}", r.id),
    ));
    b.push_str("</div>");
    b
}
