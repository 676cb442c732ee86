//! `GET /v1/health/version`: the API version, without auth (the Appwrite CLI probes it).

use serde_json::json;

use crate::error::Result;
use crate::http::extract::Params;
use crate::http::gate::Ctx;
use crate::http::reply::{API_VERSION, Model, Reply};

/// `{"version": "<Appwrite API version served>"}`.
pub async fn get_version(_: Ctx, _: Params) -> Result<Reply> {
    Ok(Reply::ok(Model::Plain, json!({ "version": API_VERSION })))
}
