//! Appwrite's GraphQL API (appwrite 1.9.6 app/controllers/api/graphql.php and
//! src/Appwrite/GraphQL): the request forms and batches it reads, its limits, and one
//! resolver for every field, which calls the field's route through [`crate::http::invoke`]
//! (scope, auth-method switch, MFA gate, rate limit, params, handler) with the caller
//! authenticated once for the whole request, and again after a mutation (with the session a
//! field's reply set or removed, so a batch can sign in and then read the account).

mod limits;
pub mod schema;

use std::sync::Arc;

use async_graphql::dynamic::{FieldValue, ResolverContext};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{ErrorExtensions, Variables};
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use crate::domain::project::Project;
use crate::domain::sessions::decode_session;
use crate::error::{Error, ErrorType, Result, wire_status};
use crate::http::cookies::session_set_by;
use crate::http::extract::{RawParams, RawRequest, parse_urlencoded};
use crate::http::gate::{self, Caller, Carried, Ctx, RequestFacts};
use crate::http::params::Args;
use crate::http::reply::{Payload, Reply, downgrade};
use crate::http::route::{Kind, Route, Source, Verb};
use crate::http::{Call, invoke};
use crate::state::AppState;

/// Appwrite's `_APP_GRAPHQL_MAX_BATCH_SIZE`.
pub const MAX_BATCH: usize = 10;

/// One GraphQL request of a (possibly batched) HTTP request.
struct Item {
    query: String,
    operation_name: Option<String>,
    variables: Map<String, Value>,
}

/// Reads one request object: `query` must be a non-empty string; `variables` an object or a
/// JSON string of one.
fn item(v: &Value) -> Result<Item> {
    let query = v
        .get("query")
        .and_then(Value::as_str)
        .filter(|q| !q.trim().is_empty())
        .ok_or(ErrorType::GraphqlNoQuery)?;
    let operation_name = v
        .get("operationName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    let variables = match v.get("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(Value::String(s)) if s.trim().is_empty() => Map::new(),
        Some(Value::String(s)) => match serde_json::from_str(s) {
            Ok(Value::Object(m)) => m,
            _ => return Err(bad_variables()),
        },
        Some(_) => return Err(bad_variables()),
    };
    Ok(Item {
        query: query.to_owned(),
        operation_name,
        variables,
    })
}

fn bad_variables() -> Error {
    Error::invalid_param("variables", "Value must be a valid JSON object")
}

/// The requests an HTTP request holds, and whether they came as a batch (answered with an
/// array). GET reads `query`, `operationName` and `variables` from the query string; POST
/// reads an `application/graphql` body as the query, else a JSON object or array (under
/// `query` when the SDKs' `X-SDK-GraphQL` header says so).
fn read(raw: &RawRequest, get: bool) -> Result<(Vec<Item>, bool)> {
    if get {
        let params = Value::Object(parse_urlencoded(raw.query.as_bytes()));
        return Ok((vec![item(&params)?], false));
    }
    if raw.content_type.starts_with("application/graphql") {
        let query = std::str::from_utf8(&raw.body).map_err(|_| ErrorType::GraphqlNoQuery)?;
        return Ok((vec![item(&json!({ "query": query }))?], false));
    }
    let body: Value = serde_json::from_slice(&raw.body)
        .unwrap_or_else(|_| Value::Object(parse_urlencoded(&raw.body)));
    // The SDKs wrap the request as `{query: {query, variables}}`; a caller passing the
    // query string itself (`graphql.query({query: "{ … }"})`) sends `{query: "…"}`, which is
    // already a request.
    let body = match body.get("query") {
        Some(inner) if raw.sdk_graphql && !inner.is_string() => inner.clone(),
        _ if raw.sdk_graphql && body.get("query").is_none() => Value::Null,
        _ => body,
    };
    match body {
        Value::Array(items) if items.is_empty() => Err(ErrorType::GraphqlNoQuery.into()),
        Value::Array(items) if items.len() > MAX_BATCH => {
            Err(ErrorType::GraphqlTooManyQueries.into())
        }
        Value::Array(items) => Ok((items.iter().map(item).collect::<Result<_>>()?, true)),
        Value::Object(_) => Ok((vec![item(&body)?], false)),
        _ => Err(ErrorType::GraphqlNoQuery.into()),
    }
}

