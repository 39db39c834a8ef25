//! Authentication and function-level authorisation.
//!
//! [`resolve_principal`] turns a request's credential (an `Authorization: Bearer` API token, or
//! the dashboard's session cookie) into a [`Principal`]; the dashboard reuses it. It refuses,
//! before any database lookup, callers over the failed-authentication limits
//! ([`crate::security::FailureLimiter`]: 429 `rate_limited` with `Retry-After`), and it refuses a
//! dashboard session presented as a bearer token (a session lives in the cookie only).
//!
//! Two extractors decide who may call a handler at all: [`Auth`] admits tenants of this
//! instance only, [`PeerAuth`] federation peers only (like MISP's sync users, a peer's token
//! opens the federation inbox and outbox and nothing else). Every failure is logged at `warn`
//! with a reason and the source address, never with the credential.

use crate::error::{ApiError, ApiResult};
use crate::security::{client_addr, client_label};
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use chipwatch_store::partner::{Authn, Credential, OrgKind, Principal, Role};
use rand::RngCore;

/// Cookie a browser session carries (its value is a session secret minted at login).
pub const SESSION_COOKIE: &str = "chipwatch_session";
/// Prefix of every token secret, so leaked tokens are recognisable by secret scanners.
pub const TOKEN_PREFIX: &str = "cw_";

/// A new token secret: the prefix and 32 bytes from the OS CSPRNG, hex-encoded.
pub fn new_token_secret() -> String {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    format!("{TOKEN_PREFIX}{}", hex::encode(raw))
}

/// How a secret reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `Authorization: Bearer`.
    Bearer,
    /// The dashboard's session cookie.
    Cookie,
    /// The dashboard's sign-in form (an API token to mint a session from).
    LoginForm,
}

/// The credential presented by a request, if any, and how it came.
pub fn credential(headers: &HeaderMap) -> Option<(&str, Transport)> {
    if let Some(v) = headers.get(AUTHORIZATION) {
        let v = v.to_str().ok()?.trim();
        return v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .map(|t| (t.trim(), Transport::Bearer));
    }
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| (v.trim(), Transport::Cookie))
}

fn unauthenticated() -> ApiError {
    ApiError::new("unauthenticated", "unknown, revoked or expired token")
}

/// Resolve the request's credential to a principal, or `unauthenticated` / `rate_limited`.
pub async fn resolve_principal(s: &AppState, headers: &HeaderMap) -> ApiResult<Principal> {
    let Some((secret, transport)) = credential(headers) else {
        // Not counted by the limiter: presenting nothing guesses nothing.
        s.metrics.auth_failure("no_credential");
        tracing::warn!(
            reason = "no_credential",
            source = %client_label(),
            "authentication failed"
        );
        return Err(ApiError::new(
            "unauthenticated",
            "send `Authorization: Bearer <token>`",
        ));
    };
    authenticate(s, secret, transport).await
}

/// Check one presented secret: limits first, then shape, then the store.
pub async fn authenticate(
    s: &AppState,
    secret: &str,
    transport: Transport,
) -> ApiResult<Principal> {
    let source = client_addr();
    if let Err((which, wait)) = s.auth_failures.check(source, secret) {
        s.metrics.auth_failure("rate_limited");
        tracing::warn!(
            reason = "rate_limited",
            limit = which.as_str(),
            source = %client_label(),
            "authentication failed"
        );
        return Err(ApiError::rate_limited(wait));
    }
    let fail = |reason: &'static str| {
        // A browser keeps sending a cookie after its session ended: a known but dead session
        // in the cookie is normal, not guessing, and must not lock its user out of signing in
        // again. Everything else counts: unknown or malformed secrets anywhere, and any dead
        // credential presented as a bearer token or on the sign-in form.
        let stale_cookie = transport == Transport::Cookie
            && reason != "unknown_token"
            && reason != "malformed_token";
        if !stale_cookie {
            s.auth_failures.record_failure(source, secret);
        }
        s.metrics.auth_failure(reason);
        tracing::warn!(reason, source = %client_label(), "authentication failed");
        unauthenticated()
    };
    // Cheap shape check first: malformed secrets never reach the database.
    if !secret.starts_with(TOKEN_PREFIX)
        || secret.len() > 200
        || !secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(fail("malformed_token"));
    }
    match s.store.authenticate(secret).await? {
        Authn::Rejected(reason) => Err(fail(reason)),
        Authn::Accepted(p)
            if p.credential == Credential::Session && transport == Transport::Bearer =>
        {
            // A session secret outside its cookie was lifted from a browser.
            Err(fail("session_as_bearer_token"))
        }
        Authn::Accepted(p) => Ok(p),
    }
}

