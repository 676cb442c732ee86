//! Push targets of the signed-in user.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

#[tokio::test]
async fn push_targets_are_created_updated_and_deleted_by_their_owner_only() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let (_, other) = app.user().await;
    let r = app
        .as_user(Method::POST, "/v1/account/targets/push", &login)
        .json(&json!({"targetId": "device-1", "identifier": "fcm-token-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["providerType"], "push");
    assert_eq!(t["identifier"], "fcm-token-1");
    assert_eq!(t["providerId"], Value::Null);
    assert_eq!(t["userId"], login.user_id);
    assert_eq!(t["name"], " ");
    let r = app
        .as_user(Method::POST, "/v1/account/targets/push", &login)
        .json(&json!({"targetId": "device-1", "identifier": "fcm-token-2"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 409, "user_target_already_exists").await;
    let r = app
        .as_user(Method::PUT, "/v1/account/targets/device-1/push", &other)
        .json(&json!({"identifier": "stolen"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "user_target_not_found").await;
    let r = app
        .as_user(Method::PUT, "/v1/account/targets/device-1/push", &login)
        .json(&json!({"identifier": "fcm-token-3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["identifier"],
        "fcm-token-3"
    );
    let account: Value = app
        .as_user(Method::GET, "/v1/account", &login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        account["targets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["$id"] == "device-1")
    );
    let r = app
        .as_user(Method::DELETE, "/v1/account/targets/device-1/push", &login)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = app
        .as_user(Method::DELETE, "/v1/account/targets/device-1/push", &login)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "user_target_not_found").await;
}

#[tokio::test]
async fn push_target_params_are_validated() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    for body in [
        json!({"targetId": "_x", "identifier": "a"}),
        json!({"targetId": "ok", "identifier": ""}),
        json!({"identifier": "a"}),
    ] {
        let r = app
            .as_user(Method::POST, "/v1/account/targets/push", &login)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_error(r, 400, "general_argument_invalid").await;
    }
    let r = app
        .req(Method::POST, "/v1/account/targets/push")
        .json(&json!({"targetId": "x", "identifier": "a"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "general_unauthorized_scope").await;
}
