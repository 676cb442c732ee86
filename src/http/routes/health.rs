//! Health routes (appwrite 1.9.6 app/controllers/api/health.php for `/v1/health…`): Appwrite's
//! need an API key (scope `health.read`, which every key holds); `version` and the two
//! orchestrator probes need neither project nor key.

use crate::http::health;
use crate::http::reply::Model;
use crate::http::route::{Route, Verb::*, h};

const HEALTH_READ: &str = "health.read";

#[rustfmt::skip]
pub static HEALTH_ROUTES: &[Route] = &[
    Route::new(Get, "/v1/health", "health.get", h!(health::get))
        .scope(HEALTH_READ).keys_only().returns(200, Model::HealthStatus),
    Route::new(Get, "/v1/health/db", "health.getDB", h!(health::get_db))
        .scope(HEALTH_READ).keys_only().returns(200, Model::HealthStatusList),
    Route::new(Get, "/v1/health/cache", "health.getCache", h!(health::get_cache))
        .scope(HEALTH_READ).keys_only().returns(200, Model::HealthStatusList),
    Route::new(Get, "/v1/health/version", "health.getVersion", h!(health::get_version))
        .projectless(),
    // Not Appwrite's: liveness and readiness for orchestrators and load balancers.
    Route::new(Get, "/livez", "health.live", h!(health::live)).projectless(),
    Route::new(Get, "/readyz", "health.ready", h!(health::ready)).projectless(),
];