/// Rows of lists (users, sessions, logs …) one HTTP request may return in all: one page of
/// the largest `limit()`, so aliases and batches cannot multiply what one request holds.
pub const MAX_ROWS: usize = crate::domain::queries::MAX_LIMIT as usize;

/// Who the fields run as, and whether a mutation has run since it was resolved (then the
/// session or user may have changed, and the next field resolves it again).
struct Who {
    caller: Caller,
    stale: bool,
    /// The session the request carries, replaced by one a field's reply set or removed.
    session: Option<(String, crate::secret::Secret)>,
    /// List rows returned so far.
    rows: usize,
}

/// What every field of one HTTP request shares.
struct Exec {
    state: Arc<AppState>,
    project: Arc<Project>,
    facts: RequestFacts,
    /// Held for the whole of a field, so fields run one at a time (async-graphql would run
    /// a query's root fields together) and at most one route's full reply is in memory.
    who: Mutex<Who>,
    /// Cookies and headers the fields' routes set, in order.
    out: std::sync::Mutex<Reply>,
}

impl Exec {
    async fn caller(&self, who: &mut Who) -> Result<Caller> {
        if who.stale {
            let carried = Carried {
                session: who.session.clone(),
                ..Carried::default()
            };
            let caller = gate::authenticate(&self.state, &self.project, &self.facts, carried);
            who.caller = caller.await?;
            who.stale = false;
        }
        Ok(who.caller.clone())
    }
}

/// An Appwrite error as a GraphQL field error: its message, with `code` and `type`.
fn field_error(e: &Error) -> async_graphql::Error {
    let (status, hide) = wire_status(e.ty.status());
    if let Some(src) = &e.source {
        tracing::error!(error = %src, r#type = e.ty.as_str(), "GraphQL field failed");
    }
    let message = if hide { "Server Error" } else { e.message() };
    async_graphql::Error::new(message).extend_with(|_, ext| {
        ext.set("code", status);
        ext.set("type", e.ty.as_str());
    })
}

/// The route's params from the field's arguments: path params apart; `Assoc` values given
/// as JSON strings decoded.
fn arguments(route: &Route, ctx: &ResolverContext<'_>) -> (RawParams, Vec<(&'static str, String)>) {
    let mut map = Map::new();
    let mut path = vec![];
    for p in route.params {
        let Some(v) = ctx.args.get(p.name) else {
            continue;
        };
        let v = v.as_value().clone().into_json().unwrap_or(Value::Null);
        match (p.source, v) {
            (Source::Path, Value::String(s)) => path.push((p.name, s)),
            (Source::Path, _) => {}
            (Source::Request, Value::String(s)) if matches!(p.kind, Kind::Object { .. }) => {
                let decoded = serde_json::from_str(&s).unwrap_or(Value::String(s));
                map.insert(p.name.to_owned(), decoded);
            }
            (Source::Request, v) => {
                map.insert(p.name.to_owned(), v);
            }
        }
    }
    (RawParams::from_json(Value::Object(map)), path)
}

/// Runs the route of one field (Appwrite's `Resolvers::api`). A failing field is `null`
/// with its error in `errors` (with its path), and the other fields still answer:
/// async-graphql's dynamic schema would otherwise fail the whole selection.
async fn resolve<'a>(
    route: &'static Route,
    ctx: ResolverContext<'a>,
) -> async_graphql::Result<Option<FieldValue<'a>>> {
    let exec = ctx.data::<Arc<Exec>>()?.clone();
    match call_route(&exec, route, &ctx).await {
        Ok(value) => Ok(Some(FieldValue::value(value))),
        Err(e) => {
            let error = field_error(&e).into_server_error(ctx.item.pos);
            ctx.add_error(ctx.set_error_path(error));
            Ok(None)
        }
    }
}

