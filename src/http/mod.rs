//! HTTP: one dispatcher looks the route up, runs the gate, parses params, calls the handler
//! and renders the reply, so Appwrite's check order lives in one place.

pub mod account;
pub mod cookies;
pub mod cors;
pub mod extract;
pub mod gate;
pub mod health;
pub mod identities;
pub mod jwts;
pub mod logs;
pub mod models;
pub mod reply;
pub mod routes;
pub mod sessions;
pub mod targets;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use tower_http::catch_panic::CatchPanicLayer;
use tracing::Instrument;

use crate::domain::project::Project;
use crate::error::{Error, ErrorType};
use crate::http::extract::{Params, parse_urlencoded};
use crate::http::reply::{render, render_error};
use crate::state::AppState;

/// Largest request body read (prefs are ≤ 64 kB; everything else is far smaller).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The router for a prepared state.
pub fn router(state: Arc<AppState>) -> Router {
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
    params: &Params,
) -> Option<String> {
    let from_params = params
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

async fn dispatch(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let origin = parts
        .headers
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

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

    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return render_error(
                &Error::from(ErrorType::GeneralArgumentInvalid).with_message(format!(
                    "Request body is larger than {MAX_BODY_BYTES} bytes."
                )),
            );
        }
    };
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let params = Params::from_request(&parts.method, is_json(&parts.headers), &query, &bytes);
    let project = project_id(&parts.method, &parts.headers, &query, &params)
        .map(|id| state.projects.get(&id).cloned().ok_or(id));
    let known_project = project.as_ref().and_then(|p| p.as_ref().ok()).cloned();
    let request = gate::request_info(&parts.headers);
    let format = request.format;

    let result = async {
        // An unknown project is reported before an unknown route, as in Appwrite.
        if let Some(Err(_)) = project {
            return Err(ErrorType::ProjectNotFound.into());
        }
        let Some((route, path_params)) =
            routes::find(&state.routes, &parts.method, parts.uri.path())
        else {
            return Err(ErrorType::GeneralRouteNotFound.into());
        };
        let project: Arc<Project> = match project {
            Some(Ok(p)) => p,
            _ if route.projectless => state.placeholder_project.clone(),
            _ => return Err(ErrorType::ProjectNotFound.into()),
        };
        let span = tracing::debug_span!("request", sdk = route.sdk);
        async {
            let ctx = gate::run(
                state.clone(),
                route,
                project,
                &parts,
                request,
                peer,
                path_params,
            )
            .await?;
            (route.handler)(ctx, params).await
        }
        .instrument(span)
        .await
    }
    .await;

    let mut resp = match result {
        Ok(reply) => render(reply, format),
        Err(e) => render_error(&e),
    };
    cors::add_headers(
        &mut resp,
        origin.as_deref(),
        false,
        known_project.as_deref(),
    );
    resp
}
