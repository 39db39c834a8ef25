//! API errors: one public table of stable error codes ([`ERROR_CODES`]), a JSON body
//! `{"error": {"code": ..., "message": ...}}`, and the rule that internal detail (SQL, IO, panics)
//! is logged, never sent: clients get the code and a message written for them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chipwatch_store::StoreError;
use serde::Serialize;

/// A stable error code: what clients match on. Never rename one; add new ones at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ErrorCode {
    pub code: &'static str,
    pub status: u16,
    pub description: &'static str,
}

/// Every error code the API can return.
pub const ERROR_CODES: &[ErrorCode] = &[
    ErrorCode {
        code: "bad_request",
        status: 400,
        description: "The request is malformed (e.g. a header or the path is invalid).",
    },
    ErrorCode {
        code: "invalid_json",
        status: 400,
        description:
            "The body is not valid JSON (or not UTF-8), or does not match the expected shape.",
    },
    ErrorCode {
        code: "unknown_field",
        status: 400,
        description: "The body has a field the endpoint does not accept.",
    },
    ErrorCode {
        code: "invalid_parameter",
        status: 400,
        description: "A path or query parameter has the wrong type or value.",
    },
    ErrorCode {
        code: "unauthenticated",
        status: 401,
        description: "No token, or an unknown, revoked or expired token.",
    },
    ErrorCode {
        code: "forbidden",
        status: 403,
        description: "The caller's role may not use this function.",
    },
    ErrorCode {
        code: "not_found",
        status: 404,
        description: "No such route or object, or the caller may not see it.",
    },
    ErrorCode {
        code: "method_not_allowed",
        status: 405,
        description: "The route exists but not with this method.",
    },
    ErrorCode {
        code: "conflict",
        status: 409,
        description: "The object exists already or is in a state that forbids the change.",
    },
    ErrorCode {
        code: "payload_too_large",
        status: 413,
        description: "The body exceeds the request size limit (1 MiB).",
    },
    ErrorCode {
        code: "unsupported_media_type",
        status: 415,
        description: "The body must be sent as application/json.",
    },
    ErrorCode {
        code: "validation_failed",
        status: 422,
        description:
            "The body is well-formed but a value is not acceptable; the message names the field.",
    },
    ErrorCode {
        code: "internal",
        status: 500,
        description:
            "An unexpected server error; details are in the server log, not in the response.",
    },
    ErrorCode {
        code: "not_available",
        status: 501,
        description: "The capability is not part of this build.",
    },
    ErrorCode {
        code: "upstream_failed",
        status: 502,
        description: "A federation peer did not answer as expected.",
    },
    ErrorCode {
        code: "timeout",
        status: 503,
        description: "The request took longer than the server's time limit (30 s).",
    },
    ErrorCode {
        code: "rate_limited",
        status: 429,
        description: "Too many failed authentications from this address or with this token; retry after the `Retry-After` seconds.",
    },
];

/// An error on its way to the client.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: &'static str,
    pub message: String,
    /// Seconds for a `Retry-After` header (`rate_limited`).
    pub retry_after: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// One of the codes in the error table (docs/api.md).
    pub code: String,
    pub message: String,
}

impl ApiError {
    /// Build from a code of [`ERROR_CODES`]. An unknown code is a programming error: it is
    /// reported as `internal` so clients still only ever see table codes.
    pub fn new(code: &'static str, message: impl Into<String>) -> ApiError {
        if ERROR_CODES.iter().any(|c| c.code == code) {
            ApiError {
                code,
                message: message.into(),
                retry_after: None,
            }
        } else {
            tracing::error!(code, "error code missing from ERROR_CODES");
            ApiError {
                code: "internal",
                message: "internal error".into(),
                retry_after: None,
            }
        }
    }
    pub fn status(&self) -> StatusCode {
        ERROR_CODES
            .iter()
            .find(|c| c.code == self.code)
            .and_then(|c| StatusCode::from_u16(c.status).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new("not_found", format!("{what} not found"))
    }
    /// `rate_limited`, telling the client when to come back (whole seconds, at least 1).
    pub fn rate_limited(wait: std::time::Duration) -> ApiError {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        ApiError {
            retry_after: Some(secs.max(1)),
            ..ApiError::new(
                "rate_limited",
                "too many failed authentications; retry later",
            )
        }
    }
    pub fn forbidden(why: &str) -> ApiError {
        ApiError::new("forbidden", why)
    }
    pub fn validation(msg: impl Into<String>) -> ApiError {
        ApiError::new("validation_failed", msg)
    }
    /// Log the real cause, answer with a generic message.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError {
            code: "internal",
            message: "internal error".into(),
            retry_after: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
            },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(&what),
            StoreError::Conflict(msg) => ApiError::new("conflict", msg),
            // Our own validation messages name the field and contain no internals.
            StoreError::Invalid(msg) => ApiError::validation(msg),
            e if e.is_unique_violation() => {
                tracing::info!(error = %e, "unique violation");
                ApiError::new("conflict", "an object with this name or id exists")
            }
            e => ApiError::internal(&e),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
