//! `latchkey projects list|show`.

use serde_json::{Value, json};

use super::{CliResult, Failure, Opened, ProjectsCommand, table};

pub async fn run(o: &Opened, command: ProjectsCommand) -> CliResult {
    let mut stored = o.state.store.list_projects().await?;
    // The config's projects as `serve` records them, with those recorded earlier.
    for p in o.state.projects().values() {
        if !stored.iter().any(|r| r.id == p.id) {
            stored.push(crate::store::ProjectRow {
                id: p.id.clone(),
                name: p.name.clone(),
                settings: serde_json::to_string(&p.settings.redacted()).unwrap_or_default(),
            });
        }
    }
    stored.sort_by(|a, b| a.id.cmp(&b.id));
    match command {
        ProjectsCommand::List => {
            let mut list = vec![];
            for r in &stored {
                let running = o.state.projects().contains_key(&r.id);
                let users = o.state.store.count_users(&r.id).await?;
                list.push(json!({"$id": r.id, "name": r.name, "running": running, "users": users}));
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|p| {
                    vec![
                        p["$id"].as_str().unwrap_or_default().to_owned(),
                        p["name"].as_str().unwrap_or_default().to_owned(),
                        if p["running"] == true {
                            "yes"
                        } else {
                            "no (not in the config)"
                        }
                        .to_owned(),
                        p["users"].to_string(),
                    ]
                })
                .collect();
            o.print(&Value::Array(list), || {
                table::render(&["ID", "NAME", "RUNNING", "USERS"], &rows)
            });
            Ok(())
        }
        ProjectsCommand::Show { id } => {
            let row = stored.iter().find(|r| r.id == id).ok_or_else(|| {
                Failure::failed(format!(
                    "no project `{id}`; `latchkey projects list` shows them"
                ))
            })?;
            // The stored copy has every secret removed (keys as hashes).
            let settings: Value = serde_json::from_str(&row.settings).unwrap_or(Value::Null);
            let v = json!({
                "$id": row.id,
                "name": row.name,
                "running": o.state.projects().contains_key(&row.id),
                "users": o.state.store.count_users(&row.id).await?,
                "settings": settings,
            });
            o.print(&v, || {
                format!(
                    "{}\nsettings:\n{}\n",
                    table::render(
                        &["ID", "NAME", "RUNNING", "USERS"],
                        &[vec![
                            row.id.clone(),
                            row.name.clone(),
                            (if v["running"] == true { "yes" } else { "no" }).to_owned(),
                            v["users"].to_string(),
                        ]],
                    ),
                    serde_json::to_string_pretty(&v["settings"]).unwrap_or_default()
                )
            });
            Ok(())
        }
    }
}
