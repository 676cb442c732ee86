//! Crash durability on the real binary: 32 clients create accounts, sign in and change
//! passwords while the server is killed with SIGKILL; after a restart every acknowledged
//! write is there, every unacknowledged one is wholly there or wholly absent, and the store
//! passes its integrity checks. Runs on SQLite, and on PostgreSQL too when
//! `LATCHKEY_TEST_POSTGRES_URL` is set.

#[path = "support/binary.rs"]
mod binary;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use binary::*;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Connection;

const CLIENTS: usize = 32;
const PROJECT: &str = "p";

/// What a client knows of one account when the server dies.
#[derive(Debug, Clone)]
struct Account {
    id: String,
    email: String,
    /// The sign-up was acknowledged (201).
    created: bool,
    /// Passwords it may have now: one when the last change was acknowledged or never sent,
    /// two when a change was in flight.
    passwords: Vec<String>,
    /// An acknowledged session secret.
    session: Option<String>,
}

struct Load {
    stop: AtomicBool,
    in_flight: AtomicUsize,
    acknowledged: AtomicUsize,
    /// Answers other than 2xx before the kill: under this load there must be none.
    refused: AtomicUsize,
}

fn call(http: &reqwest::Client, url: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
    http.request(method, format!("{url}{path}"))
        .header("x-appwrite-project", PROJECT)
        .timeout(Duration::from_secs(20))
}

/// Sends one request, counted as in flight until it is answered; `None` when it was not.
async fn send(load: &Load, req: reqwest::RequestBuilder) -> Option<reqwest::Response> {
    load.in_flight.fetch_add(1, Ordering::SeqCst);
    let r = req.send().await.ok();
    load.in_flight.fetch_sub(1, Ordering::SeqCst);
    if r.as_ref().is_some_and(|r| !r.status().is_success()) && !load.stop.load(Ordering::SeqCst) {
        load.refused.fetch_add(1, Ordering::SeqCst);
    }
    let r = r.filter(|r| r.status().is_success());
    if r.is_some() {
        load.acknowledged.fetch_add(1, Ordering::SeqCst);
    }
    r
}

fn session_of(r: &reqwest::Response) -> Option<String> {
    let fallback: Value =
        serde_json::from_str(r.headers().get("x-fallback-cookies")?.to_str().ok()?).ok()?;
    fallback[format!("a_session_{PROJECT}")]
        .as_str()
        .map(str::to_owned)
}

/// One client: sign up, sign in, change the password twice, then the next account.
async fn client(n: usize, url: String, load: Arc<Load>) -> Vec<Account> {
    let http = reqwest::Client::new();
    let mut accounts = vec![];
    for round in 0.. {
        if load.stop.load(Ordering::SeqCst) {
            break;
        }
        let id = format!("c{n}r{round}");
        let first = format!("first-password-{id}");
        let mut a = Account {
            id: id.clone(),
            email: format!("{id}@durable.test"),
            created: false,
            passwords: vec![first.clone()],
            session: None,
        };
        let body = json!({"userId": id, "email": a.email, "password": first});
        let created = send(
            &load,
            call(&http, &url, Method::POST, "/v1/account").json(&body),
        )
        .await;
        a.created = created.is_some();
        if !a.created {
            accounts.push(a);
            break;
        }
        let body = json!({"email": a.email, "password": first});
        let Some(r) = send(
            &load,
            call(&http, &url, Method::POST, "/v1/account/sessions/email").json(&body),
        )
        .await
        else {
            accounts.push(a);
            break;
        };
        a.session = session_of(&r);
        let session = a.session.clone().expect("a session secret");
        let mut died = false;
        for change in 1..=2 {
            let old = a.passwords[0].clone();
            let new = format!("changed-{change}-{id}");
            let body = json!({"password": new, "oldPassword": old});
            let req = call(&http, &url, Method::PATCH, "/v1/account/password")
                .header("x-appwrite-session", &session)
                .json(&body);
            if send(&load, req).await.is_some() {
                a.passwords = vec![new];
            } else {
                a.passwords = vec![old, new];
                died = true;
                break;
            }
        }
        accounts.push(a);
        if died {
            break;
        }
    }
    accounts
}

