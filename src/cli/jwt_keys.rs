//! `latchkey jwt-keys list|rotate`: the key pairs that sign a project's JWTs when its
//! `[projects.jwt] algorithm` is EdDSA or ES256. Only public parts are printed.

use serde_json::{Value, json};

use super::{CliResult, Failure, JwtKeysCommand, Opened, table};
use crate::domain::jwt_keys::{JwtAlgorithm, RETIRED_KEY_GRACE_MS};
use crate::domain::time::format_ms;
use crate::store::JwtKeyRow;

pub async fn run(o: &Opened, command: JwtKeysCommand) -> CliResult {
    match command {
        JwtKeysCommand::List { project } => list(o, project.as_deref()).await,
        JwtKeysCommand::Rotate { project } => rotate(o, project.as_deref()).await,
    }
}

/// `signing`, `verifying until …` (retired, still in its grace time) or `expired`.
fn state_of(row: &JwtKeyRow, now: i64) -> (&'static str, Option<i64>) {
    match row.retired_at {
        None => ("signing", None),
        Some(at) if at + RETIRED_KEY_GRACE_MS > now => {
            ("verifying", Some(at + RETIRED_KEY_GRACE_MS))
        }
        Some(_) => ("expired", None),
    }
}

fn key_json(project: &str, row: &JwtKeyRow, now: i64) -> Value {
    let (state, until) = state_of(row, now);
    json!({
        "kid": row.id,
        "project": project,
        "alg": row.alg,
        "state": state,
        "$createdAt": format_ms(row.created_at),
        "retiredAt": row.retired_at.map(format_ms),
        "verifiesUntil": until.map(format_ms),
        "publicJwk": serde_json::from_str::<Value>(&row.public_jwk).unwrap_or(Value::Null),
    })
}

fn rows_table(project: &str, rows: &[JwtKeyRow], now: i64) -> String {
    let lines: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let (state, until) = state_of(r, now);
            vec![
                r.id.clone(),
                project.to_owned(),
                r.alg.clone(),
                match until {
                    Some(u) => format!("{state} until {}", format_ms(u)),
                    None => state.to_owned(),
                },
                format_ms(r.created_at),
            ]
        })
        .collect();
    table::render(&["KID", "PROJECT", "ALG", "STATE", "CREATED"], &lines)
}

async fn list(o: &Opened, project: Option<&str>) -> CliResult {
    let project = o.project(project)?;
    let now = o.state.clock.now_ms();
    let rows = o.state.store.list_jwt_keys(&project.id).await?;
    let v: Vec<Value> = rows.iter().map(|r| key_json(&project.id, r, now)).collect();
    o.print(&json!(v), || {
        if rows.is_empty() {
            format!(
                "project `{}` has no JWT key pair yet (algorithm {}; one is made on first use)\n",
                project.id,
                project.settings.jwt.algorithm.name()
            )
        } else {
            rows_table(&project.id, &rows, now)
        }
    });
    Ok(())
}

async fn rotate(o: &Opened, project: Option<&str>) -> CliResult {
    let project = o.project(project)?;
    let alg = project.settings.jwt.algorithm;
    if alg == JwtAlgorithm::Hs256 {
        return Err(Failure::bad_input(format!(
            "project `{}` signs JWTs with HS256 and the instance key, which has no key pair to \
             rotate; set `[projects.jwt] algorithm = \"EdDSA\"` (or \"ES256\") in the config first",
            project.id
        )));
    }
    let now = o.state.clock.now_ms();
    let row = o
        .state
        .jwt_keys
        .rotate(&*o.state.store, &project.id, alg, now, false)
        .await
        .map_err(|e| Failure::failed(format!("cannot rotate: {e}")))?;
    let rows = o.state.store.list_jwt_keys(&project.id).await?;
    let v: Vec<Value> = rows.iter().map(|r| key_json(&project.id, r, now)).collect();
    o.print(&json!({ "signing": row.id, "keys": v }), || {
        format!(
            "{}\nnew signing key {}; servers pick it up within {} s, and the retired key keeps \
             verifying until the JWTs it signed expire\n",
            rows_table(&project.id, &rows, now),
            row.id,
            crate::domain::jwt_keys::CACHE_MS / 1000
        )
    });
    Ok(())
}