async fn call_route(
    exec: &Exec,
    route: &'static Route,
    ctx: &ResolverContext<'_>,
) -> Result<async_graphql::Value> {
    let (raw, path_params) = arguments(route, ctx);
    let mut who = exec.who.lock().await;
    let caller = exec.caller(&mut who).await?;
    let call = Call {
        route,
        raw: &raw,
        path_params: &path_params,
    };
    let mut verdict = None;
    let result = invoke(
        exec.state.clone(),
        call,
        exec.project.clone(),
        caller,
        exec.facts.clone(),
        &mut verdict,
    )
    .await;
    if route.verb != Verb::Get {
        who.stale = true;
    }
    let mut reply = result?;
    if let Some(set) = session_set_by(&exec.project.id, &reply.cookies) {
        who.session = set.as_deref().and_then(decode_session);
    }
    // The cookies go out whatever happens next: the session they carry is the caller's now.
    if let Ok(mut out) = exec.out.lock() {
        out.cookies.append(&mut reply.cookies);
        out.headers.append(&mut reply.headers);
    }
    let mut body = reply.body.map(Payload::into_value);
    who.rows = who.rows.saturating_add(rows(body.as_ref()));
    if who.rows > MAX_ROWS {
        return Err(Error::from(ErrorType::GeneralArgumentInvalid).with_message(format!(
            "One GraphQL request may list at most {MAX_ROWS} rows in all; ask for fewer with limit() or page with cursorAfter()."
        )));
    }
    if let (Some(body), Some(format)) = (body.as_mut(), exec.facts.format) {
        downgrade(route.model, body, format);
    }
    Ok(schema::output(route.model, body))
}

/// The rows of a list reply (`{total, users: [...]}`): the length of its array fields.
fn rows(body: Option<&Value>) -> usize {
    let Some(Value::Object(m)) = body else {
        return 0;
    };
    m.values().filter_map(Value::as_array).map(Vec::len).sum()
}

/// Whether the operation a request would run is a mutation.
fn is_mutation(doc: &ExecutableDocument, name: Option<&str>) -> bool {
    let op = match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) => ops.values().next().filter(|_| ops.len() == 1),
    };
    op.is_some_and(|op| op.node.ty == OperationType::Mutation)
}

/// Runs one request: Appwrite's limits first, then the document.
async fn run(exec: &Arc<Exec>, item: Item, get: bool) -> Value {
    if limits::nesting(&item.query) > limits::MAX_NESTING {
        let max = limits::MAX_NESTING;
        return json!({ "errors": [{
            "message": format!("Brackets may nest at most {max} deep.")
        }] });
    }
    if let Ok(doc) = async_graphql::parser::parse_query(&item.query) {
        // A GET needs no preflight and carries cookies from any page (an `<img>` would do),
        // so it may only read.
        if get && is_mutation(&doc, item.operation_name.as_deref()) {
            return json!({ "errors": [{
                "message": "Mutations cannot be sent with GET; POST them to /v1/graphql/mutation."
            }] });
        }
        let refused = limits::check(&doc);
        if !refused.is_empty() {
            let errors: Vec<Value> = refused.into_iter().map(|m| json!({"message": m})).collect();
            return json!({ "errors": errors });
        }
    }
    let mut request = async_graphql::Request::new(item.query)
        .variables(Variables::from_json(Value::Object(item.variables)))
        .data(exec.clone());
    if let Some(name) = item.operation_name {
        request = request.operation_name(name);
    }
    let response = schema::SCHEMA.execute(request).await;
    serde_json::to_value(&response).unwrap_or_else(|_| json!({ "data": null }))
}

/// `GET /v1/graphql`.
pub async fn get(ctx: Ctx, _: Args) -> Result<Reply> {
    execute(ctx, true).await
}

/// `POST /v1/graphql` and `POST /v1/graphql/mutation` (the same, as in Appwrite).
pub async fn post(ctx: Ctx, _: Args) -> Result<Reply> {
    execute(ctx, false).await
}

