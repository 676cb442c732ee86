//! The admin commands (`latchkey keys|users|projects`): they open the same store as `serve`,
//! with the same `--config`, `--data` and `--database-url`, and need no running server. Output
//! is an aligned table for people, or JSON with `--json`. Exit codes: 0 done, 1 the operation
//! failed (not found, some users not imported), 2 bad input (usage, files, values).

mod backup;
pub mod healthcheck;
mod import;
mod jwt_keys;
mod keys;
mod projects;
mod seed;
mod table;
mod users;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};

use crate::domain::project::Project;
use crate::domain::{ClientInfo, Env};
use crate::{AppState, Config};

/// What every admin command reads: the instance `serve` would run.
#[derive(Args, Debug, Clone)]
pub struct Instance {
    /// TOML config file (the one `serve` uses).
    #[arg(long, env = "LATCHKEY_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Folder of the embedded database and the instance key.
    #[arg(
        long,
        env = "LATCHKEY_DATA",
        default_value = "./latchkey-data",
        global = true
    )]
    pub data: PathBuf,
    /// `sqlite://PATH` or `postgres://USER:PASS@HOST:PORT/DB`.
    #[arg(
        long,
        env = "LATCHKEY_DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    pub database_url: Option<String>,
    /// Print JSON for scripts instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// `latchkey keys …`.
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create an API key; its secret is shown once.
    Create {
        /// The project (default: the only one).
        #[arg(long)]
        project: Option<String>,
        /// A label for people.
        #[arg(long, default_value = "")]
        name: String,
        /// Scopes, comma-separated (e.g. users.read,users.write).
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// Expiry as an ISO-8601 datetime (default: never).
        #[arg(long)]
        expire: Option<String>,
    },
    /// List the project's keys: the config file's and the stored ones.
    List {
        #[arg(long)]
        project: Option<String>,
    },
    /// Revoke a stored key (config-file keys are removed from the file).
    Revoke {
        #[arg(long)]
        project: Option<String>,
        /// The key's id.
        id: String,
    },
}

/// `latchkey jwt-keys …`.
#[derive(Subcommand, Debug)]
pub enum JwtKeysCommand {
    /// List the project's JWT signing keys: the signing one, and retired ones that still verify.
    List {
        #[arg(long)]
        project: Option<String>,
    },
    /// Make a new signing key; the old one keeps verifying until the JWTs it signed expire.
    Rotate {
        #[arg(long)]
        project: Option<String>,
    },
}

/// `latchkey users …`.
#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// List users, oldest first.
    List {
        #[arg(long)]
        project: Option<String>,
        /// Full-text search over id, email, phone and name (word prefixes).
        #[arg(long, default_value = "")]
        search: String,
        #[arg(long, default_value_t = 25)]
        limit: i64,
        #[arg(long, default_value_t = 0)]
        offset: i64,
    },
    /// Show one user.
    Get {
        #[arg(long)]
        project: Option<String>,
        id: String,
    },
    /// Block a user: its sessions stop working.
    Block {
        #[arg(long)]
        project: Option<String>,
        id: String,
    },
    /// Unblock a user.
    Unblock {
        #[arg(long)]
        project: Option<String>,
        id: String,
    },
    /// Delete a user with its sessions, tokens, identities, targets and queued messages.
    Delete {
        #[arg(long)]
        project: Option<String>,
        id: String,
    },
    /// Import users from Appwrite (`GET /v1/users` pages) or Firebase (`auth:export`).
    Import(import::ImportArgs),
    /// Fill a project with many users and sessions sharing one password (benchmarks).
    Seed(seed::SeedArgs),
}

/// `latchkey projects …`.
#[derive(Subcommand, Debug)]
pub enum ProjectsCommand {
    /// List the instance's projects.
    List,
    /// Show a project's settings (secrets left out).
    Show { id: String },
}

/// A failed command: what to tell the person, and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// The operation failed (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Failure {
            code: 1,
            message: message.into(),
        }
    }

    /// The input was bad (exit 2).
    pub fn bad_input(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::failed(format!("{e:#}"))
    }
}

