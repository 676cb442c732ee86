//! HTTP: one dispatcher matches the route, runs the gate, validates the declared params, calls
//! the handler and renders the reply, so Appwrite's check order lives in one place.

pub mod account;
pub mod cookies;
pub mod cors;
pub mod extract;
pub mod gate;
pub mod graphql;
pub mod health;
pub mod identities;
pub mod jwts;
pub mod logs;
pub mod metrics;
pub mod mfa;
pub mod models;
pub mod oauth2;
pub mod openapi;
pub mod params;
pub mod passkeys;
pub mod placeholders;
pub mod recovery;
pub mod reply;
pub mod route;
pub mod routes;
pub mod server;
pub mod sessions;
pub mod shapes;
pub mod targets;
pub mod tokens;
pub mod users;
pub mod verification;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use tower_http::catch_panic::CatchPanicLayer;
use tracing::Instrument;

use crate::domain::project::Project;
use crate::error::{Error, ErrorType, Result};
use crate::http::extract::{RawParams, RawRequest, parse_urlencoded};
use crate::http::gate::{Carried, RequestFacts};
use crate::http::reply::{Reply, render, render_error, render_transport_error, set_header};
use crate::http::route::Route;
use crate::state::AppState;

/// Largest request body read (prefs are ≤ 64 kB; everything else is far smaller).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Most cookies read from one request (Chromium keeps at most 180 per domain).
pub const MAX_COOKIES: usize = 180;
/// Deepest JSON nesting read from a body (prefs objects included).
pub const MAX_JSON_DEPTH: usize = 64;

/// Refuses, before anything is read, a body announced as too large or too many cookies.
fn refuse_oversized(headers: &HeaderMap) -> Option<Response> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Some(too_large());
    }
    // hyper's buffer is a ceiling twice as high (one large read may also carry more); this is
    // the limit.
    let header_bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if header_bytes > server::MAX_HEADER_BYTES {
        return Some(render_transport_error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            &server::headers_too_large(),
        ));
    }
    let cookies: usize = headers
        .get_all(header::COOKIE)
        .iter()
        .map(|v| v.as_bytes().split(|b| *b == b';').count())
        .sum();
    (cookies > MAX_COOKIES).then(|| {
        render_transport_error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            &format!("Too many cookies: at most {MAX_COOKIES} are accepted."),
        )
    })
}

fn too_large() -> Response {
    render_transport_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("Request body is larger than {MAX_BODY_BYTES} bytes."),
    )
}

/// Reads the whole body within the size limit and the read timeout (a client that trickles
/// its body is cut off with 408); JSON nested deeper than [`MAX_JSON_DEPTH`] is refused.
async fn read_body(body: Body, timeout: std::time::Duration) -> Result<Bytes, Response> {
    let read = tokio::time::timeout(timeout, axum::body::to_bytes(body, MAX_BODY_BYTES));
    let bytes = match read.await {
        Ok(Ok(b)) => b,
        Err(_) => {
            return Err(render_transport_error(
                StatusCode::REQUEST_TIMEOUT,
                "The request body was not received in time.",
            ));
        }
        Ok(Err(e)) => {
            let too_big = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            return Err(if too_big {
                too_large()
            } else {
                render_transport_error(
                    StatusCode::BAD_REQUEST,
                    "The request body could not be read.",
                )
            });
        }
    };
    if json_depth(&bytes) > MAX_JSON_DEPTH {
        return Err(render_error(
            &Error::from(ErrorType::GeneralArgumentInvalid).with_message(format!(
                "JSON is nested deeper than {MAX_JSON_DEPTH} levels."
            )),
        ));
    }
    Ok(bytes)
}

/// The deepest bracket nesting outside strings; any body can be scanned, JSON or not.
fn json_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The router for a prepared state.
pub fn router(state: Arc<AppState>) -> Router {
    routes::warm_up();
    metrics::install(&state);
    Router::new()
        .fallback(dispatch)
        .with_state(state)
        .layer(CatchPanicLayer::custom(|_| {
            render_error(&Error::internal(anyhow::anyhow!("handler panicked")))
        }))
}

fn is_json(headers: &HeaderMap) -> bool {
    // Rust SDKs send `content-type: application/json` twice; any JSON value counts.
    headers
        .get_all("content-type")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("application/json"))
}

/// The project id: the `project` param wins over `X-Appwrite-Project` (spec §2.2).
fn project_id(
    method: &Method,
    headers: &HeaderMap,
    query: &str,
    raw: &RawParams,
) -> Option<String> {
    let from_params = raw
        .get("project")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let from_header = headers
        .get("x-appwrite-project")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_owned());
    let from_query = (method != Method::GET)
        .then(|| {
            parse_urlencoded(query.as_bytes())
                .get("project")
                .and_then(|v| v.as_str().map(str::to_owned))
        })
        .flatten();
    from_params
        .or(from_header)
        .or(from_query)
        .filter(|p| !p.is_empty())
}

