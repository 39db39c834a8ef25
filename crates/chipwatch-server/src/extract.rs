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
        let axum::Json(mut v) = axum::Json::<serde_json::Value>::from_request(req, state)
            .await
            .map_err(json_rejection)?;
        integral_floats(&mut v);
        T::deserialize(v).map(Json).map_err(|e| {
            let msg = e.to_string();
            if msg.contains("unknown field") {
                ApiError::new("unknown_field", msg)
            } else {
                ApiError::new("invalid_json", msg)
            }
        })
    }
}

/// JSON Schema (and so the OpenAPI document) counts `3.0` as an integer; serde does not. Numbers
/// with no fraction that fit an `i64` become integers before the body is read, so `{"id": 3.0}`
/// means `{"id": 3}` (an `f64` field reads either alike).
fn integral_floats(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64() {
                // -2^63 ..= 2^63 exclusive at the top: every such f64 is exactly an i64.
                if f.fract() == 0.0
                    && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f)
                {
                    *v = Value::from(f as i64);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(integral_floats),
        Value::Object(o) => o.values_mut().for_each(integral_floats),
        _ => {}
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

/// A `limit` query parameter: default 100, between 1 and 1000 (outside: `invalid_parameter`).
pub fn limit(v: Option<i64>) -> Result<i64, ApiError> {
    match v {
        None => Ok(100),
        Some(n) if (1..=1000).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::new(
            "invalid_parameter",
            "limit: between 1 and 1000",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integral_floats_become_integers_and_nothing_else_changes() {
        let mut v = json!({"a": 3.0, "b": [-2.0, 2.5, 1e300], "c": {"d": 0.0}, "e": "3.0"});
        integral_floats(&mut v);
        assert_eq!(
            v,
            json!({"a": 3, "b": [-2, 2.5, 1e300], "c": {"d": 0}, "e": "3.0"})
        );
        assert!(v["a"].is_i64());
    }

    #[test]
    fn limit_bounds() {
        assert_eq!(limit(None).unwrap(), 100);
        assert_eq!(limit(Some(1000)).unwrap(), 1000);
        for bad in [0, -1, 1001] {
            let e = limit(Some(bad)).unwrap_err();
            assert_eq!(e.code, "invalid_parameter");
            assert!(e.message.starts_with("limit:"));
        }
    }
}
