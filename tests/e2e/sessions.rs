//! `/v1/account/sessions*`: creation, transport (cookies, headers), list/get/extend/delete,
//! eviction and anonymous sessions.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

#[tokio::test]
async fn login_sets_both_cookies_the_fallback_header_and_a_blank_secret() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signup(&email).await;
    let r = app
        .req(Method::POST, "/v1/account/sessions/email")
        .header("user-agent", CHROME_UA)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().into())
        .collect();
    assert_eq!(cookies.len(), 2);
    assert!(
        cookies[0].starts_with(&format!("a_session_{PROJECT}_legacy="))
            && !cookies[0].contains("samesite")
    );
    assert!(
        cookies[1].starts_with(&format!("a_session_{PROJECT}="))
            && cookies[1].contains("samesite=None")
    );
    assert!(
        cookies
            .iter()
            .all(|c| c.contains("httponly") && c.contains("path=/") && !c.contains("domain"))
    );
    assert!(r.headers().contains_key("x-fallback-cookies"));
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["secret"], "");
    assert_eq!(s["current"], true);
    assert_eq!(s["provider"], "email");
    assert_eq!(s["providerUid"], email);
    assert_eq!(s["factors"], json!(["password"]));
    assert_eq!(s["countryCode"], "--");
    assert_eq!(s["countryName"], "Unknown");
    // Appwrite's reference values for this user agent (spec §3.7).
    assert_eq!(
        (
            s["osCode"].as_str(),
            s["osName"].as_str(),
            s["osVersion"].as_str()
        ),
        (Some("WIN"), Some("Windows"), Some("10"))
    );
    assert_eq!(
        (
            s["clientType"].as_str(),
            s["clientCode"].as_str(),
            s["clientName"].as_str()
        ),
        (Some("browser"), Some("CH"), Some("Chrome"))
    );
    assert_eq!(
        (s["clientVersion"].as_str(), s["clientEngine"].as_str()),
        (Some("70.0"), Some("Blink"))
    );
    assert_eq!(
        (
            s["deviceName"].as_str(),
            s["deviceBrand"].as_str(),
            s["deviceModel"].as_str()
        ),
        (Some("desktop"), Some(""), Some(""))
    );
}

#[tokio::test]
async fn a_same_site_origin_gets_no_fallback_header() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signup(&email).await;
    let r = app
        .req(Method::POST, "/v1/account/sessions/email")
        .header("host", "api.example.com")
        .header("origin", "https://app.example.com")
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert!(!r.headers().contains_key("x-fallback-cookies"));
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .next()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("domain=.api.example.com"), "{cookie}");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_give_401_user_invalid_credentials() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signup(&email).await;
    for (e, p) in [
        (email.as_str(), "wrong-password"),
        ("nobody@example.com", PASSWORD),
    ] {
        let r = app
            .req(Method::POST, "/v1/account/sessions/email")
            .json(&json!({"email": e, "password": p}))
            .send()
            .await
            .unwrap();
        let msg = assert_error(r, 401, "user_invalid_credentials").await;
        assert_eq!(
            msg,
            "Invalid credentials. Please check the email and password."
        );
    }
}

#[tokio::test]
async fn a_logged_in_user_posting_garbage_to_email_session_gets_session_already_exists() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let r = app
        .as_user(Method::POST, "/v1/account/sessions/email", &login)
        .body("garbage")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_session_already_exists").await;
    let r = app
        .as_user(Method::POST, "/v1/account/sessions/anonymous", &login)
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_session_already_exists").await;
}

#[tokio::test]
async fn every_session_transport_authenticates_the_same_user() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let cookie = format!("a_session_{PROJECT}={}", login.encoded.replace('=', "%3D"));
    let legacy = format!("a_session_{PROJECT}_legacy={}", login.encoded);
    let fallback = json!({ format!("a_session_{PROJECT}"): login.encoded }).to_string();
    let requests = [
        app.req(Method::GET, "/v1/account").header("cookie", cookie),
        app.req(Method::GET, "/v1/account")
            .header("cookie", format!("other=1; {legacy}; path=/; httponly")),
        app.req(Method::GET, "/v1/account")
            .header("x-appwrite-session", &login.encoded),
        app.req(Method::GET, "/v1/account")
            .header("x-fallback-cookies", fallback),
    ];
    for rb in requests {
        let r = rb.send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["$id"], login.user_id);
    }
    // A tampered secret is a guest, not an error.
    let bad = latchkey::domain::sessions::encode_session(&login.user_id, "00");
    let r = app
        .req(Method::GET, "/v1/account")
        .header("x-appwrite-session", bad)
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "general_unauthorized_scope").await;
}

#[tokio::test]
async fn list_and_get_sessions_mark_the_current_one() {
    let app = spawn_app().await;
    let (email, first) = app.user().await;
    let second = app.login(&email, PASSWORD).await;
    let r = app
        .as_user(Method::GET, "/v1/account/sessions", &second)
        .send()
        .await
        .unwrap();
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["total"], 2);
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions[0]["$id"], first.session_id, "oldest first");
    assert_eq!(sessions[0]["current"], false);
    assert_eq!(sessions[1]["current"], true);
    assert!(sessions.iter().all(|s| s["secret"] == ""));
    let r = app
        .as_user(Method::GET, "/v1/account/sessions/current", &second)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["$id"], second.session_id);
    let r = app
        .as_user(
            Method::GET,
            &format!("/v1/account/sessions/{}", first.session_id),
            &second,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["current"], false);
    let r = app
        .as_user(Method::GET, "/v1/account/sessions/unknown", &second)
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "user_session_not_found").await;
}

