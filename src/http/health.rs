//! Health: Appwrite's `/v1/health` routes (API keys, scope `health.read`), its unauthenticated
//! `/v1/health/version`, and a liveness/readiness pair for orchestrators (`/livez`, `/readyz`:
//! no project, no key, like a load balancer's probe).

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::error::{Error, ErrorType, Result};
use crate::http::gate::Ctx;
use crate::http::params::Args;
use crate::http::reply::{API_VERSION, Reply};

/// How long a dependency may take to answer before it counts as failed: a probe must answer,
/// even when PostgreSQL or Redis hangs.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// `{"version": "<Appwrite API version served>"}`.
pub async fn get_version(_: Ctx, _: Args) -> Result<Reply> {
    Ok(Reply::json(json!({ "version": API_VERSION })))
}

/// Runs one check with the timeout: the component's name and the milliseconds it took.
async fn check<F>(check: F) -> Option<(&'static str, u64)>
where
    F: Future<Output = anyhow::Result<&'static str>>,
{
    let started = Instant::now();
    match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(Ok(name)) => Some((
            name,
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        )),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check failed");
            None
        }
        Err(_) => {
            tracing::warn!("health check timed out");
            None
        }
    }
}

async fn database(ctx: &Ctx) -> Option<(&'static str, u64)> {
    check(async { Ok(ctx.state.store.ping().await?) }).await
}

async fn cache(ctx: &Ctx) -> Option<(&'static str, u64)> {
    check(ctx.state.limiter.ping()).await
}

fn status(name: String, ping_ms: u64) -> Value {
    json!({ "name": name, "ping": ping_ms, "status": "pass" })
}

/// The HealthStatusList of one component, or Appwrite's `general_server_error` naming it
/// (its health controller answers a failed check that way).
fn one_status(kind: &str, what: &str, found: Option<(&'static str, u64)>) -> Result<Reply> {
    let (name, ms) = found.ok_or_else(|| {
        Error::from(ErrorType::GeneralServerError)
            .with_message(format!("{kind} failure on: {what}"))
    })?;
    Ok(Reply::json(json!({
        "total": 1,
        "statuses": [status(format!("{what} ({name})"), ms)],
    })))
}

/// `health.get` — GET /v1/health: this HTTP server answers.
pub async fn get(_: Ctx, _: Args) -> Result<Reply> {
    Ok(Reply::json(status("http".into(), 0)))
}

/// `health.getDB` — GET /v1/health/db: the database answers a read.
pub async fn get_db(ctx: Ctx, _: Args) -> Result<Reply> {
    one_status("DB", "database", database(&ctx).await)
}

/// `health.getCache` — GET /v1/health/cache: the rate-limit counters (Redis when
/// `redisUrl` is set, else this node's memory) answer.
pub async fn get_cache(ctx: Ctx, _: Args) -> Result<Reply> {
    one_status("Cache", "cache", cache(&ctx).await)
}

/// GET /livez: the process serves HTTP (no dependency is checked, so an orchestrator does
/// not restart every node when the database blips).
pub async fn live(_: Ctx, _: Args) -> Result<Reply> {
    Ok(Reply::json(json!({ "status": "pass" })))
}

/// GET /readyz: this node can serve requests: the database answers a read. 503
/// `{"status":"fail","failed":["database"]}` otherwise, so a load balancer sends traffic
/// elsewhere (a probe's body, not an Appwrite error: no Appwrite error type means "not
/// ready"). Redis is reported, not required: every node shares it, so failing them all would
/// turn its outage into a full one, while without it a node still serves correctly (rate
/// limits per node, no read cache): 200 `{"status":"pass","degraded":["cache"]}`, also while
/// the node does not hear the other nodes' cache invalidations.
pub async fn ready(ctx: Ctx, _: Args) -> Result<Reply> {
    let (db, cache) = tokio::join!(database(&ctx), cache(&ctx));
    if db.is_none() {
        let mut reply = Reply::json(json!({ "status": "fail", "failed": ["database"] }));
        reply.status = Some(503);
        return Ok(reply);
    }
    // Redis not answering, or this node not hearing the others' invalidations (its read
    // cache is off meanwhile).
    if cache.is_none() || ctx.state.cache.peers_linked() == Some(false) {
        return Ok(Reply::json(
            json!({ "status": "pass", "degraded": ["cache"] }),
        ));
    }
    Ok(Reply::json(json!({ "status": "pass" })))
}