impl From<crate::error::Error> for Failure {
    fn from(e: crate::error::Error) -> Self {
        let code = if e.ty.status() == 400 { 2 } else { 1 };
        Failure {
            code,
            message: format!("{} ({})", e.message(), e.ty.as_str()),
        }
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(e: crate::store::StoreError) -> Self {
        Failure::failed(e.to_string())
    }
}

pub type CliResult = Result<(), Failure>;

/// The opened instance: its state and how to print.
pub struct Opened {
    pub state: Arc<AppState>,
    pub json: bool,
    client: ClientInfo,
}

impl Instance {
    /// Opens the store (migrating it, as `serve` does) with the config's projects.
    pub async fn open(&self) -> Result<Opened, Failure> {
        let mut cfg = Config::new(self.data.clone());
        cfg.record_projects = false;
        cfg.database_url = self.database_url.clone().map(crate::secret::Secret::new);
        cfg.instance_key = std::env::var("_APP_OPENSSL_KEY_V1")
            .ok()
            .map(crate::secret::Secret::new);
        // A mistyped --data or URL must not quietly start a new, empty instance (with its
        // own instance key, which would not open what the real one sealed).
        let file = match &self.database_url {
            None => Some(self.data.join("latchkey.db")),
            Some(url) if url.starts_with("sqlite:") => {
                let rest = url
                    .trim_start_matches("sqlite://")
                    .trim_start_matches("sqlite:");
                Some(PathBuf::from(rest.split('?').next().unwrap_or(rest)))
            }
            Some(_) => None,
        };
        if let Some(file) = file.filter(|f| !f.exists()) {
            return Err(Failure::bad_input(format!(
                "no latchkey database at {}: pass the --data (or --database-url) that `latchkey serve` uses, or start `latchkey serve` once to create it",
                file.display()
            )));
        }
        let key_file = self.data.join("instance.key");
        if cfg.instance_key.is_none() && !key_file.exists() {
            return Err(Failure::bad_input(format!(
                "no instance key at {}: pass the --data that `latchkey serve` uses (or set _APP_OPENSSL_KEY_V1 as for the server)",
                key_file.display()
            )));
        }
        if let Some(path) = &self.config {
            cfg.file = Config::load_file(path).map_err(|e| Failure::bad_input(format!("{e:#}")))?;
            cfg.has_config_file = true;
        }
        cfg.file
            .apply_env(|k| std::env::var(k).ok())
            .map_err(|e| Failure::bad_input(format!("{e:#}")))?;
        let state = AppState::build(&cfg).await?;
        let recorded = state.store.list_projects().await?;
        if self.config.is_none()
            && !recorded.is_empty()
            && !recorded.iter().any(|p| p.id == "default")
        {
            let ids: Vec<&str> = recorded.iter().map(|p| p.id.as_str()).collect();
            return Err(Failure::bad_input(format!(
                "this instance's projects ({}) come from a config file: pass --config (or LATCHKEY_CONFIG) as to `latchkey serve`",
                ids.join(", ")
            )));
        }
        Ok(Opened {
            state: Arc::new(state),
            json: self.json,
            client: ClientInfo::new("127.0.0.1".into(), "latchkey-cli", "admin"),
        })
    }
}

impl Opened {
    /// The project named, or the only one.
    pub fn project(&self, id: Option<&str>) -> Result<Arc<Project>, Failure> {
        match id {
            Some(id) => self.state.project(id).ok_or_else(|| {
                Failure::bad_input(format!(
                    "no project `{id}` in this instance; `latchkey projects list` shows them"
                ))
            }),
            None if self.state.projects().len() == 1 => Ok(self
                .state
                .projects()
                .values()
                .next()
                .cloned()
                .unwrap_or_else(|| self.state.placeholder_project.clone())),
            None => Err(Failure::bad_input(
                "this instance has several projects: pass --project <id>",
            )),
        }
    }

    /// The dependencies of a domain rule acting on `project`.
    pub fn env<'a>(&'a self, project: &'a Project) -> Env<'a> {
        Env {
            store: &*self.state.store,
            postbox: &self.state.outbox,
            queued: Default::default(),
            hasher: &self.state.hasher,
            sealer: &self.state.sealer,
            project,
            client: &self.client,
            clock: &*self.state.clock,
            breaches: &self.state.breaches,
        }
    }

    /// Prints `value` as JSON, or `human` for people.
    pub fn print(&self, value: &serde_json::Value, human: impl FnOnce() -> String) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(value).unwrap_or_default()
            );
        } else {
            print!("{}", human());
        }
    }
}

/// Runs `latchkey keys …`.
pub async fn keys(instance: &Instance, command: KeysCommand) -> CliResult {
    keys::run(&instance.open().await?, command).await
}

/// Runs `latchkey jwt-keys …`.
pub async fn jwt_keys(instance: &Instance, command: JwtKeysCommand) -> CliResult {
    jwt_keys::run(&instance.open().await?, command).await
}

/// Runs `latchkey users …`.
pub async fn users(instance: &Instance, command: UsersCommand) -> CliResult {
    users::run(&instance.open().await?, command).await
}

/// Runs `latchkey backup PATH`.
pub async fn backup(instance: &Instance, path: &std::path::Path) -> CliResult {
    backup::backup(instance, path).await
}

/// Runs `latchkey restore PATH`.
pub async fn restore(instance: &Instance, path: &std::path::Path, force: bool) -> CliResult {
    backup::restore(instance, path, force).await
}

/// Runs `latchkey projects …`.
pub async fn projects(instance: &Instance, command: ProjectsCommand) -> CliResult {
    projects::run(&instance.open().await?, command).await
}
