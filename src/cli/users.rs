//! `latchkey users list|get|block|unblock|delete|import|seed`.

use serde_json::{Value, json};

use super::{CliResult, Failure, Opened, UsersCommand, table};
use crate::domain::accounts::targets_of;
use crate::domain::time::format_ms;
use crate::domain::users;
use crate::store::UserRow;

fn row(u: &UserRow) -> Vec<String> {
    vec![
        u.id.clone(),
        u.email.clone().unwrap_or_default(),
        u.phone.clone().unwrap_or_default(),
        u.name.clone().unwrap_or_default(),
        (if u.status { "active" } else { "blocked" }).to_owned(),
        format_ms(u.registration),
    ]
}

const HEADERS: &[&str] = &["ID", "EMAIL", "PHONE", "NAME", "STATUS", "REGISTERED"];

pub async fn run(o: &Opened, command: UsersCommand) -> CliResult {
    match command {
        UsersCommand::List {
            project,
            search,
            limit,
            offset,
        } => {
            let project = o.project(project.as_deref())?;
            let env = o.env(&project);
            let queries = vec![
                json!({"method": "limit", "values": [limit]}).to_string(),
                json!({"method": "offset", "values": [offset]}).to_string(),
            ];
            let page = users::list(&env, &queries, &search, false).await?;
            let mut items = vec![];
            for u in &page.rows {
                items.push(crate::http::models::user(u, &targets_of(&env, u).await?));
            }
            let rows: Vec<Vec<String>> = page.rows.iter().map(row).collect();
            o.print(&json!({"total": page.total, "users": items}), || {
                format!(
                    "{}{} of {} users\n",
                    table::render(HEADERS, &rows),
                    rows.len(),
                    page.total
                )
            });
            Ok(())
        }
        UsersCommand::Get { project, id } => {
            let project = o.project(project.as_deref())?;
            let env = o.env(&project);
            let user = found(users::get(&env, &id).await, &id)?;
            let model = crate::http::models::user(&user, &targets_of(&env, &user).await?);
            o.print(&model, || describe(&model));
            Ok(())
        }
        UsersCommand::Block { project, id } => status(o, project.as_deref(), &id, false).await,
        UsersCommand::Unblock { project, id } => status(o, project.as_deref(), &id, true).await,
        UsersCommand::Delete { project, id } => {
            let project = o.project(project.as_deref())?;
            found(users::delete(&o.env(&project), &id).await, &id)?;
            o.print(&json!({"$id": id, "deleted": true}), || {
                format!("deleted user {id} with its sessions, tokens, identities and targets\n")
            });
            Ok(())
        }
        UsersCommand::Import(args) => super::import::run(o, args).await,
        UsersCommand::Seed(args) => super::seed::run(o, args).await,
    }
}

/// A user's fields, one per line.
fn describe(model: &Value) -> String {
    let rows: Vec<Vec<String>> = model
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| *k != "password")
                .map(|(k, v)| {
                    let shown = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    vec![k.clone(), shown]
                })
                .collect()
        })
        .unwrap_or_default();
    table::render(&["FIELD", "VALUE"], &rows)
}

/// A user-not-found error says which user, and what to run.
fn found<T>(r: crate::error::Result<T>, id: &str) -> Result<T, Failure> {
    r.map_err(|e| {
        if e.ty == crate::error::ErrorType::UserNotFound {
            Failure::failed(format!(
                "no user `{id}`; `latchkey users list --search …` finds users"
            ))
        } else {
            e.into()
        }
    })
}

async fn status(o: &Opened, project: Option<&str>, id: &str, active: bool) -> CliResult {
    let project = o.project(project)?;
    let user = found(users::update_status(&o.env(&project), id, active).await, id)?;
    let word = if active { "unblocked" } else { "blocked" };
    o.print(&json!({"$id": user.id, "status": user.status}), || {
        format!("{word} user {}\n", user.id)
    });
    Ok(())
}
