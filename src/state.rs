//! Everything a request needs, built once from a `Config` so tests can run many servers.

use std::collections::HashMap;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::{Arc, RwLock};

use ipnet::IpNet;

use crate::config::{Config, parse_trusted_proxies};
use crate::delivery::Delivery;
use crate::delivery::outbox::Outbox;
use crate::domain::hashing::PasswordHasher;
use crate::domain::project::{Project, ProjectSettings};
use crate::domain::time::{Clock, SystemClock};
use crate::secret::Secret;
use crate::store::sql::cache::{DEFAULT_TTL_MS, ReadCache};
use crate::store::{ProjectRow, Store};

/// Shared, read-only server state.
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// The store's read cache (also linked to other nodes' when Redis is configured).
    pub cache: Arc<ReadCache>,
    /// The configured projects by id, replaced whole when the config is reloaded (SIGHUP);
    /// read through [`AppState::project`] and [`AppState::projects`].
    projects: RwLock<Arc<HashMap<String, Arc<Project>>>>,
    /// Stands in for a project on routes that need none (health).
    pub placeholder_project: Arc<Project>,
    /// HS256 key of account JWTs.
    pub instance_key: Secret,
    pub hasher: PasswordHasher,
    pub trusted_proxies: Vec<IpNet>,
    pub clock: Arc<dyn Clock>,
    /// Counters of the rate limits.
    pub limiter: Arc<dyn crate::abuse::Limiter>,
    /// Whether rate limits are enforced (`rateLimits`, `_APP_OPTIONS_ABUSE`).
    pub rate_limits: bool,
    /// Per-account lockout after wrong passwords (`[lockout]`).
    pub lockout: crate::abuse::lockout::Lockout,
    /// How long a client may take to send its headers, and again its body (`readTimeout`).
    pub read_timeout: std::time::Duration,
    /// `publicUrl` without a trailing `/`: the base of links this server emails.
    pub public_url: Option<String>,
    /// The bearer token of `GET /metrics` (`LATCHKEY_METRICS_TOKEN`); `None`: not served.
    pub metrics_token: Option<Secret>,
    /// Where rules queue messages (sealed with a key derived from the instance key).
    pub outbox: Outbox,
    /// Seals MFA secrets, recovery codes and provider tokens at rest (a key derived from the
    /// instance key with purpose `mfa`, kept for the rows sealed before provider tokens were).
    pub sealer: crate::seal::Sealer,
    /// Projects' JWT signing key pairs (`[projects.jwt]`), loaded from the store.
    pub jwt_keys: crate::domain::jwt_keys::KeyRing,
    /// The HTTP client and caches of OAuth2 provider calls.
    pub oauth2: crate::oauth2::Providers,
    /// The breached-password lookups of the `passwordPwned` policy (`[breachedPasswords]`).
    pub breaches: crate::breach::RangeApi,
    /// SMTP and SMS transports and templates of the delivery worker.
    pub delivery: Delivery,
}

const KEY_FILE: &str = "instance.key";
/// Default `readTimeout`: generous for phones on slow links, short enough that a slowloris
/// client holds a connection for seconds, not forever.
pub const DEFAULT_READ_TIMEOUT_S: u64 = 10;

/// Creates the data folder mode 0700 (an existing one keeps its mode, with a warning when
/// others may read it).
fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %dir.display(),
                mode = format!("{:o}", mode & 0o777),
                "the data folder is readable by other users; `chmod 700` it"
            );
        }
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| anyhow::anyhow!("--data {}: {e}", dir.display()))?;
    // The umask may have taken bits away; set exactly 0700.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

/// `_APP_OPENSSL_KEY_V1`, or a key generated once and kept in the data folder (mode 0600).
fn instance_key(config: &Config) -> anyhow::Result<Secret> {
    if let Some(k) = config.instance_key.as_ref().filter(|k| !k.is_empty()) {
        return Ok(k.clone());
    }
    let path = config.data_dir.join(KEY_FILE);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        // A copy restored with a loose mode is tightened: it signs every JWT. A read-only
        // mount (a container secret) cannot be changed; that is the operator's to decide.
        if std::fs::metadata(&path)?.permissions().mode() & 0o077 != 0
            && let Err(e) = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        {
            tracing::warn!(path = %path.display(), error = %e, "the instance key is readable by other users");
        }
        let k = existing.trim();
        anyhow::ensure!(!k.is_empty(), "{} is empty", path.display());
        return Ok(Secret::new(k));
    }
    let key = crate::domain::ids::random_hex(32);
    write_private(&path, &key)?;
    tracing::info!(path = %path.display(), "generated a new instance key");
    Ok(Secret::new(key))
}

fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    f.write_all(content.as_bytes())?;
    Ok(())
}

/// The projects a server runs, by id, with what its delivery can send for each.
fn running_projects(
    settings: Vec<ProjectSettings>,
    delivery: &Delivery,
) -> HashMap<String, Arc<Project>> {
    settings
        .into_iter()
        .map(|s| {
            let mut p = Project::new(s);
            p.email_enabled = delivery.has_email(&p.id);
            p.sms_enabled = delivery.has_sms(&p.id);
            (p.id.clone(), Arc::new(p))
        })
        .collect()
}

