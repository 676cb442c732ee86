//! The `passwordPwned` policy against a range server on loopback shaped like Have I Been
//! Pwned's (`GET /range/<5 hex>` → `SUFFIX:COUNT` lines).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use latchkey::Config;
use latchkey::domain::breached::PwnedPolicy;
use reqwest::Method;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use crate::harness::*;

const BREACHED: &str = "breached-password-1";
const CLEAN: &str = "a-password-nobody-leaked-7";

#[derive(Clone, Default)]
struct Corpus {
    /// Upper-case SHA-1 hex of the breached passwords.
    hashes: Arc<HashSet<String>>,
    /// The paths asked for, and whether padding was asked for each time.
    seen: Arc<Mutex<Vec<(String, bool)>>>,
    down: Arc<Mutex<bool>>,
}

fn sha1_hex(s: &str) -> String {
    hex::encode_upper(Sha1::digest(s.as_bytes()))
}

async fn range(
    State(c): State<Corpus>,
    Path(prefix): Path<String>,
    headers: HeaderMap,
) -> (StatusCode, String) {
    c.seen.lock().unwrap().push((
        prefix.clone(),
        headers.get("add-padding").is_some_and(|v| v == "true"),
    ));
    if *c.down.lock().unwrap() {
        return (StatusCode::SERVICE_UNAVAILABLE, String::new());
    }
    let mut lines: Vec<String> = c
        .hashes
        .iter()
        .filter_map(|h| h.strip_prefix(&prefix).map(|s| format!("{s}:42")))
        .collect();
    // A padding line for a hash under this prefix that is not breached: count 0.
    lines.push(format!("{}:0", &sha1_hex(CLEAN)[5..]));
    (StatusCode::OK, lines.join("\r\n"))
}

struct RangeServer {
    base: String,
    corpus: Corpus,
}

