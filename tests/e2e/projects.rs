//! The config file is the source of truth for projects and their keys.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

#[tokio::test]
async fn a_project_removed_from_the_config_is_refused_and_comes_back_with_its_data() {
    let app = spawn_with(with_other_project).await;
    let (email, login) = app.user().await;
    let app = app
        .restart(|c| c.file.projects.retain(|p| p.id != PROJECT))
        .await;
    let r = app
        .as_user(Method::GET, "/v1/account", &login)
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "project_not_found").await;
    let r = app
        .req(Method::POST, "/v1/account/sessions/email")
        .header("x-appwrite-key", KEY)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "project_not_found").await;
    let app = app.restart(|c| c.file.projects.push(test_project())).await;
    let r = app
        .as_user(Method::GET, "/v1/account", &login)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "its users and sessions were kept");
    assert_eq!(r.json::<Value>().await.unwrap()["email"], email);
}

#[tokio::test]
async fn a_key_removed_from_the_config_stops_working() {
    let app = spawn_app().await;
    let key_signup = |app: &TestApp| {
        app.req(Method::POST, "/v1/account/sessions/anonymous")
            .header("x-appwrite-key", KEY)
    };
    assert_eq!(key_signup(&app).send().await.unwrap().status(), 201);
    let app = app.restart(|c| c.file.projects[0].keys.clear()).await;
    assert_error(
        key_signup(&app).send().await.unwrap(),
        401,
        "user_unauthorized",
    )
    .await;
}
