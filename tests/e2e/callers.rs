//! Who is calling: API keys (scopes, expiry, revealed secrets, the server-side `setSession`
//! pattern), forwarded user agents and client addresses behind trusted proxies.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

#[tokio::test]
async fn an_api_key_creates_sessions_sees_the_secret_and_set_session_works() {
    let app = spawn_app().await;
    let email = unique_email();
    let r = app
        .req(Method::POST, "/v1/account")
        .header("x-appwrite-key", KEY)
        .json(&json!({"userId": "unique()", "email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = app
        .req(Method::POST, "/v1/account/sessions/email")
        .header("x-appwrite-key", KEY)
        .header("x-forwarded-user-agent", CHROME_UA)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let s: Value = r.json().await.unwrap();
    let secret = s["secret"].as_str().unwrap();
    assert!(!secret.is_empty());
    assert_eq!(
        s["clientName"], "Chrome",
        "X-Forwarded-User-Agent counts for keys"
    );
    let (user_id, raw) = latchkey::domain::sessions::decode_session(secret).unwrap();
    assert_eq!(user_id, s["userId"].as_str().unwrap());
    assert_eq!(raw.len(), 256);
    let r = app
        .req(Method::GET, "/v1/account")
        .header("x-appwrite-session", secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["email"], email);
}

#[tokio::test]
async fn keys_are_checked_and_cannot_act_as_an_account() {
    let app = spawn_with(with_project(|p| {
        p.keys.push(latchkey::config::KeyConfig {
            id: "old".into(),
            secret: "standard_expired_key_000000000".into(),
            scopes: vec!["sessions.write".into()],
            expire: Some("2020-01-01T00:00:00.000+00:00".into()),
        })
    }))
    .await;
    let r = app
        .req(Method::GET, "/v1/account")
        .header("x-appwrite-key", KEY)
        .send()
        .await
        .unwrap();
    let msg = assert_error(r, 401, "general_unauthorized_scope").await;
    assert!(msg.contains("role: applications"), "{msg}");
    let r = app
        .req(Method::POST, "/v1/account")
        .header("x-appwrite-key", "standard_unknown")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_unauthorized").await;
    let r = app
        .req(Method::POST, "/v1/account")
        .header("x-appwrite-key", "standard_expired_key_000000000")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "project_key_expired").await;
}

#[tokio::test]
async fn forwarded_user_agent_is_ignored_without_a_key() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signup(&email).await;
    let r = app
        .req(Method::POST, "/v1/account/sessions/email")
        .header("user-agent", "UNKNOWN")
        .header("x-forwarded-user-agent", CHROME_UA)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["clientName"], "");
}

#[tokio::test]
async fn client_ip_comes_from_x_forwarded_for_only_behind_a_trusted_proxy() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signup(&email).await;
    let login = |app: &TestApp| {
        app.req(Method::POST, "/v1/account/sessions/email")
            .header("x-forwarded-for", "8.8.8.8, 10.0.0.1")
            .json(&json!({"email": email, "password": PASSWORD}))
    };
    let s: Value = login(&app).send().await.unwrap().json().await.unwrap();
    assert_eq!(s["ip"], "8.8.8.8");
    assert_eq!(s["countryCode"], "us");
    assert_eq!(s["countryName"], "United States");
    let app = spawn_with(|c| c.file.trusted_proxies = Some(vec!["10.9.9.9".into()])).await;
    app.signup(&email).await;
    let s: Value = login(&app).send().await.unwrap().json().await.unwrap();
    assert_eq!(s["ip"], "127.0.0.1");
}