#[tokio::test]
async fn another_users_session_is_not_found() {
    let app = spawn_app().await;
    let (_, a) = app.user().await;
    let (_, b) = app.user().await;
    let path = format!("/v1/account/sessions/{}", a.session_id);
    let r = app.as_user(Method::GET, &path, &b).send().await.unwrap();
    assert_error(r, 404, "user_session_not_found").await;
    let r = app
        .as_user(Method::DELETE, &path, &b)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "user_session_not_found").await;
}

#[tokio::test]
async fn update_session_extends_the_expiry() {
    let app = spawn_with(with_project(|p| p.auth.duration = 60)).await;
    let (_, login) = app.user().await;
    let before: Value = app
        .as_user(Method::GET, "/v1/account/sessions/current", &login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    app.clock.advance(20_000);
    let r = app
        .as_user(Method::PATCH, "/v1/account/sessions/current", &login)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let after: Value = r.json().await.unwrap();
    assert!(after["expire"].as_str().unwrap() > before["expire"].as_str().unwrap());
}

#[tokio::test]
async fn session_expire_follows_the_project_duration_and_expired_sessions_are_guests() {
    let app = spawn_with(with_project(|p| p.auth.duration = 5)).await;
    let (_, login) = app.user().await;
    let s: Value = app
        .as_user(Method::GET, "/v1/account/sessions/current", &login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let created = s["$createdAt"].as_str().unwrap();
    let expire = s["expire"].as_str().unwrap();
    assert!(expire > created);
    app.clock.advance(4_000);
    let r = app
        .as_user(Method::GET, "/v1/account", &login)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "still valid before its expiry");
    app.clock.advance(1_001);
    let r = app
        .as_user(Method::GET, "/v1/account", &login)
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "general_unauthorized_scope").await;
}

#[tokio::test]
async fn deleting_the_current_session_expires_cookies_and_logs_out() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let r = app
        .as_user(Method::DELETE, "/v1/account/sessions/current", &login)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["content-type"], "text/html; charset=UTF-8");
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().into())
        .collect();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with(&format!("a_session_{PROJECT}=deleted")))
    );
    assert_eq!(r.headers()["x-fallback-cookies"], "[]");
    assert!(r.bytes().await.unwrap().is_empty());
    let r = app
        .as_user(Method::GET, "/v1/account", &login)
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "general_unauthorized_scope").await;
}

#[tokio::test]
async fn delete_sessions_ends_every_session_of_the_user() {
    let app = spawn_app().await;
    let (email, first) = app.user().await;
    let second = app.login(&email, PASSWORD).await;
    let r = app
        .as_user(Method::DELETE, "/v1/account/sessions", &first)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    for login in [&first, &second] {
        let r = app
            .as_user(Method::GET, "/v1/account", login)
            .send()
            .await
            .unwrap();
        assert_error(r, 401, "general_unauthorized_scope").await;
    }
}

#[tokio::test]
async fn max_sessions_evicts_the_oldest_and_keeps_the_newest() {
    let app = spawn_with(with_project(|p| p.auth.max_sessions = 2)).await;
    let (email, first) = app.user().await;
    let second = app.login(&email, PASSWORD).await;
    let third = app.login(&email, PASSWORD).await;
    let r = app
        .as_user(Method::GET, "/v1/account/sessions", &third)
        .send()
        .await
        .unwrap();
    let list: Value = r.json().await.unwrap();
    let ids: Vec<&str> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["$id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![second.session_id.as_str(), third.session_id.as_str()]
    );
    let r = app
        .as_user(Method::GET, "/v1/account", &first)
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "general_unauthorized_scope").await;
}

#[tokio::test]
async fn anonymous_sessions_create_a_user_without_email_or_password() {
    let app = spawn_app().await;
    let r = app
        .req(Method::POST, "/v1/account/sessions/anonymous")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let login = login_from(r).await;
    let s: Value = app
        .as_user(Method::GET, "/v1/account/sessions/current", &login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["provider"], "anonymous");
    assert_eq!(s["factors"], json!(["anonymous"]));
    let u: Value = app
        .as_user(Method::GET, "/v1/account", &login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(u["email"], "");
    assert_eq!(u["passwordUpdate"], "");
    assert_eq!(u["targets"], json!([]));
    let app = spawn_with(with_project(|p| p.auth.methods.anonymous = false)).await;
    let r = app
        .req(Method::POST, "/v1/account/sessions/anonymous")
        .send()
        .await
        .unwrap();
    assert_error(r, 501, "user_auth_method_unsupported").await;
}

#[tokio::test]
async fn country_names_follow_the_locale() {
    let app = spawn_app().await;
    let (email, _) = app.user().await;
    let r = app
        .req(Method::POST, "/v1/account/sessions/email")
        .header("x-forwarded-for", "8.8.8.8")
        .header("x-appwrite-locale", "de")
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let login = login_from(r).await;
    let named = |locale: &'static str| {
        let req = app.as_user(Method::GET, "/v1/account/sessions/current", &login);
        async move {
            let s: Value = req
                .header("x-appwrite-locale", locale)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (
                s["countryCode"].as_str().unwrap().to_owned(),
                s["countryName"].as_str().unwrap().to_owned(),
            )
        }
    };
    let (code, german) = named("de").await;
    assert_eq!(code, "us");
    assert_eq!(german, "Vereinigte Staaten");
    assert_eq!(named("ja").await.1, "アメリカ合衆国");
    assert_eq!(named("xx").await.1, "United States");
}
