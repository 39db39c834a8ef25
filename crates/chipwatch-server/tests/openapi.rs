//! Structural validation of the OpenAPI document (no validator crate for 3.1 is well kept, so
//! the rules that matter to clients and to schemathesis are checked here):
//! - OpenAPI 3.1, every operation has an operationId and they are unique;
//! - every `$ref` resolves inside the document;
//! - every `{name}` of a path template is declared as a required path parameter, and no path
//!   parameter is declared that the template lacks; no parameter is declared twice;
//! - every operation documents the 4xx answers the route table implies (401/403/429 with a
//!   token, 400 with parameters or a body, 404 with a path id, 413/415/422 with a body), and
//!   every 4xx answer's body is the error body, whose `code` lists exactly the public codes;
//! - operations with a token declare the bearer scheme, the others declare none.
//!
//! `problems` is also run on broken copies of the document, so each rule is shown to fire.

use chipwatch_server::route_table;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    reference.strip_prefix('#').and_then(|p| doc.pointer(p))
}

fn deref<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(doc, r).unwrap_or(&Value::Null),
        None => v,
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    if let Some(s) = x.as_str() {
                        out.push(s.to_string());
                    }
                } else {
                    collect_refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// Everything wrong with `doc`, one line each.
fn problems(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if !doc["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.1."))
    {
        out.push(format!("openapi version is {}, not 3.1.x", doc["openapi"]));
    }
    if !doc["info"]["title"].is_string() || !doc["info"]["version"].is_string() {
        out.push("info.title and info.version are required".into());
    }
    let mut refs = Vec::new();
    collect_refs(doc, &mut refs);
    for r in refs {
        if resolve(doc, &r).is_none() {
            out.push(format!("$ref {r} does not resolve"));
        }
    }
    let codes: BTreeSet<&str> = chipwatch_server::error::ERROR_CODES
        .iter()
        .map(|c| c.code)
        .collect();
    let documented_codes: BTreeSet<&str> = doc
        .pointer("/components/schemas/ErrorDetail/properties/code/enum")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if documented_codes != codes {
        out.push("ErrorDetail.code does not list exactly the public error codes".into());
    }
    let routes: BTreeMap<(String, String), bool> = route_table()
        .iter()
        .map(|r| {
            (
                (r.method.as_str().to_lowercase(), r.path.to_string()),
                r.auth,
            )
        })
        .collect();
    let mut op_ids: BTreeMap<String, String> = BTreeMap::new();
    let empty = serde_json::Map::new();
    for (path, item) in doc["paths"].as_object().unwrap_or(&empty) {
        let template: BTreeSet<String> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_string)
            .collect();
        for (method, op) in item.as_object().unwrap_or(&empty) {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let here = format!("{} {path}", method.to_uppercase());
            match op["operationId"].as_str() {
                None => out.push(format!("{here}: no operationId")),
                Some(id) => {
                    if let Some(other) = op_ids.insert(id.to_string(), here.clone()) {
                        out.push(format!("{here}: operationId `{id}` also used by {other}"));
                    }
                }
            }
            // Parameters.
            let params: Vec<&Value> = op["parameters"]
                .as_array()
                .map(|a| a.iter().map(|p| deref(doc, p)).collect())
                .unwrap_or_default();
            let mut seen = BTreeSet::new();
            let mut declared_path = BTreeSet::new();
            for p in &params {
                let (name, loc) = (
                    p["name"].as_str().unwrap_or(""),
                    p["in"].as_str().unwrap_or(""),
                );
                if !seen.insert((name, loc)) {
                    out.push(format!("{here}: parameter {name} in {loc} declared twice"));
                }
                if p.get("schema").is_none() {
                    out.push(format!("{here}: parameter {name} has no schema"));
                }
                if loc == "path" {
                    declared_path.insert(name.to_string());
                    if p["required"] != json!(true) {
                        out.push(format!("{here}: path parameter {name} not required"));
                    }
                }
            }
            for name in template.difference(&declared_path) {
                out.push(format!("{here}: path parameter {name} not declared"));
            }
            for name in declared_path.difference(&template) {
                out.push(format!(
                    "{here}: declares path parameter {name} the path lacks"
                ));
            }
            // Responses.
            let responses = op["responses"].as_object().unwrap_or(&empty);
            if responses.is_empty() {
                out.push(format!("{here}: no responses"));
            }
            for (status, r) in responses {
                let Ok(n) = status.parse::<u16>() else {
                    out.push(format!(
                        "{here}: response key {status} is not a status code"
                    ));
                    continue;
                };
                let r = deref(doc, r);
                if !r["description"].is_string() {
                    out.push(format!("{here}: response {status} has no description"));
                }
                if (400..500).contains(&n) {
                    let schema = r.pointer("/content/application~1json/schema/$ref");
                    if schema != Some(&json!("#/components/schemas/ErrorBody")) {
                        out.push(format!("{here}: {status} does not answer the error body"));
                    }
                }
            }
            let Some(&auth) = routes.get(&(method.clone(), path.clone())) else {
                out.push(format!("{here}: not in the route table"));
                continue;
            };
            let mut needed = Vec::new();
            if auth {
                needed.extend(["401", "403", "429"]);
            }
            if !params.is_empty() || op.get("requestBody").is_some() {
                needed.push("400");
            }
            if !template.is_empty() {
                needed.push("404");
            }
            if op.get("requestBody").is_some() {
                needed.extend(["413", "415", "422"]);
            }
            for s in needed {
                if !responses.contains_key(s) {
                    out.push(format!("{here}: {s} not documented"));
                }
            }
            let secured = op["security"]
                .as_array()
                .is_some_and(|a| a.iter().any(|s| s.get("bearer").is_some()));
            if secured != auth {
                out.push(format!(
                    "{here}: security declared {secured}, route table says {auth}"
                ));
            }
        }
    }
    out
}