fn record(p: &ProjectSettings) -> anyhow::Result<ProjectRow> {
    Ok(ProjectRow {
        id: p.id.clone(),
        name: p.name.clone(),
        settings: serde_json::to_string(&p.redacted())?,
    })
}

impl AppState {
    /// A running project.
    pub fn project(&self, id: &str) -> Option<Arc<Project>> {
        self.projects().get(id).cloned()
    }

    /// Every running project, as of now.
    pub fn projects(&self) -> Arc<HashMap<String, Arc<Project>>> {
        match self.projects.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the running projects (their platforms, keys and auth settings) with the
    /// config's, recorded in the store as at start; requests in flight keep the project they
    /// started with. Delivery transports and instance settings stay as they were started.
    /// Nothing changes if the config does not check out.
    pub async fn reload_projects(&self, config: &Config) -> anyhow::Result<usize> {
        config.file.validate()?;
        let settings = config.projects();
        for w in crate::oauth2::check_config(&settings)? {
            tracing::warn!("{w}");
        }
        if config.record_projects {
            for p in &settings {
                self.store
                    .upsert_project(&record(p)?, self.clock.now_ms())
                    .await?;
            }
        }
        let running = Arc::new(running_projects(settings, &self.delivery));
        let count = running.len();
        match self.projects.write() {
            Ok(mut p) => *p = running,
            Err(poisoned) => *poisoned.into_inner() = running,
        }
        Ok(count)
    }

    /// Opens the store and runs the configured projects, on the system clock.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As [`AppState::build`], with the clock every rule reads.
    pub async fn build_with_clock(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        // A config built in code (tests, embedding) gets the same checks as a file.
        config.file.validate()?;
        prepare_data_dir(&config.data_dir)?;
        let url = match &config.database_url {
            Some(u) => u.expose().to_owned(),
            None => format!("sqlite://{}", config.data_dir.join("latchkey.db").display()),
        };
        let cache = Arc::new(ReadCache::new(
            clock.clone(),
            config.file.read_cache_ms.unwrap_or(DEFAULT_TTL_MS),
        ));
        let store = crate::store::open(
            &url,
            config.file.sqlite_synchronous.unwrap_or_default(),
            crate::domain::useragent::parse,
            cache.clone(),
            config.warm_pool,
        )
        .await?;
        // One connection to Redis carries the rate-limit counters and this node's broadcasts.
        let redis = match &config.redis_url {
            Some(url) => Some(crate::abuse::connect_redis(url.expose()).await?),
            None => None,
        };
        // Nodes sharing Redis share the database: their writes reach each other's caches.
        if let Some((client, conn)) = &redis {
            crate::fanout::start(client.clone(), conn.clone(), &cache);
        }
        let instance_key = instance_key(config)?;

        // The config is the source of truth: only the projects it lists run. A project that
        // was listed before keeps its data in the store, refused until it is listed again.
        let settings = config.projects();
        if config.record_projects {
            for p in &settings {
                store.upsert_project(&record(p)?, clock.now_ms()).await?;
            }
        }
        if !config.has_config_file {
            tracing::info!("no config file: running project `default` (web platform: localhost)");
        }
        for w in crate::oauth2::check_config(&settings)? {
            tracing::warn!("{w}");
        }
        let delivery = Delivery::build(
            config.file.smtp.as_ref(),
            config.file.sms.as_ref(),
            &settings,
            config.file.outbox,
        )?;
        let projects = RwLock::new(Arc::new(running_projects(settings, &delivery)));
        crate::domain::useragent::warm_up();
        crate::domain::geo::warm_up();
        Ok(AppState {
            store,
            cache,
            projects,
            placeholder_project: Arc::new(Project::new(ProjectSettings::default_project())),
            hasher: PasswordHasher::new(config.file.passwords)?,
            trusted_proxies: parse_trusted_proxies(config.file.trusted_proxies.as_deref())?,
            clock,
            limiter: match redis {
                Some((_, conn)) => Arc::new(crate::abuse::RedisLimiter::new(conn)),
                None => Arc::new(crate::abuse::MemoryLimiter::default()),
            },
            rate_limits: config.file.rate_limits.unwrap_or(true),
            lockout: config.file.lockout,
            read_timeout: std::time::Duration::from_secs(
                config.file.read_timeout.unwrap_or(DEFAULT_READ_TIMEOUT_S),
            ),
            metrics_token: config.metrics_token.clone(),
            public_url: config
                .file
                .public_url
                .as_deref()
                .filter(|u| !u.is_empty())
                .map(|u| u.trim_end_matches('/').to_owned()),
            outbox: Outbox::new(&instance_key),
            sealer: crate::seal::Sealer::new(&instance_key, "mfa"),
            jwt_keys: crate::domain::jwt_keys::KeyRing::new(&instance_key),
            oauth2: crate::oauth2::Providers::new()?,
            breaches: crate::breach::RangeApi::new(config.file.breached_passwords.clone())?,
            instance_key,
            delivery,
        })
    }
}
