//! Partner exchange endpoints: identity (me, orgs, users, tokens), records, country aggregates,
//! sharing groups and sharing agreements. Authorisation happens here, server-side, at three
//! levels: function (role checks via [`Auth::require`]), object (an object of another
//! organisation answers 404, exactly like a missing one, so ids leak nothing) and field (records
//! go out through [`policy::view`], which drops every field no agreement releases).
//! Every release of another organisation's data is appended to the audit log.

use crate::auth::{new_token_secret, Auth};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chipwatch_store::partner::policy::{self, Viewer};
use chipwatch_store::partner::*;
use serde::Deserialize;
use serde_json::{json, Value};

type JsonOut = axum::Json<Value>;

/// The policy's view of the caller's organisation.
pub async fn viewer_of(state: &AppState, org: &Org) -> ApiResult<Viewer> {
    Ok(Viewer {
        org_id: org.id,
        kind: org.kind,
        groups: state.store.group_ids_of(org.id).await?,
    })
}

/// Who am I: user, role and organisation of the token.
#[utoipa::path(get, path = "/api/v1/me", tag = "identity",
    responses((status = 200, description = "The caller", body = Object), (status = 401, description = "No valid token", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn me(a: Auth) -> JsonOut {
    let p = a.0;
    axum::Json(
        json!({"user": {"id": p.user_id, "name": p.user_name, "role": p.role}, "org": p.org, "token_id": p.token_id, "credential": p.credential}),
    )
}

/// Directory of organisations (ids, names, kinds): needed to name grantees and addressees.
#[utoipa::path(get, path = "/api/v1/orgs", tag = "identity",
    responses((status = 200, description = "Organisations", body = Object)), security(("bearer" = [])))]
pub async fn list_orgs(State(s): State<AppState>, _a: Auth) -> ApiResult<JsonOut> {
    Ok(axum::Json(json!({"orgs": s.store.orgs().await?})))
}

fn own_org(a: &Auth, org_id: i64) -> ApiResult<()> {
    if a.0.org.id == org_id {
        Ok(())
    } else {
        Err(ApiError::not_found("organisation"))
    }
}

/// Users of the caller's organisation (admin).
#[utoipa::path(get, path = "/api/v1/orgs/{id}/users", tag = "identity",
    params(("id" = i64, Path, description = "Organisation id (your own)")),
    responses((status = 200, description = "Users", body = Object), (status = 404, description = "Not your organisation", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_users(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> ApiResult<JsonOut> {
    own_org(&a, id)?;
    a.require(Role::Admin)?;
    Ok(axum::Json(json!({"users": s.store.users_of(id).await?})))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    #[schema(min_length = 1)]
    pub name: String,
    /// admin, analyst or viewer
    #[schema(value_type = String, pattern = "^(admin|analyst|viewer)$")]
    pub role: Role,
}

/// Add a user to the caller's organisation (admin).
#[utoipa::path(post, path = "/api/v1/orgs/{id}/users", tag = "identity",
    params(("id" = i64, Path, description = "Organisation id (your own)")), request_body = NewUserBody,
    responses((status = 201, description = "Created", body = Object), (status = 404, description = "Not your organisation", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_user(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Json(b): Json<NewUserBody>,
) -> ApiResult<(StatusCode, JsonOut)> {
    own_org(&a, id)?;
    let p = a.require(Role::Admin)?;
    let u = s.store.create_user(id, &b.name, b.role, &p.actor()).await?;
    Ok((StatusCode::CREATED, axum::Json(json!(u))))
}

/// Tokens of the caller's organisation, without secrets (admin).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "identity",
    responses((status = 200, description = "Tokens", body = Object)), security(("bearer" = [])))]
pub async fn list_tokens(State(s): State<AppState>, a: Auth) -> ApiResult<JsonOut> {
    let p = a.require(Role::Admin)?;
    Ok(axum::Json(
        json!({"tokens": s.store.tokens_of_org(p.org.id).await?}),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    /// A user of your organisation.
    pub user_id: i64,
    pub label: String,
    /// Days until expiry (default 90).
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<i64>,
}

/// Issue a token for a user of the caller's organisation (admin). The secret is in this answer
/// only; the server keeps its SHA-256.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "identity", request_body = NewTokenBody,
    responses((status = 201, description = "The token, shown once", body = Object)), security(("bearer" = [])))]
pub async fn create_token(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<NewTokenBody>,
) -> ApiResult<(StatusCode, JsonOut)> {
    a.require_api_token()?;
    let p = a.require(Role::Admin)?;
    match s.store.user(b.user_id).await? {
        Some(u) if u.org_id == p.org.id => {}
        _ => {
            return Err(ApiError::validation(
                "user_id: no such user in your organisation",
            ))
        }
    }
    let days = b.expires_in_days.unwrap_or(90);
    if !(1..=3650).contains(&days) {
        return Err(ApiError::validation("expires_in_days: between 1 and 3650"));
    }
    let secret = new_token_secret();
    let t = s
        .store
        .create_token(
            b.user_id,
            &secret,
            &b.label,
            Some(chipwatch_store::time::now() + days * 86400),
            &p.actor(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"token": secret, "info": t})),
    ))
}