/// Log an authorisation failure with the actor, a reason and the source address.
pub fn log_denied(p: Option<&Principal>, reason: &'static str) {
    tracing::warn!(
        actor = %p.map_or_else(|| "anonymous".to_string(), Principal::actor),
        reason,
        source = %client_label(),
        "authorisation failed"
    );
}

/// Log an authorisation failure (see [`log_denied`]) and build its 403.
pub fn deny(p: &Principal, reason: &'static str, why: &str) -> ApiError {
    log_denied(Some(p), reason);
    ApiError::forbidden(why)
}

/// Extractor: an authenticated caller of a tenant organisation of this instance. Federation
/// peers are refused here, so every handler that takes `Auth` is closed to them by default.
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let p = resolve_principal(state, &parts.headers).await?;
        if p.org.kind != OrgKind::Local {
            return Err(deny(
                &p,
                "peer_outside_federation",
                "federation peers may only use the federation endpoints",
            ));
        }
        Ok(Auth(p))
    }
}

/// Extractor: an authenticated caller of a federation peer organisation (the federation inbox
/// and outbox).
#[derive(Debug, Clone)]
pub struct PeerAuth(pub Principal);

impl FromRequestParts<AppState> for PeerAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let p = resolve_principal(state, &parts.headers).await?;
        if p.org.kind != OrgKind::Peer {
            return Err(deny(
                &p,
                "tenant_on_federation_endpoint",
                "only federation peer organisations use this endpoint",
            ));
        }
        Ok(PeerAuth(p))
    }
}

fn require_role(p: &Principal, role: Role) -> ApiResult<&Principal> {
    if p.role >= role {
        Ok(p)
    } else {
        tracing::warn!(
            actor = %p.actor(),
            needed = role.as_str(),
            has = p.role.as_str(),
            source = %client_label(),
            "authorisation failed"
        );
        Err(ApiError::forbidden(&format!(
            "this function needs the {} role",
            role.as_str()
        )))
    }
}

impl Auth {
    /// Function-level check: the caller's role is at least `role`.
    pub fn require(&self, role: Role) -> ApiResult<&Principal> {
        require_role(&self.0, role)
    }
    /// The caller must belong to a tenant org of this instance (always true for [`Auth`];
    /// kept so handlers state it where it matters).
    pub fn require_local(&self) -> ApiResult<&Principal> {
        if self.0.org.kind == OrgKind::Local {
            Ok(&self.0)
        } else {
            Err(deny(
                &self.0,
                "peer_outside_federation",
                "federation peers may only use the federation endpoints",
            ))
        }
    }
    /// The caller authenticated with an API token, not a dashboard session: functions that
    /// mint credentials refuse sessions, so a stolen cookie never becomes a lasting token.
    pub fn require_api_token(&self) -> ApiResult<&Principal> {
        if self.0.credential == Credential::Api {
            Ok(&self.0)
        } else {
            Err(deny(
                &self.0,
                "session_minting_credential",
                "a dashboard session cannot issue credentials; use an API token",
            ))
        }
    }
}

impl PeerAuth {
    /// Function-level check: the peer's user has at least `role`.
    pub fn require(&self, role: Role) -> ApiResult<&Principal> {
        require_role(&self.0, role)
    }
}
