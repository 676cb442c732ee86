//! Starts an in-process server on 127.0.0.1:0 with its own data folder, on SQLite, or on its
//! own PostgreSQL database when `LATCHKEY_TEST_POSTGRES_URL` names a server. Its clock is a
//! manual one: tests move time with `app.clock.advance(ms)` instead of sleeping.

use std::sync::Arc;

use latchkey::domain::hashing::HashParams;
use latchkey::domain::project::{KeySettings, PlatformSettings, ProjectSettings};
use latchkey::domain::time::ManualClock;
use latchkey::secret::Secret;
use latchkey::{AppState, Config};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use sqlx::Connection;

pub const PROJECT: &str = "test";
pub const KEY: &str = "standard_e2e_key_0123456789abcdef";
pub const PASSWORD: &str = "correct-horse-battery";
pub const CHROME_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.77 Safari/537.36";

pub struct TestApp {
    pub url: String,
    pub http: reqwest::Client,
    pub state: Arc<AppState>,
    pub clock: Arc<ManualClock>,
    /// The config it was started with; [`TestApp::restart`] starts it again on the same data.
    pub config: Config,
    dir: Arc<tempfile::TempDir>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
}

/// A session obtained by signing in: the encoded value carried by cookies and headers.
#[derive(Clone, Debug)]
pub struct Login {
    pub user_id: String,
    pub session_id: String,
    pub encoded: String,
}

/// The project every test uses unless it changes the settings.
pub fn test_project() -> ProjectSettings {
    let mut p = ProjectSettings::default_project();
    p.id = PROJECT.into();
    p.name = "Test App".into();
    p.platforms.push(PlatformSettings {
        kind: "web".into(),
        name: None,
        hostname: Some("app.example.com".into()),
        key: None,
    });
    p.keys.push(KeySettings {
        id: "e2e".into(),
        secret: Secret::new(KEY),
        scopes: vec![
            "sessions.write".into(),
            "users.read".into(),
            "users.write".into(),
            "targets.read".into(),
            "targets.write".into(),
        ],
        expire: None,
    });
    p
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

/// Starts a server whose config the closure may change first.
pub async fn spawn_with(change: impl FnOnce(&mut Config)) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
    let mut config = Config::new(dir.path().join("data"));
    config.has_config_file = true;
    // Cheap hashes keep the suite fast; production parameters are exercised by unit tests.
    config.file.passwords = HashParams {
        memory_cost: 1024,
        time_cost: 1,
        parallelism: 1,
    };
    config.file.projects = vec![test_project()];
    if let Ok(base) = std::env::var("LATCHKEY_TEST_POSTGRES_URL") {
        config.database_url = Some(Secret::new(new_postgres_database(&base).await));
    }
    change(&mut config);
    start(config, dir, Arc::new(ManualClock::starting_now())).await
}

/// A fresh database on the PostgreSQL server at `base`; its URL.
pub async fn new_postgres_database(base: &str) -> String {
    let name = format!("t_{}", latchkey::domain::ids::random_hex(8));
    let mut conn = sqlx::PgConnection::connect(base).await.expect("postgres");
    // An ICU collation orders text unlike bytes ("github" < "GitHub"), so the tests show
    // that every comparison the store makes is byte-wise whatever the server's locale.
    let icu =
        format!("CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'");
    if sqlx::raw_sql(sqlx::AssertSqlSafe(icu))
        .execute(&mut conn)
        .await
        .is_err()
    {
        eprintln!("no ICU collation on this server: text order is checked in its own locale only");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create database");
    }
    let (prefix, _) = base.rsplit_once('/').expect("postgres url with a database");
    format!("{prefix}/{name}")
}

async fn start(config: Config, dir: Arc<tempfile::TempDir>, clock: Arc<ManualClock>) -> TestApp {
    let state = Arc::new(
        AppState::build_with_clock(&config, clock.clone())
            .await
            .expect("build state"),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = state.clone();
    let handle = tokio::spawn(async move {
        latchkey::serve_state(served, listener, async {
            let _ = rx.await;
        })
        .await
        .expect("serve");
    });
    TestApp {
        url,
        http: reqwest::Client::new(),
        state,
        clock,
        config,
        dir,
        shutdown: Some(tx),
        served: Some(handle),
    }
}

impl TestApp {
    /// Stops this server and starts a new one on the same data and database, with the config
    /// changed by `change` (as an operator editing the config file between runs).
    pub async fn restart(mut self, change: impl FnOnce(&mut Config)) -> TestApp {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.served.take() {
            let _ = h.await;
        }
        let mut config = self.config.clone();
        change(&mut config);
        // The old state holds the store's pools; close them before the new server opens it.
        drop(self.state);
        start(config, self.dir.clone(), self.clock.clone()).await
    }
}

/// Adds a second project, `other`, like the test project but without keys.
pub fn with_other_project(c: &mut Config) {
    let mut other = test_project();
    other.id = "other".into();
    other.keys.clear();
    c.file.projects.push(other);
}

/// Changes the test project's settings.
pub fn with_project(change: impl FnOnce(&mut ProjectSettings)) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| change(&mut c.file.projects[0])
}

