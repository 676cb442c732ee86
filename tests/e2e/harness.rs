//! Starts an in-process server on 127.0.0.1:0 with its own data folder, on SQLite, or on its
//! own PostgreSQL database when `LATCHKEY_TEST_POSTGRES_URL` names a server.

use std::sync::Arc;

use latchkey::config::{KeyConfig, PlatformConfig, ProjectConfig};
use latchkey::domain::passwords::HashParams;
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
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// A session obtained by signing in: the encoded value carried by cookies and headers.
#[derive(Clone, Debug)]
pub struct Login {
    pub user_id: String,
    pub session_id: String,
    pub encoded: String,
}

/// The project every test uses unless it changes the settings.
pub fn test_project() -> ProjectConfig {
    let mut p = latchkey::domain::project::Project::default_settings();
    p.id = PROJECT.into();
    p.name = "Test App".into();
    p.platforms.push(PlatformConfig {
        kind: "web".into(),
        name: None,
        hostname: Some("app.example.com".into()),
        key: None,
    });
    p.keys.push(KeyConfig {
        id: "e2e".into(),
        secret: KEY.into(),
        scopes: vec![
            "sessions.write".into(),
            "users.read".into(),
            "users.write".into(),
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
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::new(dir.path());
    config.has_config_file = true;
    // Cheap hashes keep the suite fast; production parameters are exercised by unit tests.
    config.file.passwords = HashParams {
        memory_cost: 1024,
        time_cost: 1,
        parallelism: 1,
    };
    config.file.projects = vec![test_project()];
    if let Ok(base) = std::env::var("LATCHKEY_TEST_POSTGRES_URL") {
        let name = format!("t_{}", latchkey::domain::ids::random_hex(8));
        let mut conn = sqlx::PgConnection::connect(&base).await.expect("postgres");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create database");
        let (prefix, _) = base.rsplit_once('/').expect("postgres url with a database");
        config.database_url = Some(format!("{prefix}/{name}"));
    }
    change(&mut config);
    let state = Arc::new(AppState::build(&config).await.expect("build state"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = state.clone();
    tokio::spawn(async move {
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
        _dir: dir,
        _shutdown: tx,
    }
}

/// Changes the test project's settings.
pub fn with_project(change: impl FnOnce(&mut ProjectConfig)) -> impl FnOnce(&mut Config) {
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
