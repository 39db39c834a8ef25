//! Completing the OpenAPI document from the route table.
//!
//! The handlers' `#[utoipa::path]` annotations describe what is particular to each operation
//! (parameters, bodies, success answers, errors with a handler-specific meaning). The error
//! answers every operation shares follow from the route table and the extractors, so they are
//! added here rather than repeated in ~60 annotations, where one would be forgotten:
//!
//! - a token (`auth`): 401 `unauthenticated`, 403 `forbidden`, 429 `rate_limited`;
//! - any parameter or body: 400 (`invalid_parameter`, `invalid_json`, `unknown_field`,
//!   `bad_request`);
//! - a path parameter: 404 `not_found` (missing, or another organisation's);
//! - a JSON body: 413 `payload_too_large`, 415 `unsupported_media_type`, 422
//!   `validation_failed`;
//! - a write to the store (POST/DELETE that is not a pure computation): 409 `conflict`.
//!
//! Every error answer refers to one shared response under `components/responses` whose body is
//! `ErrorBody`, with `code` an enum of [`crate::error::ERROR_CODES`].

use crate::error::ERROR_CODES;
use crate::RouteDef;
use serde_json::{json, Map, Value};

/// Operations that compute an answer and store nothing: they never answer 409.
const PURE: &[(&str, &str)] = &[
    ("POST", "/api/v1/scenarios/run"),
    ("POST", "/api/v1/licence/check"),
    ("POST", "/api/v1/screening"),
    ("POST", "/api/v1/controls/determine"),
    ("POST", "/api/v1/controls/screen"),
    ("POST", "/api/v1/risk"),
    ("POST", "/api/v1/model/validate"),
    ("POST", "/api/v1/monitor/classify"),
    ("POST", "/api/v1/licences/{id}/impact"),
];

/// Body fields that take an ISO 3166-1 alpha-3 code (checked against the standard's list), or a
/// list of them: their schema (or their items' schema) gets the list as an enum.
const COUNTRY_FIELDS: &[(&str, &str)] = &[
    ("DetermineBody", "from"),
    ("DetermineBody", "to"),
    ("DetermineBody", "origin"),
    ("NewRecordBody", "country"),
    ("LicenceBody", "destinations"),
    ("ShipmentBody", "destination"),
];

/// Body schemas that are internally tagged enums refusing unknown fields: utoipa does not carry
/// serde's `deny_unknown_fields` to their variants, so each variant is closed here.
const CLOSED_ONE_OF: &[&str] = &["EventBody"];

/// Query parameters that take an ISO 3166-1 alpha-3 code: (path, parameter); their schema gets
/// the list as an enum too.
const COUNTRY_PARAMS: &[(&str, &str)] = &[
    ("/api/v1/licences", "destination"),
    ("/api/v1/trade/dependence", "importer"),
    ("/api/v1/trade/bilateral", "importer"),
    ("/api/v1/trade/bilateral", "exporter"),
    ("/api/v1/trade/partners", "importer"),
    ("/api/v1/trade/partners", "exporter"),
    ("/api/v1/trade/alerts", "importer"),
];

/// Every ISO 3166-1 alpha-3 code, as `chipwatch_controls::country::check` accepts them.
fn iso_countries() -> Vec<String> {
    let letters = b'A'..=b'Z';
    letters
        .clone()
        .flat_map(|a| letters.clone().map(move |b| [a, b]))
        .flat_map(|[a, b]| {
            (b'A'..=b'Z').map(move |c| String::from_utf8_lossy(&[a, b, c]).into_owned())
        })
        .filter(|c| chipwatch_controls::country::is_iso3(c))
        .collect()
}

/// The shared error responses: name, status, the codes it carries, description.
const SHARED: &[(&str, u16, &[&str], &str)] = &[
    (
        "BadRequest",
        400,
        &[
            "bad_request",
            "invalid_json",
            "unknown_field",
            "invalid_parameter",
        ],
        "Malformed request: a parameter of the wrong type or value, an unknown query parameter, a body that is not JSON or has an unknown field; the message names the parameter or field.",
    ),
    (
        "Unauthenticated",
        401,
        &["unauthenticated"],
        "No token, or an unknown, revoked or expired token.",
    ),
    (
        "Forbidden",
        403,
        &["forbidden"],
        "The caller's role (or organisation kind) may not use this function.",
    ),
    (
        "NotFound",
        404,
        &["not_found"],
        "No such object, or one the caller may not see.",
    ),
    (
        "Conflict",
        409,
        &["conflict"],
        "The object exists already or is in a state that forbids the change.",
    ),
    (
        "PayloadTooLarge",
        413,
        &["payload_too_large"],
        "The body exceeds the request size limit (1 MiB).",
    ),
    (
        "UnsupportedMediaType",
        415,
        &["unsupported_media_type"],
        "The body must be sent as application/json.",
    ),
    (
        "ValidationFailed",
        422,
        &["validation_failed"],
        "The body is well-formed but a value is not acceptable; the message names the field.",
    ),
    (
        "RateLimited",
        429,
        &["rate_limited"],
        "Too many failed authentications from this address or with this token.",
    ),
];