pub fn unique_email() -> String {
    format!("user-{}@example.com", latchkey::domain::ids::random_hex(6))
}

impl TestApp {
    /// A request to `path` for the test project.
    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .header("x-appwrite-project", PROJECT)
    }

    /// A request with the test project's API key (the Users API).
    pub fn as_key(&self, method: Method, path: &str) -> RequestBuilder {
        self.req(method, path).header("x-appwrite-key", KEY)
    }

    /// The same request carrying a session in `X-Appwrite-Session`.
    pub fn as_user(&self, method: Method, path: &str, login: &Login) -> RequestBuilder {
        self.req(method, path)
            .header("x-appwrite-session", &login.encoded)
    }

    pub async fn signup(&self, email: &str) -> Value {
        let r = self
            .req(Method::POST, "/v1/account")
            .json(&json!({"userId": "unique()", "email": email, "password": PASSWORD, "name": "Test User"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "signup");
        r.json().await.unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> Login {
        let r = self
            .req(Method::POST, "/v1/account/sessions/email")
            .header("user-agent", CHROME_UA)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "login");
        login_from(r).await
    }

    /// `GET /v1/account` as `login`.
    pub async fn account(&self, login: &Login) -> Value {
        let r = self
            .as_user(Method::GET, "/v1/account", login)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "get account");
        r.json().await.unwrap()
    }

    /// A new user, signed in.
    pub async fn user(&self) -> (String, Login) {
        let email = unique_email();
        self.signup(&email).await;
        let login = self.login(&email, PASSWORD).await;
        (email, login)
    }
}

/// The session of a 201 from a session route, read from `X-Fallback-Cookies`.
pub async fn login_from(r: Response) -> Login {
    let fallback: Value =
        serde_json::from_str(r.headers()["x-fallback-cookies"].to_str().unwrap()).unwrap();
    let encoded = fallback[format!("a_session_{PROJECT}")]
        .as_str()
        .unwrap()
        .to_owned();
    let body: Value = r.json().await.unwrap();
    Login {
        user_id: body["userId"].as_str().unwrap().into(),
        session_id: body["$id"].as_str().unwrap().into(),
        encoded,
    }
}

/// Asserts an Appwrite-shaped error with this status and type, and returns its message.
pub async fn assert_error(r: Response, status: u16, ty: &str) -> String {
    assert_eq!(r.status(), status, "status");
    let body: Value = r.json().await.expect("JSON error body");
    assert_eq!(body["type"], ty, "type in {body}");
    assert_eq!(body["code"], status, "code in {body}");
    assert!(body["version"].is_string());
    body["message"].as_str().expect("message").to_owned()
}

/// Every byte the app's database holds: the SQLite file and its WAL, or every PostgreSQL row
/// as JSON. For checks that no secret is stored.
pub async fn dump_database(app: &TestApp) -> Vec<u8> {
    match &app.config.database_url {
        Some(url) => {
            let mut conn = sqlx::PgConnection::connect(url.expose())
                .await
                .expect("postgres");
            let mut out = Vec::new();
            for table in [
                "projects",
                "users",
                "sessions",
                "targets",
                "identities",
                "audit_logs",
                "authenticators",
                "mfa_challenges",
                "recovery_codes",
            ] {
                let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT row_to_json(t)::text FROM {table} t"
                )))
                .fetch_all(&mut conn)
                .await
                .expect("dump");
                for (row,) in rows {
                    out.extend(row.into_bytes());
                }
            }
            out
        }
        None => {
            let mut out = Vec::new();
            for f in ["latchkey.db", "latchkey.db-wal"] {
                if let Ok(b) = std::fs::read(app.config.data_dir.join(f)) {
                    out.extend(b);
                }
            }
            out
        }
    }
}

/// Whether `haystack` contains `needle`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// `s` form-encoded for a query string.
pub fn url_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A redis-server of our own, so a test can stop it; killed when dropped.
pub struct OwnRedis(std::process::Child);

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl OwnRedis {
    /// Freezes (SIGSTOP) or wakes (SIGCONT) the server: its connections stay open and
    /// nothing answers, as in a network partition.
    pub fn freeze(&self, frozen: bool) {
        let signal = if frozen { "-STOP" } else { "-CONT" };
        let done = std::process::Command::new("kill")
            .args([signal, &self.0.id().to_string()])
            .status()
            .expect("kill");
        assert!(done.success());
    }
}

/// Starts Debian's `redis-server` on `port` (a free one if `None`); `None` when it is not
/// installed or does not answer.
pub fn start_redis(port: Option<u16>) -> Option<(OwnRedis, String)> {
    use std::process::{Command, Stdio};
    let port = match port {
        Some(p) => p,
        None => std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port(),
    };
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let redis = OwnRedis(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((redis, format!("redis://127.0.0.1:{port}/0")));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    None
}
