//! `latchkey users import FILE…`: Appwrite's `GET /v1/users` answers (as an API key sees
//! them: with `password`, `hash` and `hashOptions`; one page per file, or an array of pages)
//! and Firebase's `auth:export` JSON, whose scrypt parameters come from its console.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use super::{CliResult, Failure, Opened, table};
use crate::domain::hashing::imported::{FIREBASE_MEM_COST, FIREBASE_ROUNDS};
use crate::domain::users::import::{ForeignPassword, ForeignUser, import_user};
use crate::error::ErrorType;
use crate::secret::Secret;

/// Where the file comes from.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Appwrite `GET /v1/users` pages.
    Appwrite,
    /// Firebase `auth:export --format=json`.
    Firebase,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[arg(long)]
    project: Option<String>,
    /// What wrote the files (default: worked out from their shape).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Firebase's `base64_signer_key` (Authentication → Users → Password hash parameters);
    /// better given as the env name, which `ps` and shell history do not show.
    #[arg(long, env = "LATCHKEY_FIREBASE_SIGNER_KEY", hide_env_values = true)]
    signer_key: Option<String>,
    /// Firebase's `base64_salt_separator`.
    #[arg(long)]
    salt_separator: Option<String>,
    /// Firebase's `rounds` (latchkey verifies 8, Firebase's default).
    #[arg(long, default_value_t = FIREBASE_ROUNDS)]
    rounds: u32,
    /// Firebase's `mem_cost` (latchkey verifies 14, Firebase's default).
    #[arg(long, default_value_t = FIREBASE_MEM_COST)]
    mem_cost: u32,
    /// The JSON files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// The users of an Appwrite file: a page `{total, users}`, an array of pages, or an array of
/// users.
fn appwrite_users(v: &Value) -> Vec<Value> {
    match v {
        Value::Object(o) => o
            .get("users")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        Value::Array(items) => items
            .iter()
            .flat_map(|i| {
                if i.get("users").is_some() {
                    appwrite_users(i)
                } else {
                    vec![i.clone()]
                }
            })
            .collect(),
        _ => vec![],
    }
}

fn text(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_owned)
}

fn flag(v: &Value, k: &str, default: bool) -> bool {
    v.get(k).and_then(Value::as_bool).unwrap_or(default)
}

/// One user of an Appwrite export.
fn from_appwrite(u: &Value) -> ForeignUser {
    let password = match (text(u, "password"), text(u, "hash")) {
        (Some(p), Some(h)) if !p.is_empty() => Some(ForeignPassword {
            hash: Secret::new(p),
            algorithm: h,
            options: u.get("hashOptions").cloned().unwrap_or(json!({})),
        }),
        _ => None,
    };
    ForeignUser {
        id: text(u, "$id").unwrap_or_default(),
        name: text(u, "name"),
        email: text(u, "email"),
        phone: text(u, "phone"),
        email_verification: flag(u, "emailVerification", false),
        phone_verification: flag(u, "phoneVerification", false),
        status: flag(u, "status", true),
        labels: u
            .get("labels")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        prefs: u.get("prefs").cloned(),
        registration: text(u, "registration")
            .or_else(|| text(u, "$createdAt"))
            .and_then(|d| crate::domain::time::parse_iso_ms(&d)),
        password,
    }
}

/// One user of a Firebase export; `signer` is (signer key, salt separator).
fn from_firebase(u: &Value, signer: Option<&(String, String)>) -> ForeignUser {
    let password = match (text(u, "passwordHash"), text(u, "salt"), signer) {
        (Some(hash), Some(salt), Some((key, sep))) => Some(ForeignPassword {
            hash: Secret::new(hash),
            algorithm: "scryptMod".into(),
            options: json!({"salt": salt, "saltSeparator": sep, "signerKey": key}),
        }),
        _ => None,
    };
    ForeignUser {
        id: text(u, "localId").unwrap_or_default(),
        name: text(u, "displayName"),
        email: text(u, "email"),
        phone: text(u, "phoneNumber"),
        email_verification: flag(u, "emailVerified", false),
        phone_verification: text(u, "phoneNumber").is_some(),
        status: !flag(u, "disabled", false),
        labels: vec![],
        prefs: None,
        registration: text(u, "createdAt").and_then(|ms| ms.parse().ok()),
        password,
    }
}

