//! Federation between chipwatch instances (say Seoul and The Hague), MISP-style.
//!
//! Each instance represents the other by a local organisation of kind `peer`. What an instance
//! sends to a peer is exactly what its agreements let that peer organisation see (firm-level
//! records, agreed fields only), with the distribution level narrowed on the way
//! ([`Distribution::narrowed_for_federation`]: `connected_communities` becomes `community`,
//! `all` stays `all`, anything narrower and TLP:RED never leave). The receiver stores the
//! copies as records of its own stand-in for the sender, and re-checks the levels, so a
//! distribution never widens even if the sender is misconfigured.
//!
//! Denial notices (issue 17) travel in the same batch (`denials`): what the agreements release
//! to the peer organisation (metric `denial_notice`, agreed fields only, the rest masked), under
//! the same narrowing and TLP:RED rules; a withdrawal travels as `withdrawn_on` and is appended
//! to the receiver's copy, which is never rewritten.
//!
//! Push: `POST /federation/peers/{name}/push` sends our outbox for that peer to the peer's
//! `/federation/inbox`. Pull: `POST /federation/peers/{name}/pull` fetches the peer's
//! `/federation/outbox` (as our stand-in organisation on that instance) and ingests it.

use crate::auth::{Auth, PeerAuth};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::routes::exchange::visible_records_unlogged;
use crate::AppState;
use axum::extract::State;
use chipwatch_store::audit::Checkpoint;
use chipwatch_store::partner::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A record as it travels between instances.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FederatedRecord {
    pub uid: String,
    pub item: String,
    pub metric: String,
    #[schema(value_type = String)]
    pub tlp: Tlp,
    #[schema(value_type = String)]
    pub distribution: Distribution,
    pub provider: Option<String>,
    pub site: Option<String>,
    pub country: Option<String>,
    pub value: Option<f64>,
    pub unit: Option<String>,
    pub period: Option<String>,
    pub provenance: Option<String>,
    /// `instance/uid` of the original record.
    pub origin: String,
}

/// A denial notice as it travels between instances (masked by the sender's agreements).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FederatedDenial {
    pub uid: String,
    /// `instance/uid` of the original notice.
    pub origin: String,
    #[schema(value_type = String)]
    pub tlp: Tlp,
    #[schema(value_type = String)]
    pub distribution: Distribution,
    /// The notice (fields the agreement withholds are absent; `withdrawn_on` once withdrawn).
    #[schema(value_type = Object)]
    pub notice: chipwatch_controls::denials::DenialNotice,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    pub instance: String,
    pub records: Vec<FederatedRecord>,
    /// Denial notices released to the peer (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denials: Vec<FederatedDenial>,
    /// The sender's newest signed audit checkpoint (docs/partner-exchange.md, "Audit"); the
    /// receiver checks and keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub checkpoint: Option<Checkpoint>,
}

/// What `org` (a peer stand-in) may receive, narrowed for the trip, with the ids of the records
/// and of the denial notices in it. Nothing is logged here: the caller logs what it actually
/// sent (a push only once the peer accepted it).
pub async fn outbox_for(s: &AppState, org: &Org) -> ApiResult<(Batch, Vec<i64>, Vec<i64>)> {
    let rows = visible_records_unlogged(s, org, None, None, false, true).await?;
    let mut ids = Vec::new();
    let records = rows
        .into_iter()
        .filter(|(_, _, v)| v.tlp != Tlp::Red)
        .filter_map(|(id, _, v)| {
            let d = v.distribution.narrowed_for_federation()?;
            ids.push(id);
            Some(FederatedRecord {
                origin: format!("{}/{}", s.instance, v.uid),
                uid: v.uid,
                item: v.item,
                metric: v.metric,
                tlp: v.tlp,
                distribution: d,
                provider: v.provider,
                site: v.site,
                country: v.country,
                value: v.value,
                unit: v.unit,
                period: v.period,
                provenance: v.provenance,
            })
        })
        .collect();
    let filter = chipwatch_store::denial_notices::DenialFilter {
        include_withdrawn: true,
        ..Default::default()
    };
    let mut denial_ids = Vec::new();
    let denials = s
        .store
        .visible_denials(org, &filter)
        .await?
        .into_iter()
        // The peer's own copies (received from it) never go back; TLP:RED never leaves.
        .filter(|v| !v.own && v.tlp != Tlp::Red)
        .filter_map(|v| {
            let d = v.distribution.narrowed_for_federation()?;
            denial_ids.push(v.id);
            Some(FederatedDenial {
                origin: format!("{}/{}", s.instance, v.uid),
                uid: v.uid,
                tlp: v.tlp,
                distribution: d,
                notice: v.notice,
            })
        })
        .collect();
    let checkpoint = s.store.audit_config().and_then(|c| c.last_checkpoint());
    Ok((
        Batch {
            instance: s.instance.clone(),
            records,
            denials,
            checkpoint,
        },
        ids,
        denial_ids,
    ))
}