/// Always 200 with `{data, errors}` (an array of them for a batch), as Appwrite answers.
async fn execute(ctx: Ctx, get: bool) -> Result<Reply> {
    let (items, batch) = read(&ctx.request.raw, get)?;
    let session = ctx.request.raw.session.clone();
    let exec = Arc::new(Exec {
        state: ctx.state,
        project: ctx.project,
        facts: ctx.request,
        who: Mutex::new(Who {
            caller: ctx.caller,
            stale: false,
            session,
            rows: 0,
        }),
        out: std::sync::Mutex::new(Reply::default()),
    });
    let mut results = Vec::with_capacity(items.len());
    // In order: a later request of a batch sees what an earlier one changed.
    for item in items {
        results.push(run(&exec, item, get).await);
    }
    let mut reply = exec
        .out
        .lock()
        .map(|mut out| std::mem::take(&mut *out))
        .unwrap_or_default();
    reply.body = Some(Payload::Value(if batch {
        Value::Array(results)
    } else {
        results.pop().unwrap_or(Value::Null)
    }));
    Ok(reply)
}

/// `GET /v1/graphql/schema`: the schema in SDL.
pub async fn sdl(_: Ctx, _: Args) -> Result<Reply> {
    Ok(Reply::text(
        "text/plain; charset=UTF-8",
        schema::SDL.clone(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(content_type: &str, body: &str, sdk: bool) -> RawRequest {
        RawRequest {
            body: body.as_bytes().to_vec().into(),
            content_type: content_type.into(),
            sdk_graphql: sdk,
            ..RawRequest::default()
        }
    }

    fn ty(r: Result<(Vec<Item>, bool)>) -> &'static str {
        r.err().map(|e| e.ty.as_str()).unwrap_or("ok")
    }

    #[test]
    fn every_request_form_appwrite_reads() {
        let (items, batch) = read(
            &raw("application/json", r#"{"query":"{ a }"}"#, false),
            false,
        )
        .unwrap();
        assert_eq!((items[0].query.as_str(), batch), ("{ a }", false));
        let sdk = r#"{"query":{"query":"{ a }","variables":{"x":1}}}"#;
        let (items, _) = read(&raw("application/json", sdk, true), false).unwrap();
        assert_eq!(items[0].variables["x"], 1);
        let bare = r#"{"query":"{ c }"}"#;
        let (items, _) = read(&raw("application/json", bare, true), false).unwrap();
        assert_eq!(
            items[0].query, "{ c }",
            "an SDK call given the query string itself"
        );
        let (items, batch) = read(&raw("application/graphql", "{ b }", false), false).unwrap();
        assert_eq!((items[0].query.as_str(), batch), ("{ b }", false));
        let two = r#"[{"query":"{ a }"},{"query":"{ b }","operationName":"B"}]"#;
        let (items, batch) = read(&raw("application/json", two, false), false).unwrap();
        assert_eq!((items.len(), batch), (2, true));
        assert_eq!(items[1].operation_name.as_deref(), Some("B"));
        let get = RawRequest {
            query: "query=%7B%20a%20%7D&variables=%7B%22x%22%3A2%7D".into(),
            ..RawRequest::default()
        };
        let (items, _) = read(&get, true).unwrap();
        assert_eq!(
            (items[0].query.as_str(), &items[0].variables["x"]),
            ("{ a }", &json!(2))
        );
    }

    #[test]
    fn empty_huge_and_malformed_requests_get_appwrites_errors() {
        assert_eq!(
            ty(read(&raw("application/json", "{}", false), false)),
            "graphql_no_query"
        );
        assert_eq!(
            ty(read(&raw("application/json", "[]", false), false)),
            "graphql_no_query"
        );
        assert_eq!(
            ty(read(
                &raw("application/json", r#"{"query":""}"#, false),
                false
            )),
            "graphql_no_query"
        );
        assert_eq!(
            ty(read(
                &raw("application/json", r#"{"query":7}"#, false),
                false
            )),
            "graphql_no_query"
        );
        let eleven = format!("[{}]", [r#"{"query":"{ a }"}"#; 11].join(","));
        assert_eq!(
            ty(read(&raw("application/json", &eleven, false), false)),
            "graphql_too_many_queries"
        );
        let bad = r#"{"query":"{ a }","variables":"[1"}"#;
        assert_eq!(
            ty(read(&raw("application/json", bad, false), false)),
            "general_argument_invalid"
        );
        let bad = r#"{"query":"{ a }","variables":[1]}"#;
        assert_eq!(
            ty(read(&raw("application/json", bad, false), false)),
            "general_argument_invalid"
        );
    }
}