pub async fn run(o: &Opened, a: ImportArgs) -> CliResult {
    let project = o.project(a.project.as_deref())?;
    let mut users: Vec<ForeignUser> = vec![];
    for path in &a.files {
        let raw = std::fs::read_to_string(path)
            .map_err(|e| Failure::bad_input(format!("{}: {e}", path.display())))?;
        let v: Value = serde_json::from_str(&raw)
            .map_err(|e| Failure::bad_input(format!("{}: not JSON ({e})", path.display())))?;
        let firebase = match a.format {
            Some(f) => f == Format::Firebase,
            None => v["users"]
                .as_array()
                .and_then(|u| u.first())
                .is_some_and(|u| u.get("localId").is_some()),
        };
        if firebase {
            if (a.rounds, a.mem_cost) != (FIREBASE_ROUNDS, FIREBASE_MEM_COST) {
                return Err(Failure::bad_input(format!(
                    "Firebase rounds {} and mem_cost {}: latchkey verifies Firebase's defaults (rounds {FIREBASE_ROUNDS}, mem_cost {FIREBASE_MEM_COST}) only",
                    a.rounds, a.mem_cost
                )));
            }
            let signer = match (&a.signer_key, &a.salt_separator) {
                (Some(k), Some(s)) => Some((k.clone(), s.clone())),
                (None, None) => None,
                _ => {
                    return Err(Failure::bad_input(
                        "pass both --signer-key and --salt-separator (Firebase console: Authentication → Users → Password hash parameters)",
                    ));
                }
            };
            let list = v["users"].as_array().ok_or_else(|| {
                Failure::bad_input(format!("{}: no `users` array", path.display()))
            })?;
            if signer.is_none() && list.iter().any(|u| u.get("passwordHash").is_some()) {
                return Err(Failure::bad_input(format!(
                    "{} has password hashes: pass --signer-key (or LATCHKEY_FIREBASE_SIGNER_KEY) and --salt-separator from the Firebase console (Authentication → Users → Password hash parameters), or the users would lose their passwords",
                    path.display()
                )));
            }
            users.extend(list.iter().map(|u| from_firebase(u, signer.as_ref())));
        } else {
            let list = appwrite_users(&v);
            if list.is_empty() && !v.is_array() && v.get("users").is_none() {
                return Err(Failure::bad_input(format!(
                    "{}: neither an Appwrite users page nor a Firebase export",
                    path.display()
                )));
            }
            users.extend(list.iter().map(from_appwrite));
        }
    }

    let env = o.env(&project);
    let bar = if o.json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(users.len() as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} users {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let (mut imported, mut existing) = (0u64, 0u64);
    let mut failed: Vec<(String, String)> = vec![];
    for user in users {
        let id = user.id.clone();
        match import_user(&env, user).await {
            Ok(()) => imported += 1,
            // Skipped only when this very user is there (a second run); a user whose email
            // or phone another user has is a failure to look at.
            Err(e) if e.ty == ErrorType::UserAlreadyExists => {
                if env.store.find_user(env.pid(), &id).await?.is_some() {
                    existing += 1;
                } else {
                    failed.push((id, "its email or phone belongs to another user".into()));
                }
            }
            Err(e) => failed.push((id, e.message().to_owned())),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let report = json!({
        "imported": imported,
        "alreadyThere": existing,
        "failed": failed.iter().map(|(id, why)| json!({"$id": id, "error": why})).collect::<Vec<_>>(),
    });
    o.print(&report, || {
        let mut out = table::render(
            &["IMPORTED", "ALREADY THERE", "FAILED"],
            &[vec![
                imported.to_string(),
                existing.to_string(),
                failed.len().to_string(),
            ]],
        );
        if !failed.is_empty() {
            out.push('\n');
            let rows: Vec<Vec<String>> = failed
                .iter()
                .map(|(i, w)| vec![i.clone(), w.clone()])
                .collect();
            out.push_str(&table::render(&["ID", "WHY IT WAS NOT IMPORTED"], &rows));
        }
        out
    });
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::failed(format!(
            "{} users were not imported (listed above); fix them and run the import again: users already there are skipped",
            failed.len()
        )))
    }
}
