//! The hardening of the foundation: routing of empty segments, check order, JWT binding and
//! messages, bounded user agents, equal-cost logins, config ranges.

use base64::Engine;
use latchkey::domain::time::Clock;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

#[tokio::test]
async fn a_trailing_slash_never_widens_a_delete_to_every_session_or_the_account() {
    let app = spawn_app().await;
    let (email, login) = app.user().await;
    let second = app.login(&email, PASSWORD).await;
    for path in [
        "/v1/account/sessions/",
        "/v1/account/sessions//",
        "/v1/account/",
    ] {
        let r = app
            .as_user(Method::DELETE, path, &login)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_error(r, 404, "general_route_not_found").await;
    }
    for l in [&login, &second] {
        let r = app
            .as_user(Method::GET, "/v1/account/sessions/", l)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "reads collapse empty segments, as Appwrite's router"
        );
        assert_eq!(r.json::<Value>().await.unwrap()["total"], 2);
    }
}

#[tokio::test]
async fn a_disallowed_origin_is_refused_before_an_unknown_route_or_project() {
    let app = spawn_app().await;
    let r = app
        .req(Method::GET, "/v1/account/nothing-here")
        .header("origin", "https://evil.io")
        .send()
        .await
        .unwrap();
    let msg = assert_error(r, 403, "general_unknown_origin").await;
    assert_eq!(
        msg,
        "Invalid Origin. Register your new client (evil.io) as a new Web platform on your project console dashboard"
    );
    let r = app
        .http
        .get(format!("{}/v1/account", app.url))
        .header("x-appwrite-project", "nope")
        .header("origin", "https://evil.io")
        .send()
        .await
        .unwrap();
    assert_error(r, 403, "general_unknown_origin").await;
    // An allowed origin still reaches the 404.
    let r = app
        .req(Method::GET, "/v1/account/nothing-here")
        .header("origin", "http://localhost:3000")
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "general_route_not_found").await;
}

#[tokio::test]
async fn x_debug_fallback_says_whether_the_fallback_header_was_consulted() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let debug =
        |r: &reqwest::Response| r.headers()["x-debug-fallback"].to_str().unwrap().to_owned();
    let r = app
        .as_user(Method::GET, "/v1/account", &login)
        .send()
        .await
        .unwrap();
    assert_eq!(debug(&r), "false");
    let r = app.req(Method::GET, "/v1/account").send().await.unwrap();
    assert_eq!(
        debug(&r),
        "true",
        "a guest has no cookie, so the fallback is read"
    );
    let fallback = json!({ format!("a_session_{PROJECT}"): login.encoded }).to_string();
    let r = app
        .req(Method::GET, "/v1/account")
        .header("x-fallback-cookies", fallback)
        .send()
        .await
        .unwrap();
    assert_eq!(debug(&r), "true");
    assert_eq!(r.status(), 200);
}

fn jwt_with(app: &TestApp, claims: Value) -> String {
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let head = b64(&json!({"typ": "JWT", "alg": "HS256"}));
    let message = format!("{head}.{}", b64(&claims));
    let key = jsonwebtoken::EncodingKey::from_secret(app.state.instance_key.expose().as_bytes());
    let sig = jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::HS256)
        .unwrap();
    format!("{message}.{sig}")
}