/// Revoke a token of the caller's organisation (admin); effective for the next request. Revoking is
/// idempotent: a token revoked already answers 204 again.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "identity",
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 204, description = "Revoked (now or before)"), (status = 404, description = "No such token in your organisation", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke_token(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let p = a.require(Role::Admin)?;
    s.store.revoke_token(p.org.id, id, &p.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Records

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRecordBody {
    /// Item id of the model (e.g. N20) or your own item code.
    #[schema(min_length = 1)]
    pub item: String,
    /// Provider (firm) the figure is about.
    pub provider: Option<String>,
    pub site: Option<String>,
    /// ISO alpha-3 country of the site.
    pub country: Option<String>,
    /// capacity, utilisation, inventory_days, lead_time_days, disruption_notice, ...
    #[schema(min_length = 1)]
    pub metric: String,
    pub value: f64,
    #[schema(min_length = 1)]
    pub unit: String,
    /// e.g. 2024-Q1 or 2024-03
    #[schema(min_length = 1)]
    pub period: String,
    /// Where the figure comes from (survey, filing, estimate ...).
    #[schema(min_length = 1)]
    pub provenance: String,
    /// TLP marking: clear, green, amber (default), amber+strict, red.
    #[schema(value_type = Option<String>, pattern = "^(clear|green|amber|amber\\+strict|red)$")]
    pub tlp: Option<Tlp>,
    /// organisation_only (default), community, connected_communities, all, sharing_group.
    #[schema(value_type = Option<String>, pattern = "^(organisation_only|community|connected_communities|all|sharing_group)$")]
    pub distribution: Option<Distribution>,
    pub sharing_group_id: Option<i64>,
}

/// Publish a record owned by the caller's organisation (analyst).
#[utoipa::path(post, path = "/api/v1/records", tag = "exchange", request_body = NewRecordBody,
    responses((status = 201, description = "Created", body = Object), (status = 422, description = "A value is not acceptable", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_record(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<NewRecordBody>,
) -> ApiResult<(StatusCode, JsonOut)> {
    a.require_local()?;
    let p = a.require(Role::Analyst)?;
    check_record_body(&b)?;
    let r = s.store.create_record(p, new_record(b)).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!(policy::view(&r, &policy::Access::Full))),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RecordsQuery {
    pub item: Option<String>,
    pub metric: Option<String>,
    /// own, shared or all (default).
    #[param(pattern = "^(own|shared|all)$")]
    pub scope: Option<String>,
}

/// Records the caller may see (own ones in full, partners' ones with the agreed fields) and the
/// audit of releasing them.
pub async fn visible_records(
    s: &AppState,
    org: &Org,
    actor: &str,
    item: Option<&str>,
    metric: Option<&str>,
    own: bool,
    shared: bool,
) -> ApiResult<Vec<policy::RecordView>> {
    let rows = visible_records_unlogged(s, org, item, metric, own, shared).await?;
    let released: Vec<i64> = rows
        .iter()
        .filter(|(_, foreign, _)| *foreign)
        .map(|(id, _, _)| *id)
        .collect();
    if !released.is_empty() {
        crate::access_log::record_access(
            s,
            actor,
            "records.read",
            "records",
            json!({"records": released}),
        )
        .await?;
    }
    Ok(rows.into_iter().map(|(_, _, v)| v).collect())
}

/// What [`visible_records`] decides, without logging: `(record id, owned by another
/// organisation, view)`. Callers that release only part of it (the federation outbox) log what
/// they actually release.
pub async fn visible_records_unlogged(
    s: &AppState,
    org: &Org,
    item: Option<&str>,
    metric: Option<&str>,
    own: bool,
    shared: bool,
) -> ApiResult<Vec<(i64, bool, policy::RecordView)>> {
    let viewer = viewer_of(s, org).await?;
    let agreements = s.store.agreements_granted_to(org.id).await?;
    let now = chipwatch_store::time::now();
    let mut orgs = Vec::new();
    if own {
        orgs.push(org.id);
    }
    if shared {
        for a in &agreements {
            if a.granularity == Granularity::Firm
                && policy::agreement_active(a, now)
                && !orgs.contains(&a.grantor_org_id)
            {
                orgs.push(a.grantor_org_id);
            }
        }
    }
    let mut records = s.store.records_of_orgs(&orgs, item, metric).await?;
    if shared {
        records.extend(
            s.store
                .federated_records(item, metric)
                .await?
                .into_iter()
                .filter(|r| r.org_id != org.id),
        );
    }
    let mut out = Vec::new();
    for r in &records {
        if let Some(v) = policy::view(r, &policy::record_access(r, &viewer, &agreements, now)) {
            out.push((r.id, r.org_id != org.id, v));
        }
    }
    Ok(out)
}

/// Records visible to the caller.
#[utoipa::path(get, path = "/api/v1/records", tag = "exchange", params(RecordsQuery),
    responses((status = 200, description = "Records", body = Object)), security(("bearer" = [])))]
pub async fn list_records(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<RecordsQuery>,
) -> ApiResult<JsonOut> {
    let p = a.require_local()?;
    let (own, shared) = match q.scope.as_deref() {
        None | Some("all") => (true, true),
        Some("own") => (true, false),
        Some("shared") => (false, true),
        Some(other) => {
            return Err(ApiError::new(
                "invalid_parameter",
                format!("scope: `{other}` is not one of own, shared, all"),
            ))
        }
    };
    let recs = visible_records(
        &s,
        &p.org,
        &p.actor(),
        q.item.as_deref(),
        q.metric.as_deref(),
        own,
        shared,
    )
    .await?;
    Ok(axum::Json(json!({"records": recs})))
}

/// One record, if the caller may see it (404 otherwise, as for a missing one).
#[utoipa::path(get, path = "/api/v1/records/{id}", tag = "exchange",
    params(("id" = i64, Path, description = "Record id")),
    responses((status = 200, description = "The record with the fields you may see", body = Object), (status = 404, description = "Missing or not visible", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_record(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> ApiResult<JsonOut> {
    let p = a.require_local()?;
    let r = s
        .store
        .record_raw(id)
        .await?
        .ok_or_else(|| ApiError::not_found("record"))?;
    let viewer = viewer_of(&s, &p.org).await?;
    let agreements = if r.org_id == p.org.id {
        Vec::new()
    } else {
        s.store.agreements_granted_to(p.org.id).await?
    };
    let access = policy::record_access(&r, &viewer, &agreements, chipwatch_store::time::now());
    let v = policy::view(&r, &access).ok_or_else(|| ApiError::not_found("record"))?;
    if r.org_id != p.org.id {
        s.store
            .audit(
                &p.actor(),
                "record.read",
                &format!("record:{id}"),
                json!({}),
            )
            .await?;
    }
    Ok(axum::Json(json!(v)))
}

/// Replace the values of one of the caller's organisation's records (analyst): the body of a
/// new record; id, uid and owner stay. 409 when the record answers an information request.
#[utoipa::path(put, path = "/api/v1/records/{id}", tag = "exchange",
    params(("id" = i64, Path, description = "Record id")), request_body = NewRecordBody,
    responses((status = 200, description = "The record as stored", body = Object), (status = 404, description = "Missing or not yours", body = crate::error::ErrorBody), (status = 409, description = "The record is part of an answered information request", body = crate::error::ErrorBody), (status = 422, description = "A value is not acceptable", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_record(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Json(b): Json<NewRecordBody>,
) -> ApiResult<JsonOut> {
    a.require_local()?;
    let p = a.require(Role::Analyst)?;
    check_record_body(&b)?;
    let r = s.store.update_record(p, id, new_record(b)).await?;
    Ok(axum::Json(json!(policy::view(&r, &policy::Access::Full))))
}

/// What the store cannot know: a country is an ISO 3166-1 alpha-3 code (a typo such as `KRO`
/// would otherwise be stored and never match a country's aggregate).
fn check_record_body(b: &NewRecordBody) -> ApiResult<()> {
    if let Some(c) = &b.country {
        chipwatch_controls::country::check("country", c)
            .map_err(|e| ApiError::validation(e.to_string()))?;
    }
    Ok(())
}

/// The store's form of a record body.
pub fn new_record(b: NewRecordBody) -> NewRecord {
    NewRecord {
        uid: None,
        item: b.item,
        provider: b.provider,
        site: b.site,
        country: b.country,
        metric: b.metric,
        value: Some(b.value),
        unit: Some(b.unit),
        period: Some(b.period),
        provenance: Some(b.provenance),
        tlp: b.tlp,
        distribution: b.distribution,
        sharing_group_id: b.sharing_group_id,
        origin: None,
    }
}

/// Delete one of the caller's organisation's records (analyst).
#[utoipa::path(delete, path = "/api/v1/records/{id}", tag = "exchange",
    params(("id" = i64, Path, description = "Record id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Missing or not yours", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_record(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    a.require_local()?;
    let p = a.require(Role::Analyst)?;
    s.store.delete_record(p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AggregatesQuery {
    pub item: Option<String>,
    pub metric: Option<String>,
}

/// Country-level sums released by country-granularity agreements (groups with fewer than the
/// agreed minimum number of firms are suppressed).
#[utoipa::path(get, path = "/api/v1/aggregates", tag = "exchange", params(AggregatesQuery),
    responses((status = 200, description = "Aggregates", body = Object)), security(("bearer" = [])))]
pub async fn aggregates(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<AggregatesQuery>,
) -> ApiResult<JsonOut> {
    let p = a.require_local()?;
    let viewer = viewer_of(&s, &p.org).await?;
    let now = chipwatch_store::time::now();
    let agreements: Vec<Agreement> = s
        .store
        .agreements_granted_to(p.org.id)
        .await?
        .into_iter()
        .filter(|a| a.granularity == Granularity::Country && policy::agreement_active(a, now))
        .collect();
    let mut grantors: Vec<i64> = agreements.iter().map(|a| a.grantor_org_id).collect();
    grantors.sort_unstable();
    grantors.dedup();
    let records = s
        .store
        .records_of_orgs(&grantors, q.item.as_deref(), q.metric.as_deref())
        .await?;
    let out = s
        .store
        .release_aggregates(&records, &viewer, &agreements, now, &p.actor())
        .await?;
    if !out.is_empty() {
        crate::access_log::record_access(&s, &p.actor(), "aggregates.read", "aggregates", json!({"groups": out.len(), "agreements": agreements.iter().map(|a| a.id).collect::<Vec<_>>()})).await?;
    }
    Ok(axum::Json(json!({"aggregates": out})))
}

// ---------------------------------------------------------------------------------------------
// Sharing groups and agreements

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroupBody {
    #[schema(min_length = 1)]
    pub name: String,
    /// Organisation ids (yours is added).
    pub members: Vec<i64>,
}

/// Sharing groups the caller's organisation belongs to.
#[utoipa::path(get, path = "/api/v1/sharing-groups", tag = "exchange",
    responses((status = 200, description = "Groups", body = Object)), security(("bearer" = [])))]
pub async fn list_groups(State(s): State<AppState>, a: Auth) -> ApiResult<JsonOut> {
    let p = a.require_local()?;
    Ok(axum::Json(
        json!({"sharing_groups": s.store.sharing_groups_of(p.org.id).await?}),
    ))
}

/// Create a named sharing group (admin).
#[utoipa::path(post, path = "/api/v1/sharing-groups", tag = "exchange", request_body = NewGroupBody,
    responses((status = 201, description = "Created", body = Object)), security(("bearer" = [])))]
pub async fn create_group(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<NewGroupBody>,
) -> ApiResult<(StatusCode, JsonOut)> {
    a.require_local()?;
    let p = a.require(Role::Admin)?;
    let g = s.store.create_sharing_group(p, &b.name, &b.members).await?;
    Ok((StatusCode::CREATED, axum::Json(json!(g))))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgreementBody {
    pub grantee_org_id: i64,
    /// Item ids or "*".
    pub items: Vec<String>,
    /// Metrics or "*"; `denial_notice` (named exactly, never by "*") covers denial notices.
    pub metrics: Vec<String>,
    /// Released optional fields: provider, site, country, value, unit, period, provenance;
    /// for denial notices end_user, consignees, reason.
    pub fields: Vec<String>,
    /// firm (default) or country.
    #[schema(value_type = Option<String>, pattern = "^(firm|country)$")]
    pub granularity: Option<Granularity>,
    /// Country granularity: minimum distinct firms (by normalised name) per released figure
    /// (default 3); a new figure also needs this many firms changed since every earlier one.
    pub min_firms: Option<i64>,
    /// Country granularity: dominance rule, no firm above this share of a figure's total
    /// (0 < x <= 1, default 0.6).
    pub max_firm_share: Option<f64>,
    /// YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC); default now.
    #[schema(
        pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z)?$"
    )]
    pub valid_from: Option<String>,
    /// YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC); default open-ended.
    #[schema(
        pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z)?$"
    )]
    pub valid_until: Option<String>,
}

fn parse_date(field: &str, v: &Option<String>) -> ApiResult<Option<i64>> {
    match v {
        None => Ok(None),
        Some(s) => chipwatch_store::time::parse(s).map(Some).ok_or_else(|| {
            ApiError::validation(format!(
                "{field}: `{s}` is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ"
            ))
        }),
    }
}

fn agreement_json(a: &Agreement) -> Value {
    let mut v = json!(a);
    v["valid_from_iso"] = json!(chipwatch_store::time::format(a.valid_from));
    v["valid_until_iso"] = json!(a.valid_until.map(chipwatch_store::time::format));
    v["active"] = json!(policy::agreement_active(a, chipwatch_store::time::now()));
    v
}

/// Grant another organisation access to some of your records (admin).
#[utoipa::path(post, path = "/api/v1/agreements", tag = "exchange", request_body = NewAgreementBody,
    responses((status = 201, description = "Created", body = Object), (status = 422, description = "A value is not acceptable", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_agreement(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<NewAgreementBody>,
) -> ApiResult<(StatusCode, JsonOut)> {
    a.require_local()?;
    let p = a.require(Role::Admin)?;
    let granularity = b.granularity.unwrap_or(Granularity::Firm);
    let ag = s
        .store
        .create_agreement(
            p,
            NewAgreement {
                grantee_org_id: b.grantee_org_id,
                items: b.items,
                metrics: b.metrics,
                fields: b.fields,
                granularity,
                min_firms: b
                    .min_firms
                    .unwrap_or(if granularity == Granularity::Country {
                        3
                    } else {
                        1
                    }),
                max_firm_share: b
                    .max_firm_share
                    .unwrap_or(chipwatch_store::partner::aggregates::DEFAULT_MAX_FIRM_SHARE),
                valid_from: parse_date("valid_from", &b.valid_from)?
                    .unwrap_or_else(chipwatch_store::time::now),
                valid_until: parse_date("valid_until", &b.valid_until)?,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(agreement_json(&ag))))
}

/// Agreements the caller's organisation granted or received.
#[utoipa::path(get, path = "/api/v1/agreements", tag = "exchange",
    responses((status = 200, description = "Agreements", body = Object)), security(("bearer" = [])))]
pub async fn list_agreements(State(s): State<AppState>, a: Auth) -> ApiResult<JsonOut> {
    let p = a.require_local()?;
    let list: Vec<Value> = s
        .store
        .agreements_of(p.org.id)
        .await?
        .iter()
        .map(agreement_json)
        .collect();
    Ok(axum::Json(json!({"agreements": list})))
}

/// One agreement (grantor or grantee only).
#[utoipa::path(get, path = "/api/v1/agreements/{id}", tag = "exchange",
    params(("id" = i64, Path, description = "Agreement id")),
    responses((status = 200, description = "Agreement", body = Object), (status = 404, description = "Missing or not yours", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_agreement(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> ApiResult<JsonOut> {
    let p = a.require_local()?;
    match s.store.agreement(id).await? {
        Some(ag) if ag.grantor_org_id == p.org.id || ag.grantee_org_id == p.org.id => {
            Ok(axum::Json(agreement_json(&ag)))
        }
        _ => Err(ApiError::not_found("agreement")),
    }
}

/// Revoke an agreement your organisation granted (admin); effective for the next request.
#[utoipa::path(post, path = "/api/v1/agreements/{id}/revoke", tag = "exchange",
    params(("id" = i64, Path, description = "Agreement id")),
    responses((status = 204, description = "Revoked"), (status = 404, description = "Missing, not granted by you, or already revoked", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke_agreement(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    a.require_local()?;
    let p = a.require(Role::Admin)?;
    s.store.revoke_agreement(p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
