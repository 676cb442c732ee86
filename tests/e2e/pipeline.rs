//! Cross-cutting behaviour: project resolution, origins and CORS, routing, body parsing,
//! response formats, health.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

#[tokio::test]
async fn unknown_and_missing_projects_are_404_project_not_found() {
    let app = spawn_app().await;
    let r = app
        .http
        .get(format!("{}/v1/account", app.url))
        .header("x-appwrite-project", "nope")
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "project_not_found").await;
    let r = app
        .http
        .get(format!("{}/v1/account", app.url))
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "project_not_found").await;
    // The `project` param wins over the header.
    let r = app
        .http
        .get(format!("{}/v1/account?project=nope", app.url))
        .header("x-appwrite-project", PROJECT)
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "project_not_found").await;
}

#[tokio::test]
async fn unknown_routes_are_404_general_route_not_found() {
    let app = spawn_app().await;
    let r = app
        .req(Method::GET, "/v1/account/nothing-here")
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "general_route_not_found").await;
    let r = app.req(Method::PUT, "/v1/account").send().await.unwrap();
    assert_error(r, 404, "general_route_not_found").await;
}

#[tokio::test]
async fn health_version_needs_no_project() {
    let app = spawn_app().await;
    let r = app
        .http
        .get(format!("{}/v1/health/version", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["version"], "2.6.2");
}

#[tokio::test]
async fn origins_must_be_registered_platforms_and_are_echoed_in_cors() {
    let app = spawn_app().await;
    let r = app
        .req(Method::GET, "/v1/account")
        .header("origin", "https://evil.io")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    assert_error(r, 403, "general_unknown_origin").await;
    for origin in ["http://localhost:3000", "https://app.example.com"] {
        let r = app
            .req(Method::GET, "/v1/account")
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["access-control-allow-origin"], origin);
        assert_eq!(r.headers()["access-control-allow-credentials"], "true");
        assert_error(r, 401, "general_unauthorized_scope").await;
    }
    // API keys skip the origin check.
    let r = app
        .req(Method::POST, "/v1/account")
        .header("origin", "https://evil.io")
        .header("x-appwrite-key", KEY)
        .json(&json!({"userId": "unique()", "email": unique_email(), "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn options_preflight_is_204_with_cors_headers() {
    let app = spawn_app().await;
    let r = app
        .http
        .request(
            Method::OPTIONS,
            format!("{}/v1/account/sessions/email", app.url),
        )
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    assert!(
        r.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("X-Appwrite-Project")
    );
    assert_eq!(
        r.headers()["access-control-expose-headers"],
        "X-Appwrite-Session, X-Fallback-Cookies"
    );
}

#[tokio::test]
async fn form_encoded_bodies_and_duplicated_json_content_types_are_read() {
    let app = spawn_app().await;
    let email = unique_email();
    let r = app
        .req(Method::POST, "/v1/account")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "userId=unique()&email={}&password={PASSWORD}",
            email.replace('@', "%40")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = app
        .req(Method::POST, "/v1/account/sessions/email")
        .header("content-type", "application/json")
        .header("content-type", "application/json")
        .body(json!({"email": email, "password": PASSWORD}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn get_requests_ignore_bodies_and_json_content_types() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let r = app
        .as_user(Method::GET, "/v1/account?", &login)
        .header("content-type", "application/json")
        .body("null")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn old_response_formats_lose_fields_added_later() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let get = |format: &'static str| {
        app.as_user(Method::GET, "/v1/account", &login)
            .header("x-appwrite-response-format", format)
    };
    let new: Value = get("1.9.5").send().await.unwrap().json().await.unwrap();
    assert!(new.get("impersonator").is_some() && new.get("targets").is_some());
    let v18: Value = get("1.8.0").send().await.unwrap().json().await.unwrap();
    assert!(v18.get("impersonator").is_none() && v18.get("targets").is_some());
    let v14: Value = get("1.4.0").send().await.unwrap().json().await.unwrap();
    assert!(v14.get("targets").is_none() && v14.get("mfa").is_none());
    let s: Value = app
        .as_user(Method::GET, "/v1/account/sessions/current", &login)
        .header("x-appwrite-response-format", "1.4.0")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(s.get("factors").is_none() && s.get("secret").is_none() && s.get("current").is_some());
}

#[tokio::test]
async fn a_zero_jwt_duration_is_a_400_not_appwrites_500() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    // Appwrite's JWT library throws for 0 and answers 500; we refuse the param instead.
    let r = app
        .as_user(Method::POST, "/v1/account/jwts", &login)
        .json(&json!({"duration": 0}))
        .send()
        .await
        .unwrap();
    let msg = assert_error(r, 400, "general_argument_invalid").await;
    assert_eq!(
        msg,
        "Invalid `duration` param: Value must be a valid range between 1 and 3,600"
    );
}

#[tokio::test]
async fn without_a_project_an_unknown_route_is_a_route_error_and_health_ignores_callers() {
    let app = spawn_app().await;
    let r = app
        .http
        .get(format!("{}/v1/nothing", app.url))
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "general_route_not_found").await;
    let r = app
        .req(Method::GET, "/v1/health/version")
        .header("x-appwrite-key", "standard_not_a_key_at_all")
        .header("x-appwrite-jwt", "not.a.jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "a public route that needs no project checks no caller"
    );
}

fn request_id(r: &reqwest::Response) -> String {
    r.headers()["x-request-id"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_only_a_trusted_proxy_may_set_it() {
    let app = spawn_with(|c| c.file.trusted_proxies = Some(vec!["10.9.9.9".into()])).await;
    let a = app.req(Method::GET, "/v1/account").send().await.unwrap();
    let b = app.req(Method::GET, "/v1/account").send().await.unwrap();
    assert_ne!(request_id(&a), request_id(&b), "a new id per request");
    assert_eq!(request_id(&a).len(), 20);
    let r = app
        .req(Method::GET, "/v1/account")
        .header("x-request-id", "from-the-client")
        .send()
        .await
        .unwrap();
    assert_ne!(
        request_id(&r),
        "from-the-client",
        "an untrusted peer's id is not taken"
    );

    // Loopback is a trusted proxy by default.
    let app = spawn_app().await;
    let r = app
        .req(Method::GET, "/v1/account")
        .header("x-request-id", "nginx-0f3a_9")
        .send()
        .await
        .unwrap();
    assert_eq!(
        request_id(&r),
        "nginx-0f3a_9",
        "the proxy's id, so both logs correlate"
    );
    for bad in ["has space", "semi;colon", &"x".repeat(65)] {
        let r = app
            .req(Method::GET, "/v1/account")
            .header("x-request-id", bad)
            .send()
            .await
            .unwrap();
        assert_ne!(request_id(&r), bad, "a malformed id is replaced");
        assert_eq!(request_id(&r).len(), 20);
    }
}
