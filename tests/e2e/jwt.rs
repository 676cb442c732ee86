//! `POST /v1/account/jwts` and requests authenticated by `X-Appwrite-JWT`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

async fn jwt(app: &TestApp, login: &Login) -> String {
    let r = app
        .as_user(Method::POST, "/v1/account/jwts", login)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["jwt"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_jwt_authenticates_as_the_user_until_its_session_ends() {
    let app = spawn_app().await;
    let (email, login) = app.user().await;
    let token = jwt(&app, &login).await;
    assert_eq!(token.split('.').count(), 3);
    let r = app
        .req(Method::GET, "/v1/account")
        .header("x-appwrite-jwt", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["email"], email);
    // The old alias used by 1.4/1.5 SDKs works too.
    let r = app
        .as_user(Method::POST, "/v1/account/jwt", &login)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    app.as_user(Method::DELETE, "/v1/account/sessions/current", &login)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let r = app
        .req(Method::GET, "/v1/account")
        .header("x-appwrite-jwt", &token)
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "general_unauthorized_scope").await;
}

#[tokio::test]
async fn jwt_errors_are_appwrite_shaped() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let token = jwt(&app, &login).await;
    let r = app
        .as_user(Method::GET, "/v1/account", &login)
        .header("x-appwrite-jwt", &token)
        .send()
        .await
        .unwrap();
    assert_error(r, 403, "user_jwt_and_cookie_set").await;
    let r = app
        .req(Method::GET, "/v1/account")
        .header("x-appwrite-jwt", "not.a.jwt")
        .send()
        .await
        .unwrap();
    let msg = assert_error(r, 401, "user_jwt_invalid").await;
    assert!(msg.starts_with("Failed to verify JWT."), "{msg}");
    let r = app
        .req(Method::POST, "/v1/account/jwts")
        .header("x-appwrite-jwt", &token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(r, 403, "user_jwt_creation_denied").await;
    let r = app
        .as_user(Method::POST, "/v1/account/jwts", &login)
        .json(&json!({"duration": 3601}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "general_argument_invalid").await;
    let r = app
        .req(Method::POST, "/v1/account/jwts")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "general_unauthorized_scope").await;
}

#[tokio::test]
async fn an_expired_jwt_is_rejected() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let r = app
        .as_user(Method::POST, "/v1/account/jwts", &login)
        .json(&json!({"duration": 60}))
        .send()
        .await
        .unwrap();
    let token = r.json::<Value>().await.unwrap()["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    let get = || {
        app.req(Method::GET, "/v1/account")
            .header("x-appwrite-jwt", &token)
    };
    app.clock.advance(58_000);
    assert_eq!(get().send().await.unwrap().status(), 200);
    app.clock.advance(2_000);
    let msg = assert_error(get().send().await.unwrap(), 401, "user_jwt_invalid").await;
    assert_eq!(msg, "Failed to verify JWT. Invalid token: Expired");
    let r = app
        .req(Method::GET, "/v1/account")
        .header("x-appwrite-jwt", &token)
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_jwt_invalid").await;
}

#[tokio::test]
async fn disabled_jwt_method_gives_501() {
    let app = spawn_with(with_project(|p| p.auth.methods.jwt = false)).await;
    let (_, login) = app.user().await;
    let r = app
        .as_user(Method::POST, "/v1/account/jwts", &login)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(r, 501, "user_auth_method_unsupported").await;
}
