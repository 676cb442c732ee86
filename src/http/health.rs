//! `GET /v1/health/version`: the API version, without auth (the Appwrite CLI probes it).

use serde_json::json;

use crate::error::Result;
use crate::http::gate::Ctx;
use crate::http::params::Args;
use crate::http::reply::{API_VERSION, Reply};

/// `{"version": "<Appwrite API version served>"}`.
pub async fn get_version(_: Ctx, _: Args) -> Result<Reply> {
    Ok(Reply::json(json!({ "version": API_VERSION })))
}