async fn login(http: &reqwest::Client, url: &str, email: &str, password: &str) -> u16 {
    call(http, url, Method::POST, "/v1/account/sessions/email")
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Rows that point at nothing, and accounts written without their email target or audit
/// record: both must be zero whatever the crash interrupted.
const ORPHANS: &[(&str, &str)] = &[
    (
        "sessions without a user",
        "SELECT COUNT(*) FROM sessions s WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.project_id = s.project_id AND u.id = s.user_id)",
    ),
    (
        "targets without a user",
        "SELECT COUNT(*) FROM targets t WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.project_id = t.project_id AND u.id = t.user_id)",
    ),
    (
        "users without their email target",
        "SELECT COUNT(*) FROM users u WHERE u.email IS NOT NULL AND NOT EXISTS (SELECT 1 FROM targets t WHERE t.project_id = u.project_id AND t.user_id = u.id AND t.provider_type = 'email')",
    ),
    (
        "users without their user.create audit",
        "SELECT COUNT(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM audit_logs a WHERE a.project_id = u.project_id AND a.user_id = u.id AND a.event = 'user.create')",
    ),
    (
        "users without a password",
        "SELECT COUNT(*) FROM users u WHERE u.password IS NULL",
    ),
];

async fn run(database: Option<String>) {
    let backend = if database.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("latchkey.toml");
    std::fs::write(
        &config,
        "rateLimits = false\n[passwords]\nmemoryCost = 1024\ntimeCost = 1\nparallelism = 1\n\
         [[projects]]\nid = \"p\"\nname = \"Durable\"\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let mut args = vec!["--config".to_owned(), config.display().to_string()];
    if let Some(db) = &database {
        args.extend(["--database-url".to_owned(), db.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = start(&args, &data);
    let load = Arc::new(Load {
        stop: AtomicBool::new(false),
        in_flight: AtomicUsize::new(0),
        acknowledged: AtomicUsize::new(0),
        refused: AtomicUsize::new(0),
    });
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| tokio::spawn(client(n, server.url.clone(), load.clone())))
        .collect();
    // Kill once the load is well under way (or after 20 s on a slow machine).
    for _ in 0..200 {
        if load.acknowledged.load(Ordering::SeqCst) >= 600 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut killed = server.child;
    let in_flight = load.in_flight.load(Ordering::SeqCst);
    killed.kill().unwrap(); // SIGKILL
    load.stop.store(true, Ordering::SeqCst);
    killed.wait().unwrap();
    let mut accounts = vec![];
    for c in clients {
        accounts.extend(c.await.unwrap());
    }
    let acknowledged = load.acknowledged.load(Ordering::SeqCst);
    assert!(
        acknowledged >= 100,
        "{backend}: only {acknowledged} requests succeeded before the kill"
    );
    assert_eq!(
        load.refused.load(Ordering::SeqCst),
        0,
        "{backend}: requests refused under load"
    );

    let server = start(&args, &data);
    let http = reqwest::Client::new();
    let (mut unacknowledged_present, mut absent) = (0, 0);
    for a in &accounts {
        let working: Vec<&String> = {
            let mut w = vec![];
            for p in &a.passwords {
                if login(&http, &server.url, &a.email, p).await == 201 {
                    w.push(p);
                }
            }
            w
        };
        if a.created {
            assert_eq!(
                working.len(),
                1,
                "{backend}: acknowledged account {} signs in with exactly one of {:?}",
                a.id,
                a.passwords
            );
        } else if working.is_empty() {
            // Wholly absent: its id and email are free again.
            let body = json!({"userId": a.id, "email": a.email, "password": "password-again-1"});
            let r = call(&http, &server.url, Method::POST, "/v1/account")
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                201,
                "{backend}: unacknowledged {} is half there",
                a.id
            );
            absent += 1;
            continue;
        }
        if !a.created {
            unacknowledged_present += 1;
        }
        if let Some(s) = &a.session {
            let r = call(&http, &server.url, Method::GET, "/v1/account")
                .header("x-appwrite-session", s)
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                200,
                "{backend}: acknowledged session of {}",
                a.id
            );
        }
    }
    assert!(terminate(server).success());

    let url = database
        .unwrap_or_else(|| format!("sqlite://{}?mode=ro", data.join("latchkey.db").display()));
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    if backend == "sqlite" {
        let check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(check, "ok");
        let broken = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert_eq!(broken.len(), 0, "rows breaking a foreign key");
    }
    for &(what, sql) in ORPHANS {
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
        assert_eq!(n, 0, "{backend}: {what}");
    }
    eprintln!(
        "durability on {backend}: {acknowledged} requests acknowledged, {in_flight} in flight at SIGKILL; \
         afterwards all {} acknowledged accounts and sessions work, and of {} unacknowledged sign-ups \
         {unacknowledged_present} are wholly present and {absent} wholly absent",
        accounts.iter().filter(|a| a.created).count(),
        accounts.iter().filter(|a| !a.created).count()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_under_load_loses_nothing_acknowledged_and_half_writes_nothing() {
    run(None).await;
    if let Ok(base) = std::env::var("LATCHKEY_TEST_POSTGRES_URL") {
        let name = format!("d_{}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        let (prefix, _) = base.rsplit_once('/').unwrap();
        run(Some(format!("{prefix}/{name}"))).await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
    }
}
