//! `GET /v1/openapi.json`: an OpenAPI 3.0 document generated from the route table — paths,
//! params and their limits, success status and model, the error shape — so API fuzzers and
//! client generators see exactly what the dispatcher enforces. Only the models' fields are
//! declared here, once per model; the test script checks every live response against them.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use crate::domain::queries::{MAX_QUERIES, MAX_QUERY_LEN};
use crate::domain::validate::{CUSTOM_ID_PATTERN, ID_PATTERN, PHONE_PATTERN};
use crate::error::Result;
use crate::http::gate::Ctx;
use crate::http::params::Args;
use crate::http::params::MAX_REDIRECT_CHARS;
use crate::http::reply::{API_VERSION, Model, Reply};
use crate::http::route::{DefaultValue, Kind, Param, Route, Source};
use crate::http::routes::routes;
use crate::http::shapes::{F, LISTS, MODELS, OPTIONAL, Shape, fields, shape};

/// The error statuses any route may answer with the Appwrite error body (408, 413, 414 and 431
/// from the transport limits).
const ERROR_STATUSES: &[u16] = &[
    400, 401, 403, 404, 408, 409, 412, 413, 414, 429, 431, 501, 503,
];

/// `GET /v1/openapi.json`.
pub async fn get(_: Ctx, _: Args) -> Result<Reply> {
    Ok(Reply::json(DOCUMENT.clone()))
}

static DOCUMENT: LazyLock<Value> = LazyLock::new(document);

fn field_schema(f: F) -> Value {
    match f {
        F::Str => json!({"type": "string"}),
        F::NullStr => json!({"type": "string", "nullable": true}),
        F::Bool => json!({"type": "boolean"}),
        F::NullBool => json!({"type": "boolean", "nullable": true}),
        F::Strings => json!({"type": "array", "items": {"type": "string"}}),
        F::Object => json!({"type": "object"}),
        F::Int => json!({"type": "integer"}),
        F::NullObject => json!({"type": "object", "nullable": true}),
        F::Array(model) => {
            json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{model}")}})
        }
    }
}

fn model_schema(name: &str) -> Value {
    let fields = fields(name);
    let mut properties = Map::new();
    let mut required = vec![];
    for (field, f) in &fields {
        properties.insert((*field).to_owned(), field_schema(*f));
        if !OPTIONAL.contains(field) {
            required.push(*field);
        }
    }
    json!({"type": "object", "properties": properties, "required": required})
}