/// Everything a request brings, read once.
struct Incoming {
    facts: RequestFacts,
    raw: RawParams,
    project_id: Option<String>,
    /// The named project, if it is configured.
    project: Option<Arc<Project>>,
    route: &'static Route,
    path_params: Vec<(&'static str, String)>,
}

/// The pipeline after the request is read: origin, project, caller, per-route checks,
/// params, handler.
async fn run(
    state: Arc<AppState>,
    req: Incoming,
    carried: Carried,
    verdict: &mut Option<crate::abuse::Verdict>,
) -> Result<Reply> {
    let route = req.route;
    let project = req.project;
    gate::check_origin(route, &req.facts, project.as_deref())?;
    // Appwrite runs a request naming no project in its console project, where an unknown
    // route is a 404 route error; a named but unknown project is `project_not_found`.
    let no_project_needed =
        route.projectless || (req.project_id.is_none() && std::ptr::eq(route, &routes::WILDCARD));
    let (project, caller) = match project {
        Some(_) | None if no_project_needed => {
            (state.placeholder_project.clone(), gate::Caller::Guest)
        }
        Some(p) => {
            let caller = gate::authenticate(&state, &p, &req.facts, carried).await?;
            (p, caller)
        }
        None => return Err(ErrorType::ProjectNotFound.into()),
    };
    let call = Call {
        route,
        raw: &req.raw,
        path_params: &req.path_params,
    };
    invoke(state, call, project, caller, req.facts, verdict).await
}

/// What one route is called with.
pub struct Call<'a> {
    pub route: &'static Route,
    pub raw: &'a RawParams,
    pub path_params: &'a [(&'static str, String)],
}

/// One route for a resolved caller: its checks, its params, its handler, then Appwrite's
/// `abuse-reset`. A REST request and every GraphQL field go through here, so GraphQL passes
/// exactly the checks REST does.
pub async fn invoke(
    state: Arc<AppState>,
    call: Call<'_>,
    project: Arc<Project>,
    caller: gate::Caller,
    facts: RequestFacts,
    verdict: &mut Option<crate::abuse::Verdict>,
) -> Result<Reply> {
    let route = call.route;
    let limiter = state.limiter.clone();
    let ctx = gate::authorize(state, route, project, caller, facts, call.raw, verdict).await?;
    let args = params::validate(route, call.raw, call.path_params, &ctx.project)?;
    let reply = (route.handler)(ctx, args).await?;
    // appwrite `abuse-reset`: a success clears the failures counted against these keys.
    if let (Some(limit), Some(v)) = (route.limit, verdict.as_ref())
        && limit.reset_on.contains(&route.status)
        && let Err(e) = limiter.reset(&v.counters).await
    {
        tracing::error!(error = %e, "could not reset rate-limit counters");
    }
    Ok(reply)
}

/// The longest `X-Request-Id` a trusted proxy may hand on (nginx's `$request_id` is 32 hex).
const MAX_REQUEST_ID: usize = 64;

/// A new request id: this process's random prefix and a counter, 20 hex digits. Made on every
/// request, so without `format!`, the clock or a random draw (`unique_id` cost W1 1.4 %).
fn new_request_id() -> String {
    static PREFIX: std::sync::LazyLock<u32> = std::sync::LazyLock::new(rand::random);
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let value = (u128::from(*PREFIX) << 48) | u128::from(n & 0xffff_ffff_ffff);
    let mut id = String::with_capacity(20);
    for shift in (0..20).rev() {
        let digit = ((value >> (shift * 4)) & 0xf) as u32;
        id.push(char::from_digit(digit, 16).unwrap_or('0'));
    }
    id
}

/// The request's id: a trusted proxy's `X-Request-Id` (so its log and ours correlate), else a
/// new one. Every log line of the request carries it, and so does the response.
fn request_id(headers: &HeaderMap, peer: &SocketAddr, state: &AppState) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= MAX_REQUEST_ID
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .filter(|_| gate::trusted(&state.trusted_proxies, &peer.ip().to_canonical()))
        .map_or_else(new_request_id, str::to_owned)
}