fn doc() -> Value {
    chipwatch_server::openapi()
}

#[test]
fn openapi_document_is_structurally_valid() {
    let p = problems(&doc());
    assert!(p.is_empty(), "OpenAPI problems:\n{}", p.join("\n"));
}

#[test]
fn every_error_answer_is_documented_with_the_error_body() {
    let doc = doc();
    let n400 = doc
        .pointer("/paths/~1api~1v1~1records/post/responses")
        .unwrap();
    for s in ["400", "401", "403", "409", "413", "415", "422", "429"] {
        let r = deref(&doc, &n400[s]);
        assert!(r["description"].is_string(), "POST /records lacks {s}");
    }
    let rl = doc.pointer("/components/responses/RateLimited").unwrap();
    assert!(rl["headers"]["Retry-After"].is_object());
    // Pure computations store nothing and never conflict.
    let determine = doc
        .pointer("/paths/~1api~1v1~1controls~1determine/post/responses")
        .unwrap();
    assert!(determine.get("409").is_none());
}

type Breaker = Box<dyn Fn(&mut Value)>;

/// Each rule fires on a document broken in its way.
#[test]
fn the_checks_catch_broken_documents() {
    let good = doc();
    let cases: Vec<(&str, Breaker)> = vec![
        (
            "also used by",
            Box::new(|d| {
                d["paths"]["/api/v1/audit"]["get"]["operationId"] = json!("list_scenarios")
            }),
        ),
        (
            "does not resolve",
            Box::new(|d| {
                d["paths"]["/api/v1/records"]["post"]["responses"]["409"] =
                    json!({"$ref": "#/components/responses/Nope"})
            }),
        ),
        (
            "path parameter id not declared",
            Box::new(|d| {
                d["paths"]["/api/v1/records/{id}"]["get"]["parameters"] = json!([]);
            }),
        ),
        (
            "401 not documented",
            Box::new(|d| {
                d["paths"]["/api/v1/me"]["get"]["responses"]
                    .as_object_mut()
                    .unwrap()
                    .remove("401");
            }),
        ),
        (
            "does not answer the error body",
            Box::new(
                |d| d["paths"]["/api/v1/me"]["get"]["responses"]["401"] = json!({"description": "no", "content": {"application/json": {"schema": {"type": "object"}}}}),
            ),
        ),
        ("not 3.1", Box::new(|d| d["openapi"] = json!("3.0.3"))),
        (
            "public error codes",
            Box::new(|d| {
                d["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["enum"] =
                    json!(["internal"])
            }),
        ),
        (
            "security declared false",
            Box::new(|d| {
                d["paths"]["/api/v1/me"]["get"]
                    .as_object_mut()
                    .unwrap()
                    .remove("security");
            }),
        ),
    ];
    for (want, break_it) in cases {
        let mut d = good.clone();
        break_it(&mut d);
        let p = problems(&d);
        assert!(
            p.iter().any(|l| l.contains(want)),
            "expected a problem containing `{want}`, got {p:?}"
        );
    }
}
