//! Denial notices between partner authorities (issue 17) under `/api/v1/licences/denials`:
//! list (own, released by agreements, federated), publish, show, withdraw; and
//! [`partner_denials`], the notices a licence check matches ("no undercut").
//!
//! Writes need the analyst role of a tenant organisation; another organisation's notice that no
//! agreement releases is 404, exactly like a missing one. What another organisation sees is
//! decided by `chipwatch_store::partner::policy::notice_access` and logged as a read.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chipwatch_controls::denials::{
    self, DenialNotice, DeniedItem, QueryParty, ReasonCategory, Transaction,
};
use chipwatch_controls::{Date, Engine};
use chipwatch_store::denial_notices::{DenialFilter, DenialView, NewDenialNotice};
use chipwatch_store::partner::{Distribution, Org, Role, Tlp};
use serde::Deserialize;
use serde_json::{json, Value};

/// The item of a notice.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeniedItemBody {
    #[schema(min_length = 1, max_length = 300)]
    pub description: String,
    /// Catalogue product name or alias.
    #[schema(min_length = 1, max_length = 300)]
    pub product: Option<String>,
    /// Control list entry, e.g. "3B001.f.1".
    #[schema(min_length = 1, max_length = 300)]
    pub control_entry: Option<String>,
    /// Item id of the value-chain model.
    #[schema(min_length = 1, max_length = 300)]
    pub model_item: Option<String>,
}

/// A denial notice to publish.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeBody {
    /// The issuing authority's reference (unique per authority within the organisation).
    #[schema(min_length = 1, max_length = 300)]
    pub reference: String,
    /// Issuing authority, e.g. "BAFA".
    #[schema(min_length = 1, max_length = 300)]
    pub authority: String,
    /// ISO 3166-1 alpha-3 of the issuing state, or EU.
    #[schema(pattern = "^([A-Z]{3}|EU)$")]
    pub jurisdiction: String,
    /// Date of the denial, YYYY-MM-DD.
    #[schema(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
    pub denied_on: String,
    pub item: DeniedItemBody,
    /// ISO 3166-1 alpha-3.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub destination: String,
    /// The end user (a notice names its end user, a consignee or both).
    #[schema(min_length = 1, max_length = 300)]
    pub end_user: Option<String>,
    /// Other names of the end user (needs `end_user`).
    #[schema(max_items = 50)]
    #[serde(default)]
    pub end_user_aliases: Vec<String>,
    #[schema(max_items = 50)]
    #[serde(default)]
    pub consignees: Vec<String>,
    #[schema(
        pattern = "^(wmd|military_end_use|diversion_risk|human_rights|regional_stability|terrorism|other)$"
    )]
    pub reason_category: String,
    /// Free-text reason (released only where an agreement lists `reason`).
    #[schema(min_length = 1, max_length = 4000)]
    pub reason: Option<String>,
    /// clear, green, amber (default), amber+strict, red (never federated).
    #[schema(pattern = "^(clear|green|amber|amber\\+strict|red)$")]
    pub tlp: Option<String>,
    /// organisation_only (default), community, connected_communities, all, sharing_group.
    #[schema(pattern = "^(organisation_only|community|connected_communities|all|sharing_group)$")]
    pub distribution: Option<String>,
    /// With distribution sharing_group: a group the organisation belongs to.
    pub sharing_group_id: Option<i64>,
}

/// The withdrawal of a notice.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalBody {
    /// YYYY-MM-DD, not before the date of denial.
    #[schema(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
    pub withdrawn_on: String,
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DenialsQuery {
    /// own, shared (released by partners or federated) or all (default).
    #[param(pattern = "^(own|shared|all)$")]
    pub scope: Option<String>,
    /// ISO 3166-1 alpha-3.
    #[param(pattern = "^[A-Z]{3}$")]
    pub destination: Option<String>,
    /// Issuing authority (case-insensitive).
    #[param(max_length = 300)]
    pub authority: Option<String>,
    /// Text in the reference, item description or control entry.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Include withdrawn notices (default false).
    pub include_withdrawn: Option<bool>,
}

fn date(field: &str, v: &str) -> ApiResult<Date> {
    Date::parse(v).map_err(|e| ApiError::validation(format!("{field}: {e}")))
}

