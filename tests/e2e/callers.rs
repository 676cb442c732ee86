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
    assert_eq!(raw.expose().len(), 256);
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
        p.keys.push(latchkey::domain::project::KeySettings {
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
    let login = |app: &TestApp, xff: &str| {
        app.req(Method::POST, "/v1/account/sessions/email")
            .header("x-forwarded-for", xff)
            .json(&json!({"email": email, "password": PASSWORD}))
    };
    // The test client is the trusted proxy (loopback); it appended 8.8.8.8, the address it
    // saw. Whatever the client itself put on the left is not believed.
    let s: Value = login(&app, "1.2.3.4, 8.8.8.8")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["ip"], "8.8.8.8");
    assert_eq!(s["countryCode"], "us");
    assert_eq!(s["countryName"], "United States");
    // Trusted hops on the right are skipped.
    let app = spawn_with(|c| {
        c.file.trusted_proxies = Some(vec!["127.0.0.1".into(), "10.0.0.0/8".into()])
    })
    .await;
    app.signup(&email).await;
    let s: Value = login(&app, "8.8.8.8, 10.0.0.7")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["ip"], "8.8.8.8");
    // A peer that is not a trusted proxy is the client, whatever it forwards.
    let app = spawn_with(|c| c.file.trusted_proxies = Some(vec!["10.9.9.9".into()])).await;
    app.signup(&email).await;
    let s: Value = login(&app, "8.8.8.8")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["ip"], "127.0.0.1");
}

#[tokio::test]
async fn forwarded_https_sets_secure_cookies_only_from_a_trusted_proxy() {
    let secure = |app: &TestApp, email: &str| {
        let rb = app
            .req(Method::POST, "/v1/account/sessions/email")
            .header("x-forwarded-proto", "https")
            .json(&json!({"email": email, "password": PASSWORD}));
        async move {
            let r = rb.send().await.unwrap();
            assert_eq!(r.status(), 201);
            r.headers()
                .get_all("set-cookie")
                .iter()
                .all(|c| c.to_str().unwrap().contains("; secure"))
        }
    };
    let app = spawn_app().await;
    let (email, _) = app.user().await;
    assert!(secure(&app, &email).await, "loopback is a trusted proxy");
    let app = spawn_with(|c| c.file.trusted_proxies = Some(vec!["10.9.9.9".into()])).await;
    let (email, _) = app.user().await;
    assert!(
        !secure(&app, &email).await,
        "an untrusted peer cannot claim https"
    );
}