fn shared_ref(status: u16) -> Value {
    let name = SHARED
        .iter()
        .find(|s| s.1 == status)
        .map(|s| s.0)
        .unwrap_or("BadRequest");
    json!({"$ref": format!("#/components/responses/{name}")})
}

fn error_response(codes: &[&str], description: &str) -> Value {
    let list: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
    json!({
        "description": format!("{description} Error code: {}.", list.join(", ")),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    })
}

/// Add the shared error responses to every operation of `doc` (the generated document), and the
/// shared components they refer to. Responses an annotation already declares are kept.
pub fn complete(doc: &mut Value, routes: &[RouteDef]) {
    // Components: the error body with `code` restricted to the public table.
    let components = doc
        .as_object_mut()
        .map(|o| o.entry("components").or_insert_with(|| json!({})));
    let Some(components) = components else { return };
    let codes: Vec<&str> = ERROR_CODES.iter().map(|c| c.code).collect();
    components["schemas"]["ErrorDetail"] = json!({
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "enum": codes,
                     "description": "One of the codes in the error table (docs/api.md)."},
            "message": {"type": "string", "description": "For humans; names the parameter or field at fault."}
        }
    });
    let mut responses = Map::new();
    for (name, status, codes, description) in SHARED {
        let mut r = error_response(codes, description);
        if *status == 429 {
            r["headers"] = json!({"Retry-After": {
                "description": "Seconds until a new attempt can succeed.",
                "schema": {"type": "integer", "minimum": 1}
            }});
        }
        responses.insert((*name).to_string(), r);
    }
    components["responses"] = Value::Object(responses);
    let countries = iso_countries();
    for (schema, field) in COUNTRY_FIELDS {
        if let Some(p) = components
            .pointer_mut(&format!("/schemas/{schema}/properties/{field}"))
            .and_then(Value::as_object_mut)
        {
            // A list of codes: the enum goes on its items.
            let p = if p.get("type") == Some(&json!("array")) {
                match p.get_mut("items").and_then(Value::as_object_mut) {
                    Some(items) => items,
                    None => continue,
                }
            } else {
                p
            };
            let nullable = p.get("type").is_some_and(Value::is_array);
            let mut list: Vec<Value> = countries.iter().map(|c| json!(c)).collect();
            if nullable {
                list.push(Value::Null);
            }
            p.insert("enum".into(), Value::Array(list));
        }
    }

    for schema in CLOSED_ONE_OF {
        let variants = components
            .pointer_mut(&format!("/schemas/{schema}/oneOf"))
            .and_then(Value::as_array_mut);
        for v in variants.into_iter().flatten() {
            v["additionalProperties"] = json!(false);
        }
    }
    for (path, name) in COUNTRY_PARAMS {
        let params = doc
            .pointer_mut(&format!(
                "/paths/{}/get/parameters",
                path.replace('/', "~1")
            ))
            .and_then(Value::as_array_mut);
        for p in params.into_iter().flatten() {
            if p["name"] == *name {
                p["schema"]["enum"] = Value::Array(countries.iter().map(|c| json!(c)).collect());
            }
        }
    }
    for route in routes {
        let method = route.method.as_str().to_ascii_lowercase();
        let Some(op) = doc
            .get_mut("paths")
            .and_then(|p| p.get_mut(route.path))
            .and_then(|p| p.get_mut(&method))
        else {
            continue;
        };
        if let Some(d) = crate::vocabulary::deprecated(route.method.as_str(), route.path) {
            op["deprecated"] = json!(true);
            let note = format!(
                " Deprecated: former name of `{} {}`, answered for one more release with `Deprecation` and `Link` headers.",
                d.method, d.successor
            );
            if let Some(Value::String(desc)) = op.get_mut("description") {
                desc.push_str(&note);
            } else {
                op["description"] = json!(note.trim_start());
            }
        }
        let has_body = op.get("requestBody").is_some();
        let has_params = op
            .get("parameters")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        let has_path_param = route.path.contains('{');
        let pure = PURE
            .iter()
            .any(|(m, p)| route.method.as_str() == *m && route.path == *p);
        let writes = (method == "post" || method == "put" || method == "delete") && !pure;
        let mut add = Vec::new();
        if has_params || has_body {
            add.push(400);
        }
        if route.auth {
            add.extend([401, 403, 429]);
        }
        if has_path_param {
            add.push(404);
        }
        if writes && route.auth {
            add.push(409);
        }
        if has_body {
            add.extend([413, 415, 422]);
        }
        let responses = op
            .as_object_mut()
            .map(|o| o.entry("responses").or_insert_with(|| json!({})));
        let Some(Value::Object(responses)) = responses else {
            continue;
        };
        for status in add {
            responses
                .entry(status.to_string())
                .or_insert_with(|| shared_ref(status));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_countries_are_the_249_codes() {
        let c = super::iso_countries();
        assert_eq!(c.len(), 249);
        assert!(c.contains(&"NLD".to_string()) && !c.contains(&"NDL".to_string()));
    }
}