fn notice_of(b: NoticeBody) -> ApiResult<NewDenialNotice> {
    let reason_category = ReasonCategory::parse(&b.reason_category).ok_or_else(|| {
        ApiError::validation(format!(
            "reason_category: `{}` is not one of wmd, military_end_use, diversion_risk, \
             human_rights, regional_stability, terrorism, other",
            b.reason_category
        ))
    })?;
    let tlp = b
        .tlp
        .as_deref()
        .map(|t| Tlp::parse(t).ok_or_else(|| ApiError::validation(format!("tlp: `{t}` unknown"))))
        .transpose()?;
    let distribution = b
        .distribution
        .as_deref()
        .map(|d| {
            Distribution::parse(d)
                .ok_or_else(|| ApiError::validation(format!("distribution: `{d}` unknown")))
        })
        .transpose()?;
    let notice = DenialNotice {
        reference: b.reference,
        authority: b.authority,
        jurisdiction: b.jurisdiction,
        denied_on: date("denied_on", &b.denied_on)?,
        item: DeniedItem {
            description: b.item.description,
            product: b.item.product,
            control_entry: b.item.control_entry,
            model_item: b.item.model_item,
        },
        destination: b.destination,
        end_user: b.end_user,
        end_user_aliases: b.end_user_aliases,
        consignees: b.consignees,
        reason_category,
        reason: b.reason,
        withdrawn_on: None,
    };
    denials::validate(&notice).map_err(|(f, m)| ApiError::validation(format!("{f}: {m}")))?;
    Ok(NewDenialNotice {
        notice,
        tlp,
        distribution,
        sharing_group_id: b.sharing_group_id,
    })
}

/// Log the release of other organisations' notices (owners' own reads are not partner access).
async fn log_release(
    s: &AppState,
    actor: &str,
    action: &str,
    views: &[&DenialView],
) -> ApiResult<()> {
    let ids: Vec<i64> = views.iter().filter(|v| !v.own).map(|v| v.id).collect();
    if !ids.is_empty() {
        crate::access_log::record_access(s, actor, action, "denials", json!({"denials": ids}))
            .await?;
    }
    Ok(())
}