#[tokio::test]
async fn a_jwt_works_only_in_its_project_and_a_sessionless_one_only_for_its_user() {
    let app = spawn_with(with_other_project).await;
    let (_, login) = app.user().await;
    let r = app
        .as_user(Method::POST, "/v1/account/jwts", &login)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let token = r.json::<Value>().await.unwrap()["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .http
        .get(format!("{}/v1/account", app.url))
        .header("x-appwrite-project", "other")
        .header("x-appwrite-jwt", &token)
        .send()
        .await
        .unwrap();
    let msg = assert_error(r, 401, "user_jwt_invalid").await;
    assert!(msg.starts_with("Failed to verify JWT."), "{msg}");
    let exp = app.clock.now_ms() / 1000 + 600;
    let sessionless = jwt_with(
        &app,
        json!({"userId": login.user_id, "sessionId": "", "projectId": PROJECT, "exp": exp}),
    );
    // Session-less JWTs are what `users.createJWT` makes for a user without a session
    // (Appwrite's behaviour): they stand for the user, in their project only.
    let r = app
        .req(Method::GET, "/v1/account")
        .header("x-appwrite-jwt", &sessionless)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .http
        .get(format!("{}/v1/account", app.url))
        .header("x-appwrite-project", "other")
        .header("x-appwrite-jwt", &sessionless)
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_jwt_invalid").await;
    let good = jwt_with(
        &app,
        json!({"userId": login.user_id, "sessionId": login.session_id, "projectId": PROJECT, "exp": exp}),
    );
    let r = app
        .req(Method::GET, "/v1/account")
        .header("x-appwrite-jwt", good)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "the same claims with a session and this project pass"
    );
}

#[tokio::test]
async fn jwt_failures_carry_appwrites_messages_not_library_text() {
    let app = spawn_app().await;
    let none = format!(
        "{}.{}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"userId":"x"}"#)
    );
    for (token, message) in [
        (
            none.as_str(),
            "Failed to verify JWT. Invalid token: Unsupported header algo",
        ),
        (
            "abc",
            "Failed to verify JWT. Invalid token: Incomplete segments",
        ),
    ] {
        let r = app
            .req(Method::GET, "/v1/account")
            .header("x-appwrite-jwt", token)
            .send()
            .await
            .unwrap();
        assert_eq!(assert_error(r, 401, "user_jwt_invalid").await, message);
    }
}

#[tokio::test]
async fn a_huge_user_agent_is_cut_to_appwrites_size_not_refused() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signup(&email).await;
    let agent = format!("{} {}", CHROME_UA, "x".repeat(40_000));
    let r = app
        .req(Method::POST, "/v1/account/sessions/email")
        .header("user-agent", &agent)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let login = login_from(r).await;
    let stored = app
        .state
        .store
        .find_session(PROJECT, &login.user_id, &login.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.user_agent.len(), 16_384);
    assert_eq!(
        stored.ua.client_name, "Chrome",
        "parsed once, from the kept part"
    );
    let logs: Value = app
        .as_user(Method::GET, "/v1/account/logs", &login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(logs["logs"][0]["clientName"], "Chrome");
}

#[tokio::test]
async fn every_failed_login_costs_exactly_one_hash_with_or_without_a_password() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signup(&email).await;
    // A user that has an email but never set a password.
    let passwordless = unique_email();
    let mut tx = app.state.store.begin().await.unwrap();
    let mut u = latchkey::domain::accounts::new_user("nopass".into(), 1);
    u.email = Some(passwordless.clone());
    tx.insert_user(PROJECT, &u).await.unwrap();
    tx.commit().await.unwrap();
    for who in [email.as_str(), passwordless.as_str(), "nobody@example.com"] {
        let before = app.state.hasher.hashes_done();
        let r = app
            .req(Method::POST, "/v1/account/sessions/email")
            .json(&json!({"email": who, "password": "wrong-password"}))
            .send()
            .await
            .unwrap();
        assert_error(r, 401, "user_invalid_credentials").await;
        assert_eq!(app.state.hasher.hashes_done() - before, 1, "{who}");
    }
}

#[tokio::test]
async fn config_values_outside_appwrites_ranges_stop_the_server() {
    let dir = tempfile::tempdir().unwrap();
    for change in [
        (|p: &mut latchkey::domain::project::ProjectSettings| p.auth.duration = u64::MAX)
            as fn(&mut latchkey::domain::project::ProjectSettings),
        |p| p.auth.max_sessions = 5001,
        |p| p.auth.duration = 0,
    ] {
        let mut config = latchkey::Config::new(dir.path().join("data"));
        config.has_config_file = true;
        let mut project = test_project();
        change(&mut project);
        config.file.projects = vec![project];
        let e = latchkey::AppState::build(&config)
            .await
            .err()
            .expect("refused");
        assert!(e.to_string().contains("projects[0].auth"), "{e}");
    }
}