impl RangeServer {
    async fn start() -> RangeServer {
        let corpus = Corpus {
            hashes: Arc::new([sha1_hex(BREACHED)].into_iter().collect()),
            ..Corpus::default()
        };
        let app = axum::Router::new()
            .route("/range/{prefix}", axum::routing::get(range))
            .with_state(corpus.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        RangeServer { base, corpus }
    }

    fn seen(&self) -> Vec<(String, bool)> {
        self.corpus.seen.lock().unwrap().clone()
    }
}

/// A server looking passwords up at `range` with the project policy `policy`.
fn config(range: &RangeServer, policy: PwnedPolicy, fail_closed: bool) -> impl FnOnce(&mut Config) {
    let endpoint = format!("{}/range/", range.base);
    move |c: &mut Config| {
        c.file.breached_passwords.endpoint = endpoint;
        c.file.breached_passwords.fail_closed = fail_closed;
        c.file.projects[0].auth.password_pwned = policy;
    }
}

async fn sign_up(app: &TestApp, password: &str) -> reqwest::Response {
    app.req(Method::POST, "/v1/account")
        .json(&json!({"userId": "unique()", "email": unique_email(), "password": password}))
        .send()
        .await
        .unwrap()
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.req(Method::POST, "/v1/account/sessions/email")
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_policy_records_what_the_corpus_says_and_only_a_prefix_leaves() {
    let range = RangeServer::start().await;
    let app = spawn_with(config(&range, PwnedPolicy::default(), false)).await;
    let r = sign_up(&app, BREACHED).await;
    assert_eq!(r.status(), 201, "recording only: the sign-up goes through");
    assert_eq!(r.json::<Value>().await.unwrap()["passwordPwned"], true);
    let r = sign_up(&app, CLEAN).await;
    let clean: Value = r.json().await.unwrap();
    assert_eq!(
        clean["passwordPwned"], false,
        "a padding line is not a breach"
    );

    let seen = range.seen();
    assert_eq!(seen.len(), 2);
    for (prefix, padded) in &seen {
        assert_eq!(prefix.len(), 5, "only five hex digits leave: {prefix}");
        assert!(prefix.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(padded, "padding is asked for");
    }
    assert_eq!(seen[0].0, sha1_hex(BREACHED)[..5]);

    // The Users API filters on it, as Appwrite's.
    let q = url_escape(r#"{"method":"equal","attribute":"passwordPwned","values":[true]}"#);
    let r = app
        .as_key(Method::GET, &format!("/v1/users?queries[]={q}"))
        .send()
        .await
        .unwrap();
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["users"][0]["passwordPwned"], true);

    // The answer for a prefix is reused: the same password again asks nothing.
    let r = sign_in(&app, clean["email"].as_str().unwrap(), CLEAN).await;
    assert_eq!(r.status(), 201);
    assert_eq!(range.seen().len(), 2);

    // Clients of formats before 2.0 never see the field.
    let r = app
        .as_key(
            Method::GET,
            &format!("/v1/users/{}", clean["$id"].as_str().unwrap()),
        )
        .header("x-appwrite-response-format", "1.9.0")
        .send()
        .await
        .unwrap();
    assert!(
        r.json::<Value>()
            .await
            .unwrap()
            .get("passwordPwned")
            .is_none()
    );
}

#[tokio::test]
async fn with_users_on_a_breached_new_password_is_refused_and_nothing_is_written() {
    let range = RangeServer::start().await;
    let policy = PwnedPolicy {
        users: true,
        ..PwnedPolicy::default()
    };
    let app = spawn_with(config(&range, policy, false)).await;
    assert_error(sign_up(&app, BREACHED).await, 400, "password_pwned").await;
    let r = app.as_key(Method::GET, "/v1/users").send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["total"], 0);

    let r = sign_up(&app, CLEAN).await;
    let user: Value = r.json().await.unwrap();
    let email = user["email"].as_str().unwrap();
    let login = app.login(email, CLEAN).await;
    let r = app
        .as_user(Method::PATCH, "/v1/account/password", &login)
        .json(&json!({"password": BREACHED, "oldPassword": CLEAN}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "password_pwned").await;
    // The Users API's password routes follow the same policy.
    let r = app
        .as_key(
            Method::PATCH,
            &format!("/v1/users/{}/password", login.user_id),
        )
        .json(&json!({"password": BREACHED}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "password_pwned").await;
    let r = app
        .as_key(Method::POST, "/v1/users")
        .json(&json!({"userId": "unique()", "email": unique_email(), "password": BREACHED}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "password_pwned").await;
    // The old password still signs in.
    assert_eq!(sign_in(&app, email, CLEAN).await.status(), 201);
}

#[tokio::test]
async fn with_sessions_on_a_breached_sign_in_is_recorded_and_refused_until_a_reset() {
    let range = RangeServer::start().await;
    // Made while the policy was off: never looked up.
    let app = spawn_with(config(
        &range,
        PwnedPolicy {
            enabled: false,
            ..PwnedPolicy::default()
        },
        false,
    ))
    .await;
    let r = sign_up(&app, BREACHED).await;
    let user: Value = r.json().await.unwrap();
    assert_eq!(user["passwordPwned"], Value::Null);
    assert!(range.seen().is_empty(), "a policy that is off asks nothing");
    let email = user["email"].as_str().unwrap().to_owned();

    let app = app
        .restart(config(
            &range,
            PwnedPolicy {
                sessions: true,
                ..PwnedPolicy::default()
            },
            false,
        ))
        .await;
    assert_error(
        sign_in(&app, &email, "wrong-password-1").await,
        401,
        "user_invalid_credentials",
    )
    .await;
    assert_error(
        sign_in(&app, &email, BREACHED).await,
        412,
        "user_password_reset_required",
    )
    .await;
    let r = app
        .as_key(
            Method::GET,
            &format!("/v1/users/{}", user["$id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["passwordPwned"],
        true,
        "recorded although the sign-in was refused"
    );
    // A new password set by the server (here the Users API) lets the user in again.
    app.as_key(
        Method::PATCH,
        &format!("/v1/users/{}/password", user["$id"].as_str().unwrap()),
    )
    .json(&json!({"password": CLEAN}))
    .send()
    .await
    .unwrap();
    let r = sign_in(&app, &email, CLEAN).await;
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn an_unreachable_corpus_fails_open_unless_told_to_fail_closed() {
    let range = RangeServer::start().await;
    *range.corpus.down.lock().unwrap() = true;
    let blocking = PwnedPolicy {
        users: true,
        ..PwnedPolicy::default()
    };
    let app = spawn_with(config(&range, blocking.clone(), false)).await;
    let r = sign_up(&app, BREACHED).await;
    assert_eq!(r.status(), 201, "fail open: accepted");
    assert_eq!(
        r.json::<Value>().await.unwrap()["passwordPwned"],
        Value::Null,
        "not known, so not recorded"
    );
    let app = app.restart(config(&range, blocking, true)).await;
    assert_error(
        sign_up(&app, CLEAN).await,
        503,
        "general_pwned_passwords_unavailable",
    )
    .await;
    *range.corpus.down.lock().unwrap() = false;
    assert_eq!(sign_up(&app, CLEAN).await.status(), 201);
}

#[tokio::test]
async fn a_password_known_to_be_breached_is_refused_while_the_corpus_is_down() {
    let range = RangeServer::start().await;
    let app = spawn_with(config(&range, PwnedPolicy::default(), false)).await;
    let user: Value = sign_up(&app, BREACHED).await.json().await.unwrap();
    assert_eq!(user["passwordPwned"], true);
    let email = user["email"].as_str().unwrap().to_owned();
    let app = app
        .restart(config(
            &range,
            PwnedPolicy {
                sessions: true,
                ..PwnedPolicy::default()
            },
            false,
        ))
        .await;
    *range.corpus.down.lock().unwrap() = true;
    // Failing open accepts what cannot be looked up, but not what is already recorded.
    assert_error(
        sign_in(&app, &email, BREACHED).await,
        412,
        "user_password_reset_required",
    )
    .await;
}

#[tokio::test]
async fn an_anonymous_account_cannot_take_a_breached_password_when_users_is_on() {
    let range = RangeServer::start().await;
    let policy = PwnedPolicy {
        users: true,
        ..PwnedPolicy::default()
    };
    let app = spawn_with(config(&range, policy, false)).await;
    let r = app
        .req(Method::POST, "/v1/account/sessions/anonymous")
        .send()
        .await
        .unwrap();
    let login = login_from(r).await;
    let r = app
        .as_user(Method::PATCH, "/v1/account/email", &login)
        .json(&json!({"email": unique_email(), "password": BREACHED}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "password_pwned").await;
    let r = app
        .as_user(Method::PATCH, "/v1/account/email", &login)
        .json(&json!({"email": unique_email(), "password": CLEAN}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["passwordPwned"], false);
}
