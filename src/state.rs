//! Everything a request needs, built once from a `Config` so tests can run many servers.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use ipnet::IpNet;

use crate::config::{Config, ProjectConfig, parse_trusted_proxies};
use crate::domain::passwords::PasswordHasher;
use crate::domain::project::Project;
use crate::http::routes::{Route, table};
use crate::store::{ProjectRow, Store};

/// Shared, read-only server state.
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Projects by id; the config file is applied at start and they do not change afterwards.
    pub projects: HashMap<String, Arc<Project>>,
    /// Stands in for a project on routes that need none (health).
    pub placeholder_project: Arc<Project>,
    /// HS256 key of account JWTs.
    pub instance_key: Vec<u8>,
    pub hasher: PasswordHasher,
    pub trusted_proxies: Vec<IpNet>,
    pub routes: Vec<Route>,
}

const KEY_FILE: &str = "instance.key";

/// `_APP_OPENSSL_KEY_V1`, or a key generated once and kept in the data folder (mode 0600).
fn instance_key(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(k) = config.instance_key.as_deref().filter(|k| !k.is_empty()) {
        return Ok(k.as_bytes().to_vec());
    }
    let path = config.data_dir.join(KEY_FILE);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let k = existing.trim();
        anyhow::ensure!(!k.is_empty(), "{} is empty", path.display());
        return Ok(k.as_bytes().to_vec());
    }
    let key = crate::domain::ids::random_hex(32);
    write_private(&path, &key)?;
    tracing::info!(path = %path.display(), "generated a new instance key");
    Ok(key.into_bytes())
}

fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    f.write_all(content.as_bytes())?;
    Ok(())
}

impl AppState {
    /// Opens the store, applies the config's projects and loads every project.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| anyhow::anyhow!("--data {}: {e}", config.data_dir.display()))?;
        let url = config.database_url.clone().unwrap_or_else(|| {
            format!("sqlite://{}", config.data_dir.join("latchkey.db").display())
        });
        let store = crate::store::open(&url).await?;
        let instance_key = instance_key(config)?;

        for p in &config.file.projects {
            store.upsert_project(&row(p)?).await?;
        }
        let mut rows = store.list_projects().await?;
        if rows.is_empty() && !config.has_config_file {
            let settings = Project::default_settings();
            store.upsert_project(&row(&settings)?).await?;
            tracing::info!("created project `default` (web platform: localhost)");
            rows = store.list_projects().await?;
        }
        let mut projects = HashMap::new();
        for r in rows {
            let settings: ProjectConfig = serde_json::from_str(&r.settings)
                .map_err(|e| anyhow::anyhow!("stored settings of project {}: {e}", r.id))?;
            projects.insert(r.id.clone(), Arc::new(Project::new(settings)));
        }
        crate::domain::useragent::warm_up();
        crate::domain::geo::warm_up();
        crate::domain::email_meta::warm_up();
        Ok(AppState {
            store,
            projects,
            placeholder_project: Arc::new(Project::new(Project::default_settings())),
            instance_key,
            hasher: PasswordHasher::new(config.file.passwords)?,
            trusted_proxies: parse_trusted_proxies(config.file.trusted_proxies.as_deref())?,
            routes: table(),
        })
    }
}

fn row(p: &ProjectConfig) -> anyhow::Result<ProjectRow> {
    Ok(ProjectRow {
        id: p.id.clone(),
        name: p.name.clone(),
        settings: serde_json::to_string(p)?,
    })
}
