//! Extractors that turn every rejection into an [`ApiError`] with a stable code, so bad input
//! (wrong types, unknown fields, invalid UTF-8, oversized bodies, a missing content type) never
//! reaches a client as axum's plain-text default.

use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// JSON body. Input types carry `#[serde(deny_unknown_fields)]`.
#[derive(Debug)]
pub struct Json<T>(pub T);

fn json_rejection(rej: JsonRejection) -> ApiError {
    if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new("payload_too_large", "request body exceeds 1 MiB");
    }
    match rej {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            "unsupported_media_type",
            "send the body as application/json",
        ),
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            let msg = text
                .trim_start_matches("Failed to deserialize the JSON body into the target type: ");
            if msg.contains("unknown field") {
                ApiError::new("unknown_field", msg)
            } else {
                ApiError::new("invalid_json", msg)
            }
        }
        JsonRejection::JsonSyntaxError(e) => ApiError::new(
            "invalid_json",
            e.body_text()
                .trim_start_matches("Failed to parse the request body as JSON: "),
        ),
        other => ApiError::new("bad_request", other.body_text()),
    }
}

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|axum::Json(v)| Json(v))
            .map_err(json_rejection)
    }
}

/// Path parameters.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|e: PathRejection| ApiError::new("invalid_parameter", e.body_text()))
    }
}

/// Query string. Query types carry `#[serde(deny_unknown_fields)]`.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|e: QueryRejection| {
                ApiError::new(
                    "invalid_parameter",
                    e.body_text()
                        .trim_start_matches("Failed to deserialize query string: "),
                )
            })
    }
}