/// Receiver-side check: the level a copy gets here, or a validation error.
fn accept(r: &FederatedRecord) -> ApiResult<Distribution> {
    accept_level("records", &r.uid, r.tlp, r.distribution)
}

/// The rule of [`accept`] for anything that carries TLP and distribution (records, notices).
fn accept_level(what: &str, uid: &str, tlp: Tlp, d: Distribution) -> ApiResult<Distribution> {
    if tlp == Tlp::Red {
        return Err(ApiError::validation(format!(
            "{what}: `{uid}` is TLP:RED and may not be federated"
        )));
    }
    // Re-narrow: a copy is at most community-wide here unless it was `all` at the source.
    match d {
        Distribution::All => Ok(Distribution::All),
        Distribution::Community | Distribution::ConnectedCommunities => Ok(Distribution::Community),
        d => Err(ApiError::validation(format!(
            "{what}: `{uid}` has distribution {} which never leaves its instance",
            d.as_str()
        ))),
    }
}

async fn ingest(s: &AppState, org: &Org, actor: &str, batch: Batch) -> ApiResult<Value> {
    if batch.records.len() > 10_000 {
        return Err(ApiError::validation("records: at most 10000 per batch"));
    }
    if batch.denials.len() > 10_000 {
        return Err(ApiError::validation("denials: at most 10000 per batch"));
    }
    let mut notices = Vec::with_capacity(batch.denials.len());
    for d in batch.denials {
        let distribution = accept_level("denials", &d.uid, d.tlp, d.distribution)?;
        if d.uid.trim().is_empty() || d.uid.len() > 200 || d.origin.len() > 300 {
            return Err(ApiError::validation(
                "denials: uid and origin must be short and non-empty",
            ));
        }
        notices.push((
            d.uid,
            d.origin,
            chipwatch_store::denial_notices::NewDenialNotice {
                notice: d.notice,
                tlp: Some(d.tlp),
                distribution: Some(distribution),
                sharing_group_id: None,
            },
        ));
    }
    let mut recs = Vec::with_capacity(batch.records.len());
    for r in batch.records {
        let distribution = accept(&r)?;
        recs.push(NewRecord {
            uid: Some(r.uid),
            item: r.item,
            provider: r.provider,
            site: r.site,
            country: r.country,
            metric: r.metric,
            value: r.value,
            unit: r.unit,
            period: r.period,
            provenance: r.provenance,
            tlp: Some(r.tlp),
            distribution: Some(distribution),
            sharing_group_id: None,
            origin: Some(r.origin),
        });
    }
    // Keep the sender's audit checkpoint; a bad signature or a changed key means the sender is
    // broken or not who it was: refuse the whole batch (fail closed).
    if let Some(cp) = &batch.checkpoint {
        s.store
            .store_peer_checkpoint(org.id, cp)
            .await
            .map_err(|e| match e {
                chipwatch_store::StoreError::Invalid(m) => ApiError::validation(m),
                e => e.into(),
            })?;
    }
    let (inserted, updated, skipped) = s.store.ingest_federated(org, actor, recs).await?;
    let mut counts = json!({"from": batch.instance, "inserted": inserted, "updated": updated, "skipped": skipped});
    if !notices.is_empty() {
        let (i, w, k) = s
            .store
            .ingest_federated_denials(org, actor, notices)
            .await?;
        counts["denials"] = json!({"inserted": i, "withdrawn": w, "skipped": k});
    }
    Ok(counts)
}

/// Records this instance releases to the calling peer (peer organisations only).
#[utoipa::path(get, path = "/api/v1/federation/outbox", tag = "federation",
    responses((status = 200, description = "A batch of records", body = Batch)), security(("bearer" = [])))]
pub async fn outbox(State(s): State<AppState>, a: PeerAuth) -> ApiResult<axum::Json<Batch>> {
    let p = &a.0;
    let (batch, ids, denial_ids) = outbox_for(&s, &p.org).await?;
    if !ids.is_empty() || !denial_ids.is_empty() {
        // Logged as released: exactly the records and notices in the answer.
        let detail = with_denials(json!({"records": ids}), "denials", &denial_ids);
        s.store
            .audit(
                &p.actor(),
                "federation.outbox",
                &format!("org:{}", p.org.id),
                detail,
            )
            .await?;
    }
    Ok(axum::Json(batch))
}

/// Receive records pushed by a peer (peer organisations with the analyst role).
#[utoipa::path(post, path = "/api/v1/federation/inbox", tag = "federation", request_body = Batch,
    responses((status = 200, description = "Counts", body = Object)), security(("bearer" = [])))]
