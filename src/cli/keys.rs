//! `latchkey keys create|list|revoke`: API keys kept in the store as SHA-256 hashes; the
//! secret is shown once. Keys of the config file are listed too, and stay the file's.

use serde_json::{Value, json};

use super::{CliResult, Failure, KeysCommand, Opened, table};
use crate::config::KNOWN_SCOPES;
use crate::domain::time::{format_ms, format_opt_ms, parse_iso_ms};
use crate::secret::sha256_hex;
use crate::store::KeyRow;

pub async fn run(o: &Opened, command: KeysCommand) -> CliResult {
    match command {
        KeysCommand::Create {
            project,
            name,
            scopes,
            expire,
        } => create(o, project.as_deref(), name, scopes, expire).await,
        KeysCommand::List { project } => list(o, project.as_deref()).await,
        KeysCommand::Revoke { project, id } => revoke(o, project.as_deref(), &id).await,
    }
}

async fn create(
    o: &Opened,
    project: Option<&str>,
    name: String,
    scopes: Vec<String>,
    expire: Option<String>,
) -> CliResult {
    let project = o.project(project)?;
    let scopes: Vec<String> = scopes
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(bad) = scopes.iter().find(|s| !KNOWN_SCOPES.contains(&s.as_str())) {
        return Err(Failure::bad_input(format!(
            "unknown scope `{bad}`; known scopes: {}",
            KNOWN_SCOPES.join(", ")
        )));
    }
    if scopes.is_empty() {
        return Err(Failure::bad_input("--scopes names no scope"));
    }
    let expire = match expire.as_deref().filter(|e| !e.is_empty()) {
        Some(e) => Some(parse_iso_ms(e).ok_or_else(|| {
            Failure::bad_input(format!(
                "--expire `{e}` is not an ISO-8601 datetime (e.g. 2027-01-31T00:00:00Z)"
            ))
        })?),
        None => None,
    };
    let id = crate::domain::ids::unique_id();
    // Appwrite's form: a type prefix and 256 hex characters.
    let secret =
        crate::secret::Secret::new(format!("standard_{}", crate::domain::ids::random_hex(128)));
    let row = KeyRow {
        project_id: project.id.clone(),
        id: id.clone(),
        name,
        scopes: serde_json::to_string(&scopes).map_err(anyhow::Error::from)?,
        secret_hash: sha256_hex(secret.expose()),
        expire,
        created_at: o.state.clock.now_ms(),
    };
    o.state.store.insert_key(&row).await?;
    let mut v = key_json(&row, "store");
    v["secret"] = json!(secret.expose());
    o.print(&v, || {
        format!(
            "{}\nsecret (shown once, store it now):\n{}\n",
            table::render(
                &["ID", "NAME", "SCOPES", "EXPIRE"],
                &[vec![
                    row.id.clone(),
                    row.name.clone(),
                    scopes.join(","),
                    format_opt_ms(row.expire),
                ]],
            ),
            secret.expose()
        )
    });
    Ok(())
}

fn key_json(row: &KeyRow, source: &str) -> Value {
    json!({
        "$id": row.id,
        "project": row.project_id,
        "name": row.name,
        "source": source,
        "scopes": serde_json::from_str::<Value>(&row.scopes).unwrap_or(json!([])),
        "expire": row.expire.map(format_ms),
        "$createdAt": (row.created_at > 0).then(|| format_ms(row.created_at)),
    })
}

async fn list(o: &Opened, project: Option<&str>) -> CliResult {
    let project = o.project(project)?;
    let mut keys: Vec<Value> = project
        .settings
        .keys
        .iter()
        .map(|k| {
            key_json(
                &KeyRow {
                    project_id: project.id.clone(),
                    id: k.id.clone(),
                    name: String::new(),
                    scopes: serde_json::to_string(&k.scopes).unwrap_or_default(),
                    secret_hash: String::new(),
                    expire: k.expire.as_deref().and_then(parse_iso_ms),
                    created_at: 0,
                },
                "config",
            )
        })
        .collect();
    for row in o.state.store.list_keys(&project.id).await? {
        keys.push(key_json(&row, "store"));
    }
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            let scopes: Vec<&str> = k["scopes"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            vec![
                text(k, "$id"),
                text(k, "source"),
                text(k, "name"),
                scopes.join(","),
                text(k, "expire"),
                text(k, "$createdAt"),
            ]
        })
        .collect();
    o.print(&Value::Array(keys), || {
        table::render(
            &["ID", "SOURCE", "NAME", "SCOPES", "EXPIRE", "CREATED"],
            &rows,
        )
    });
    Ok(())
}

async fn revoke(o: &Opened, project: Option<&str>, id: &str) -> CliResult {
    let project = o.project(project)?;
    if project.settings.keys.iter().any(|k| k.id == id) {
        return Err(Failure::bad_input(format!(
            "key `{id}` comes from the config file: remove it there and restart the server"
        )));
    }
    if !o.state.store.delete_key(&project.id, id).await? {
        return Err(Failure::failed(format!(
            "no stored key `{id}` in project `{}`; `latchkey keys list` shows them",
            project.id
        )));
    }
    o.print(&json!({"$id": id, "revoked": true}), || {
        format!("revoked key {id}\n")
    });
    Ok(())
}