/// Denial notices visible to the caller's organisation: its own, those partners' agreements
/// release (with the agreed fields; `withheld` names the rest) and federated copies.
#[utoipa::path(get, path = "/api/v1/licences/denials", tag = "controls", params(DenialsQuery),
    responses((status = 200, description = "Notices", body = Object), (status = 400, description = "Bad filter", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_denials(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<DenialsQuery>,
) -> ApiResult<axum::Json<Value>> {
    let p = a.require_local()?;
    let bad = |m: String| ApiError::new("invalid_parameter", m);
    let (own, shared) = match q.scope.as_deref() {
        None | Some("all") => (true, true),
        Some("own") => (true, false),
        Some("shared") => (false, true),
        Some(o) => return Err(bad(format!("scope: `{o}` is not one of own, shared, all"))),
    };
    // The form of a code is checked; a well-formed code no notice names simply finds none.
    if let Some(d) = q.destination.as_deref() {
        if d.len() != 3 || !d.bytes().all(|c| c.is_ascii_uppercase()) {
            return Err(bad(format!(
                "destination: `{d}` is not an ISO 3166-1 alpha-3 code (three capitals)"
            )));
        }
    }
    if q.authority
        .as_deref()
        .is_some_and(|t| t.chars().count() > 300)
    {
        return Err(bad("authority: at most 300 characters".into()));
    }
    if q.q.as_deref().is_some_and(|t| t.chars().count() > 200) {
        return Err(bad("q: at most 200 characters".into()));
    }
    let f = DenialFilter {
        destination: q.destination,
        authority: q.authority.filter(|t| !t.trim().is_empty()),
        include_withdrawn: q.include_withdrawn.unwrap_or(false),
        text: q.q.filter(|t| !t.trim().is_empty()),
    };
    let views: Vec<DenialView> = s
        .store
        .visible_denials(&p.org, &f)
        .await?
        .into_iter()
        .filter(|v| if v.own { own } else { shared })
        .collect();
    log_release(
        &s,
        &p.actor(),
        "denials.read",
        &views.iter().collect::<Vec<_>>(),
    )
    .await?;
    Ok(axum::Json(json!({"denials": views})))
}

/// Publish a denial notice of the caller's organisation (analyst). Shared only as its
/// distribution level and the organisation's agreements (metric `denial_notice`) allow.
#[utoipa::path(post, path = "/api/v1/licences/denials", tag = "controls", request_body = NoticeBody,
    responses((status = 201, description = "The notice", body = Object), (status = 403, description = "Viewer role", body = crate::error::ErrorBody), (status = 409, description = "The authority's reference exists", body = crate::error::ErrorBody), (status = 422, description = "Bad field (named)", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn publish_denial(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<NoticeBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    a.require_local()?;
    let p = a.require(Role::Analyst)?;
    let n = notice_of(b)?;
    let d = s.store.publish_denial(p, n).await?;
    Ok((StatusCode::CREATED, axum::Json(json!(d))))
}

/// One notice, with the fields the caller may see (404 when missing or not released).
#[utoipa::path(get, path = "/api/v1/licences/denials/{id}", tag = "controls",
    params(("id" = i64, Path, description = "Notice id")),
    responses((status = 200, description = "The notice", body = Object), (status = 404, description = "Missing or not visible", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn show_denial(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Value>> {
    let p = a.require_local()?;
    let v = s
        .store
        .visible_denial(&p.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("denial notice"))?;
    log_release(&s, &p.actor(), "denials.read", &[&v]).await?;
    Ok(axum::Json(json!(v)))
}

/// Withdraw one of the caller's organisation's notices (analyst): a withdrawal is appended,
/// the notice itself is never changed; a withdrawn notice matches no licence check.
#[utoipa::path(post, path = "/api/v1/licences/denials/{id}/withdrawal", tag = "controls",
    params(("id" = i64, Path, description = "Notice id")), request_body = WithdrawalBody,
    responses((status = 201, description = "The withdrawn notice", body = Object), (status = 403, description = "Viewer role", body = crate::error::ErrorBody), (status = 404, description = "Missing, another organisation's or a federated copy", body = crate::error::ErrorBody), (status = 409, description = "Already withdrawn", body = crate::error::ErrorBody), (status = 422, description = "Bad date or reason", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn withdraw_denial(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Json(b): Json<WithdrawalBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    a.require_local()?;
    let p = a.require(Role::Analyst)?;
    let on = date("withdrawn_on", &b.withdrawn_on)?;
    let d = s.store.withdraw_denial(p, id, on, &b.reason).await?;
    Ok((StatusCode::CREATED, axum::Json(json!(d))))
}

/// The notices visible to `org` that a licence check's transaction matches, each with the
/// issuing authority, date, reason as far as released, why it matched and the line telling
/// the officer to consult the issuing authority before granting.
pub async fn partner_denials(
    s: &AppState,
    org: &Org,
    actor: &str,
    engine: &Engine,
    t: &Transaction,
) -> ApiResult<Vec<Value>> {
    let views = s
        .store
        .visible_denials(org, &DenialFilter::default())
        .await?;
    let notices: Vec<DenialNotice> = views.iter().map(|v| v.notice.clone()).collect();
    let matches = denials::match_notices(
        engine.screener().normaliser(),
        Some(engine.catalogue()),
        &notices,
        t,
    );
    let hit: Vec<&DenialView> = matches.iter().map(|m| &views[m.notice]).collect();
    log_release(s, actor, "denials.match", &hit).await?;
    Ok(matches
        .iter()
        .map(|m| {
            let v = &views[m.notice];
            let n = &v.notice;
            json!({
                "id": v.id,
                "own": v.own,
                "federated": v.federated,
                "reference": n.reference,
                "authority": n.authority,
                "jurisdiction": n.jurisdiction,
                "denied_on": n.denied_on,
                "destination": n.destination,
                "item": n.item,
                "reason_category": n.reason_category,
                "reason": n.reason,
                "withheld": v.withheld,
                "tlp": v.tlp,
                "match": m,
                "consult": denials::CONSULT_LINE,
            })
        })
        .collect())
}

/// The match input of a licence check body.
pub fn transaction_of(
    end_user: Option<&str>,
    parties: &[chipwatch_controls::Party],
    product: Option<&str>,
    control_entry: Option<&str>,
    date: Date,
) -> Transaction {
    let mut ps: Vec<QueryParty> = end_user
        .map(|n| QueryParty {
            role: "end_user".into(),
            name: n.to_string(),
        })
        .into_iter()
        .collect();
    ps.extend(parties.iter().map(|p| QueryParty {
        role: p.role.as_str().to_string(),
        name: p.name.clone(),
    }));
    Transaction {
        parties: ps,
        product: product.map(str::to_string),
        control_entries: control_entry.map(str::to_string).into_iter().collect(),
        model_item: None,
        date: Some(date),
    }
}