pub async fn inbox(
    State(s): State<AppState>,
    a: PeerAuth,
    Json(b): Json<Batch>,
) -> ApiResult<axum::Json<Value>> {
    let p = a.require(Role::Analyst)?;
    Ok(axum::Json(ingest(&s, &p.org, &p.actor(), b).await?))
}

/// An audit detail with the notice ids under `key` when there are any (details of batches
/// without notices stay as they were).
fn with_denials(mut detail: Value, key: &str, ids: &[i64]) -> Value {
    if !ids.is_empty() {
        detail[key] = json!(ids);
    }
    detail
}

async fn peer(s: &AppState, name: &str) -> ApiResult<(Peer, Org)> {
    let peer = s
        .store
        .peer_by_name(name)
        .await?
        .ok_or_else(|| ApiError::not_found("peer"))?;
    let org = s
        .store
        .org(peer.local_org_id)
        .await?
        .ok_or_else(|| ApiError::not_found("peer"))?;
    Ok((peer, org))
}

fn upstream(e: impl std::fmt::Display) -> ApiError {
    tracing::warn!(error = %e, "federation peer call failed");
    ApiError::new("upstream_failed", "the peer did not accept the request")
}

/// Push our outbox for a peer to it; returns the peer's counts. The push is logged once its
/// fate is known: `federation.push` with the records the peer accepted, or
/// `federation.push_failed` with the records that were not delivered and why.
pub async fn push(s: &AppState, name: &str, actor: &str) -> ApiResult<Value> {
    let (peer, org) = peer(s, name).await?;
    let (batch, ids, denial_ids) = outbox_for(s, &org).await?;
    let n = batch.records.len();
    let object = format!("peer:{}", peer.id);
    let outcome: Result<Value, String> = async {
        let resp = s
            .http
            .post(format!("{}/api/v1/federation/inbox", peer.base_url))
            .bearer_auth(&peer.remote_token)
            .json(&batch)
            .send()
            .await
            .map_err(|e| format!("no answer: {}", e.without_url()))?;
        if !resp.status().is_success() {
            return Err(format!("answered {}", resp.status().as_u16()));
        }
        resp.json::<Value>()
            .await
            .map_err(|_| "answered with an unreadable body".to_string())
    }
    .await;
    match outcome {
        Ok(counts) => {
            s.store
                .audit(
                    actor,
                    "federation.push",
                    &object,
                    with_denials(json!({"sent": n, "records": ids}), "denials", &denial_ids),
                )
                .await?;
            Ok(json!({"peer": name, "sent": n, "peer_counts": counts}))
        }
        Err(why) => {
            s.store
                .audit(
                    actor,
                    "federation.push_failed",
                    &object,
                    with_denials(
                        json!({"not_delivered": ids, "error": why}),
                        "denials_not_delivered",
                        &denial_ids,
                    ),
                )
                .await?;
            Err(upstream(format!("peer {name}: {why}")))
        }
    }
}

/// Pull the peer's outbox for us and store it as records of the peer's stand-in org.
pub async fn pull(s: &AppState, name: &str, actor: &str) -> ApiResult<Value> {
    let (peer, org) = peer(s, name).await?;
    let resp = s
        .http
        .get(format!("{}/api/v1/federation/outbox", peer.base_url))
        .bearer_auth(&peer.remote_token)
        .send()
        .await
        .map_err(upstream)?;
    if !resp.status().is_success() {
        return Err(upstream(format!("peer {name} answered {}", resp.status())));
    }
    let batch: Batch = resp.json().await.map_err(upstream)?;
    ingest(s, &org, actor, batch).await
}

/// Push to a peer now (admin of a tenant organisation).
#[utoipa::path(post, path = "/api/v1/federation/peers/{name}/push", tag = "federation",
    params(("name" = String, Path, description = "Peer name")),
    responses((status = 200, description = "Counts", body = Object), (status = 502, description = "Peer failed", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn push_route(
    State(s): State<AppState>,
    a: Auth,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    a.require_local()?;
    let p = a.require(Role::Admin)?;
    Ok(axum::Json(push(&s, &name, &p.actor()).await?))
}

/// Pull from a peer now (admin of a tenant organisation).
#[utoipa::path(post, path = "/api/v1/federation/peers/{name}/pull", tag = "federation",
    params(("name" = String, Path, description = "Peer name")),
    responses((status = 200, description = "Counts", body = Object), (status = 502, description = "Peer failed", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn pull_route(
    State(s): State<AppState>,
    a: Auth,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    a.require_local()?;
    let p = a.require(Role::Admin)?;
    Ok(axum::Json(pull(&s, &name, &p.actor()).await?))
}
