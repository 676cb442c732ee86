//! `GET /metrics` in Prometheus' text format (`metrics` + `metrics-exporter-prometheus`),
//! behind a bearer token (`LATCHKEY_METRICS_TOKEN`). Without one nothing is installed, so the
//! `metrics` macros on the request path are no-ops.

use std::sync::OnceLock;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::error::ErrorType;
use crate::http::reply::render_error;
use crate::secret::secrets_equal;
use crate::state::AppState;

/// Seconds; from a cache hit (well under 1 ms) to a login behind a hashing queue.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder once, when a server has a metrics token, and drains its
/// histograms every few seconds so an unscraped node's memory stays flat.
pub fn install(state: &AppState) {
    if state.metrics_token.is_none() {
        return;
    }
    let installed = HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets(LATENCY_BUCKETS)
            .and_then(|b| b.install_recorder())
            .map_err(|e| tracing::warn!(error = %e, "metrics are off: no recorder"))
            .ok()?;
        let upkeep = handle.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                upkeep.run_upkeep();
            }
        });
        Some(handle)
    });
    if installed.is_some() {
        metrics::describe_counter!("latchkey_requests_total", "Requests by route and status");
        metrics::describe_histogram!(
            "latchkey_request_duration_seconds",
            metrics::Unit::Seconds,
            "Time from the request's head to its response, by route"
        );
    }
}

/// The status as a label without allocating: the codes latchkey answers with, else `other`.
fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        201 => "201",
        204 => "204",
        301 => "301",
        302 => "302",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        408 => "408",
        409 => "409",
        410 => "410",
        412 => "412",
        413 => "413",
        416 => "416",
        429 => "429",
        431 => "431",
        500 => "500",
        501 => "501",
        503 => "503",
        _ => "other",
    }
}

/// Counts one answered request of `route` (its SDK method, e.g. `account.get`).
pub fn request(route: &'static str, status: u16, took: Duration) {
    metrics::counter!("latchkey_requests_total", "route" => route, "status" => status_label(status))
        .increment(1);
    metrics::histogram!("latchkey_request_duration_seconds", "route" => route)
        .record(took.as_secs_f64());
}

/// Counts a request refused by a rate limit.
pub fn rate_limited(route: &'static str) {
    metrics::counter!("latchkey_rate_limited_total", "route" => route).increment(1);
}

fn authorized(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| secrets_equal(given.trim(), token))
}

/// `GET /metrics`, answered before the API's pipeline (it is no Appwrite route and takes no
/// project): 404 `general_route_not_found` without a configured token, as if there were no
/// such path, 401 `general_unauthorized_scope` without the right bearer token.
pub async fn respond(state: &AppState, headers: &HeaderMap) -> Response {
    let (Some(token), Some(Some(handle))) = (&state.metrics_token, HANDLE.get()) else {
        return render_error(&ErrorType::GeneralRouteNotFound.into());
    };
    if !authorized(headers, token.expose()) {
        return render_error(&ErrorType::GeneralUnauthorizedScope.into());
    }
    // Gauges of this node's queues and pools, read now.
    metrics::gauge!("latchkey_hash_queue").set(state.hasher.queued() as f64);
    metrics::counter!("latchkey_hashes_total").absolute(state.hasher.hashes_done());
    for (pool, open, idle) in state.store.pools() {
        metrics::gauge!("latchkey_db_connections", "pool" => pool, "state" => "open")
            .set(f64::from(open));
        metrics::gauge!("latchkey_db_connections", "pool" => pool, "state" => "idle")
            .set(idle as f64);
    }
    if let Some(up) = state.cache.peers_linked() {
        metrics::gauge!("latchkey_cache_linked").set(if up { 1.0 } else { 0.0 });
    }
    match state.store.count_messages().await {
        Ok(c) => {
            metrics::gauge!("latchkey_outbox_messages", "state" => "pending").set(c.pending as f64);
            metrics::gauge!("latchkey_outbox_messages", "state" => "failed").set(c.failed as f64);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: could not count the outbox"),
    }
    handle.run_upkeep();
    Response::builder()
        .header(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(handle.render()))
        .unwrap_or_default()
}
