//! Authentication and function-level authorisation. [`resolve_principal`] turns a request's
//! credential (an `Authorization: Bearer` token, or the dashboard's session cookie, which holds
//! a token too) into a [`Principal`]; the dashboard reuses it. Failures are logged with a reason
//! and never with the credential.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use chipwatch_store::partner::{OrgKind, Principal, Role};
use chipwatch_store::Store;
use rand::RngCore;

/// Cookie a browser session carries (its value is an API token issued at login).
pub const SESSION_COOKIE: &str = "chipwatch_session";
/// Prefix of every token secret, so leaked tokens are recognisable by secret scanners.
pub const TOKEN_PREFIX: &str = "cw_";

/// A new token secret: the prefix and 32 bytes from the OS CSPRNG, hex-encoded.
pub fn new_token_secret() -> String {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    format!("{TOKEN_PREFIX}{}", hex::encode(raw))
}

/// The credential presented by a request, if any.
pub fn credential(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let v = v.trim();
        if let Some(t) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
        {
            return Some(t.trim());
        }
        return None;
    }
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.trim())
}

/// Resolve the request's credential to a principal, or `unauthenticated`.
pub async fn resolve_principal(store: &Store, headers: &HeaderMap) -> ApiResult<Principal> {
    let Some(secret) = credential(headers) else {
        tracing::warn!(reason = "no_credential", "authentication failed");
        return Err(ApiError::new(
            "unauthenticated",
            "send `Authorization: Bearer <token>`",
        ));
    };
    // Cheap shape check first: malformed secrets never reach the database.
    if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 200 {
        tracing::warn!(reason = "malformed_token", "authentication failed");
        return Err(ApiError::new(
            "unauthenticated",
            "unknown, revoked or expired token",
        ));
    }
    match store.principal_for_secret(secret).await? {
        Some(p) => Ok(p),
        None => {
            tracing::warn!(
                reason = "unknown_revoked_or_expired_token",
                "authentication failed"
            );
            Err(ApiError::new(
                "unauthenticated",
                "unknown, revoked or expired token",
            ))
        }
    }
}

/// Extractor: an authenticated caller.
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let p = resolve_principal(&state.store, &parts.headers).await?;
        Ok(Auth(p))
    }
}

impl Auth {
    /// Function-level check: the caller's role is at least `role`.
    pub fn require(&self, role: Role) -> ApiResult<&Principal> {
        if self.0.role >= role {
            Ok(&self.0)
        } else {
            tracing::warn!(
                actor = %self.0.actor(),
                needed = role.as_str(),
                has = self.0.role.as_str(),
                "authorisation failed"
            );
            Err(ApiError::forbidden(&format!(
                "this function needs the {} role",
                role.as_str()
            )))
        }
    }
    /// The caller must belong to a tenant org of this instance (not a federation peer).
    pub fn require_local(&self) -> ApiResult<&Principal> {
        if self.0.org.kind == OrgKind::Local {
            Ok(&self.0)
        } else {
            Err(ApiError::forbidden(
                "federation peers may only use the federation endpoints",
            ))
        }
    }
}