fn list_schema(key: &str, item: &str) -> Value {
    json!({
        "type": "object",
        "properties": {
            "total": {"type": "integer", "minimum": 0},
            key: {"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}},
        },
        "required": ["total", key],
    })
}

/// The schema a route's success body follows; `None` for no body.
fn response_schema(model: Model) -> Option<Value> {
    match shape(model) {
        Shape::Named(name) => Some(json!({"$ref": format!("#/components/schemas/{name}")})),
        Shape::FreeForm => Some(json!({"type": "object"})),
        Shape::Empty => None,
    }
}

/// The JSON schema of a declared param: what its validator accepts.
fn param_schema(p: &Param) -> Value {
    let mut s = match p.kind {
        Kind::CustomId => json!({"type": "string", "pattern": CUSTOM_ID_PATTERN}),
        Kind::Uid => json!({"type": "string", "pattern": ID_PATTERN}),
        Kind::Email => json!({"type": "string", "format": "email"}),
        Kind::Phone => json!({"type": "string", "pattern": PHONE_PATTERN}),
        Kind::Text { min, max } => json!({"type": "string", "minLength": min, "maxLength": max}),
        Kind::NewPassword | Kind::Password => {
            json!({"type": "string", "minLength": 8, "maxLength": 256})
        }
        Kind::Integer { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
        Kind::Boolean | Kind::StrictBoolean => json!({"type": "boolean"}),
        Kind::Queries => json!({
            "type": "array",
            "maxItems": MAX_QUERIES,
            "items": {"type": "string", "maxLength": MAX_QUERY_LEN},
        }),
        Kind::Object { .. } => json!({"type": "object"}),
        Kind::OneOf(names) => json!({"type": "string", "enum": names}),
        Kind::Strings { max_items, max_len } => json!({
            "type": "array", "maxItems": max_items,
            "items": {"type": "string", "minLength": 1, "maxLength": max_len},
        }),
        Kind::Provider => json!({"type": "string", "enum": crate::domain::oauth2::PROVIDER_NAMES}),
        // The host must also be one of the project's platforms.
        Kind::Redirect => {
            json!({"type": "string", "format": "uri", "maxLength": MAX_REDIRECT_CHARS})
        }
    };
    let default = match p.default {
        DefaultValue::None => None,
        DefaultValue::Int(n) => Some(json!(n)),
        DefaultValue::Bool(b) => Some(json!(b)),
        DefaultValue::Text(t) => Some(json!(t)),
    };
    if let (Some(d), Some(o)) = (default, s.as_object_mut()) {
        o.insert("default".into(), d);
    }
    if p.empty_ok {
        return json!({"anyOf": [s, {"type": "string", "maxLength": 0}]});
    }
    s
}

/// `/v1/account/sessions/:sessionId` → `/v1/account/sessions/{sessionId}`.
fn openapi_path(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => seg.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn operation(route: &Route) -> Value {
    let mut parameters = vec![];
    let mut body_props = Map::new();
    let mut body_required = vec![];
    for p in route.params {
        let schema = param_schema(p);
        match (p.source, route.verb.has_body()) {
            (Source::Path, _) => parameters.push(json!({
                "name": p.name, "in": "path", "required": true, "schema": schema,
            })),
            (Source::Request, false) => {
                let mut q = json!({"name": p.name, "in": "query", "required": p.required, "schema": schema});
                if matches!(p.kind, Kind::Queries) {
                    // PHP's array spelling, as every SDK sends it.
                    q["name"] = json!(format!("{}[]", p.name));
                    q["style"] = json!("form");
                    q["explode"] = json!(true);
                }
                parameters.push(q);
            }
            (Source::Request, true) => {
                body_props.insert(p.name.to_owned(), schema);
                if p.required {
                    body_required.push(p.name);
                }
            }
        }
    }
    let mut responses = Map::new();
    let success = match response_schema(route.model) {
        Some(schema) => json!({
            "description": "Success",
            "content": {"application/json": {"schema": schema}},
        }),
        None => json!({"description": "No content"}),
    };
    responses.insert(route.status.to_string(), success);
    for status in ERROR_STATUSES {
        responses.insert(
            status.to_string(),
            json!({"$ref": "#/components/responses/error"}),
        );
    }
    let mut op = json!({
        "operationId": route.sdk,
        "summary": route.sdk,
        "tags": [route.sdk.split('.').next().unwrap_or("account")],
        "x-appwrite-scope": route.scope,
        "parameters": parameters,
        "responses": responses,
    });
    if route.verb.has_body() && !body_props.is_empty() {
        op["requestBody"] = json!({
            "required": !body_required.is_empty(),
            "content": {"application/json": {"schema": {
                "type": "object", "properties": body_props, "required": body_required,
            }}},
        });
    }
    if let Some(limit) = route.limit {
        op["x-rate-limit"] =
            json!({"limit": limit.limit, "period": limit.period, "keys": limit.keys});
    }
    op
}

/// The routes the document describes: all but the documents themselves (this one, and the
/// GraphQL SDL, which is not JSON).
fn described() -> impl Iterator<Item = &'static Route> {
    routes().filter(|r| !["/v1/openapi.json", "/v1/graphql/schema"].contains(&r.path))
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in described() {
        let entry = paths
            .entry(openapi_path(route.path))
            .or_insert_with(|| json!({}));
        entry[route.verb.as_str().to_ascii_lowercase()] = operation(route);
    }
    let mut schemas = Map::new();
    for name in MODELS {
        schemas.insert((*name).to_owned(), model_schema(name));
    }
    for (name, key, item) in LISTS {
        let schema = match *item {
            None => json!({
                "type": "object",
                "properties": {
                    "total": {"type": "integer", "minimum": 0},
                    *key: {"type": "array", "maxItems": 0},
                },
                "required": ["total", key],
            }),
            Some(item) => list_schema(key, item),
        };
        schemas.insert((*name).to_owned(), schema);
    }
    schemas.insert(
        "error".into(),
        json!({
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "code": {"type": "integer"},
                "type": {"type": "string"},
                "version": {"type": "string"},
            },
            "required": ["message", "code", "type", "version"],
        }),
    );
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Latchkey",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!("The Appwrite Account and Users APIs {API_VERSION}, as served by latchkey. Send X-Appwrite-Project, and X-Appwrite-Session, X-Appwrite-JWT or X-Appwrite-Key."),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {"error": {
                "description": "An Appwrite error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/error"}}},
            }},
            "securitySchemes": {
                "Project": {"type": "apiKey", "in": "header", "name": "X-Appwrite-Project"},
                "Session": {"type": "apiKey", "in": "header", "name": "X-Appwrite-Session"},
                "JWT": {"type": "apiKey", "in": "header", "name": "X-Appwrite-JWT"},
                "Key": {"type": "apiKey", "in": "header", "name": "X-Appwrite-Key"},
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_an_operation_with_its_params_status_and_model() {
        let doc = document();
        let mut ops = 0;
        for route in described() {
            let op =
                &doc["paths"][openapi_path(route.path)][route.verb.as_str().to_ascii_lowercase()];
            assert_eq!(op["operationId"], route.sdk, "{}", route.path);
            assert!(op["responses"][route.status.to_string()].is_object());
            for p in route.params {
                let declared = op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x["name"].as_str().unwrap().trim_end_matches("[]") == p.name)
                    || op["requestBody"]["content"]["application/json"]["schema"]["properties"]
                        .get(p.name)
                        .is_some();
                assert!(declared, "{} {}: param {}", route.sdk, route.path, p.name);
            }
            ops += 1;
        }
        let count: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|m| m.as_object().unwrap().len())
            .sum();
        assert_eq!(count, ops, "one operation per route");
        let refs = doc.to_string();
        for r in refs.split("#/components/schemas/").skip(1) {
            let name = r.split('"').next().unwrap();
            assert!(doc["components"]["schemas"][name].is_object(), "{name}");
        }
    }
}