async fn dispatch(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let id = request_id(req.headers(), &peer, &state);
    // At ERROR level, so the id reaches every line whatever LATCHKEY_LOG lets through.
    let span = tracing::error_span!("request", id = %id);
    // The access line costs an allocation, so it is made only when debug logs are on. The
    // path only: queries and bodies may carry secrets (magic-URL and OAuth2 codes).
    let access = tracing::enabled!(tracing::Level::DEBUG).then(|| {
        let path: String = req.uri().path().chars().take(256).collect();
        (req.method().clone(), path)
    });
    let started = std::time::Instant::now();
    let mut route = "none";
    let mut resp = handle(state, peer, req, &mut route)
        .instrument(span.clone())
        .await;
    metrics::request(route, resp.status().as_u16(), started.elapsed());
    set_header(&mut resp, "x-request-id", &id);
    if let Some((method, path)) = access {
        span.in_scope(|| {
            tracing::debug!(
                %method,
                path,
                status = resp.status().as_u16(),
                // Tenths of a millisecond: a float's six-digit tail would now and then spell
                // an emailed code, and the log-hygiene check looks for every one.
                ms = (started.elapsed().as_micros() / 100) as f64 / 10.0,
                "served"
            );
        });
    }
    resp
}

/// One request through the pipeline; `route` is set to the matched route's SDK method for the
/// metrics (`none` for what is refused before matching).
async fn handle(
    state: Arc<AppState>,
    peer: SocketAddr,
    req: Request,
    route_label: &mut &'static str,
) -> Response {
    let (parts, body) = req.into_parts();
    if parts.method == Method::GET && parts.uri.path() == "/metrics" {
        *route_label = "metrics";
        return metrics::respond(&state, &parts.headers).await;
    }
    let mut facts = RequestFacts::read(&parts.headers, peer, &state.trusted_proxies);
    let origin = facts.origin.clone();

    if parts.method == Method::OPTIONS {
        let mut resp = Response::builder()
            .status(StatusCode::NO_CONTENT)
            .header("content-type", "text/html; charset=UTF-8")
            .body(Body::empty())
            .unwrap_or_default();
        // Preflights allow the asking origin; the real request is checked by the gate.
        cors::add_headers(&mut resp, origin.as_deref(), true, None);
        return resp;
    }

    // Refusals before the params are read still carry CORS headers, so a browser shows the
    // error instead of a network failure (the project comes from its header only here).
    let early = |mut resp: Response| {
        let project = parts
            .headers
            .get("x-appwrite-project")
            .and_then(|v| v.to_str().ok())
            .and_then(|id| state.project(id.trim()));
        cors::add_headers(&mut resp, origin.as_deref(), false, project.as_deref());
        resp
    };
    if let Some(refused) = refuse_oversized(&parts.headers) {
        return early(refused);
    }
    let bytes = match read_body(body, state.read_timeout).await {
        Ok(b) => b,
        Err(refused) => return early(refused),
    };
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let raw = RawParams::from_request(&parts.method, is_json(&parts.headers), &query, &bytes);
    let project_id = project_id(&parts.method, &parts.headers, &query, &raw);
    let (route, path_params) = match routes::find(&parts.method, parts.uri.path()) {
        Some(m) => (m.route, m.path_params),
        None => (&routes::WILDCARD, vec![]),
    };
    *route_label = if route.sdk.is_empty() {
        "unmatched"
    } else {
        route.sdk
    };
    let mut carried =
        gate::carried_session(project_id.as_deref().unwrap_or_default(), &parts.headers);
    facts.oauth2_binders = std::mem::take(&mut carried.oauth2_binders);
    facts.raw = Arc::new(RawRequest {
        body: bytes.clone(),
        query: query.clone(),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase(),
        sdk_graphql: parts
            .headers
            .get("x-sdk-graphql")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
        session: carried.session.clone(),
    });
    let debug_fallback = carried.via_fallback;
    let project = project_id.as_ref().and_then(|id| state.project(id));
    let cors_project = project.clone();
    let format = facts.format;
    let incoming = Incoming {
        facts,
        raw,
        project_id,
        project,
        route,
        path_params,
    };
    let span = tracing::debug_span!("request", sdk = route.sdk);
    let mut verdict = None;
    let result = run(state, incoming, carried, &mut verdict)
        .instrument(span)
        .await;

    let mut resp = match result {
        Ok(reply) => render(reply, route.status, route.model, format),
        Err(e) if route.html_errors => reply::render_html_error(&e),
        Err(e) => render_error(&e),
    };
    if let Some(v) = &verdict {
        set_header(&mut resp, "x-ratelimit-limit", &v.limit.to_string());
        set_header(&mut resp, "x-ratelimit-remaining", &v.remaining.to_string());
        set_header(&mut resp, "x-ratelimit-reset", &v.reset.to_string());
    }
    set_header(
        &mut resp,
        "x-debug-fallback",
        if debug_fallback { "true" } else { "false" },
    );
    cors::add_headers(&mut resp, origin.as_deref(), false, cors_project.as_deref());
    resp
}
