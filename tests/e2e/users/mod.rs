//! The Users API with a server key: users, their fields, sessions, tokens, JWTs, MFA,
//! targets, real deletion, hash imports, and the list queries and search.

mod access;
mod hashes;
mod lists;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

/// Creates a user through the Users API; its body.
pub async fn create_user(app: &TestApp, body: Value) -> Value {
    let r = app
        .as_key(Method::POST, "/v1/users")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "create user");
    r.json().await.unwrap()
}

/// `PATCH /v1/users/<id><path>` with `body`, expecting 200; the body.
async fn patch(app: &TestApp, id: &str, path: &str, body: Value) -> Value {
    let r = app
        .as_key(Method::PATCH, &format!("/v1/users/{id}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "PATCH {path}");
    r.json().await.unwrap()
}

#[tokio::test]
async fn a_created_user_has_the_user_model_with_password_material_for_the_key() {
    let app = spawn_app().await;
    let u = create_user(
        &app,
        json!({"userId": "ann", "email": "Ann@Example.com", "phone": "+16505550101",
               "password": PASSWORD, "name": "Ann Lee"}),
    )
    .await;
    assert_eq!(u["$id"], "ann");
    assert_eq!(u["email"], "ann@example.com");
    assert_eq!(u["phone"], "+16505550101");
    assert_eq!(u["name"], "Ann Lee");
    assert_eq!(u["hash"], "argon2");
    assert!(u["password"].as_str().unwrap().starts_with("$argon2id$"));
    assert_eq!(u["hashOptions"]["type"], "argon2");
    assert!(u["hashOptions"]["memoryCost"].is_number());
    let keys: Vec<&str> = u.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        &keys[..7],
        [
            "$id",
            "$createdAt",
            "$updatedAt",
            "name",
            "password",
            "hash",
            "hashOptions"
        ]
    );
    let kinds: Vec<&str> = u["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["providerType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["email", "sms"]);
    // The user signs in with that password; the Account model never shows the hash.
    let login = app.login("ann@example.com", PASSWORD).await;
    let account = app.account(&login).await;
    assert!(account.get("password").is_none() && account.get("hash").is_none());
    // Without a password: no password material at all.
    let bare = create_user(&app, json!({"userId": "unique()", "name": "No Password"})).await;
    assert_eq!(bare["password"], Value::Null);
    assert_eq!(bare["hash"], Value::Null);
    assert_eq!(bare["email"], "");
}

#[tokio::test]
async fn users_routes_need_a_key_with_the_users_scopes() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let r = app
        .as_user(Method::GET, "/v1/users", &login)
        .send()
        .await
        .unwrap();
    let msg = assert_error(r, 401, "general_unauthorized_scope").await;
    assert!(msg.contains("missing scopes ([\"users.read\"])"), "{msg}");
    // A user holds `targets.read` and `targets.write` for its own push targets; they do not
    // open another user's targets here.
    let (_, other) = app.user().await;
    for (m, path) in [
        (Method::GET, format!("/v1/users/{}/targets", other.user_id)),
        (Method::POST, format!("/v1/users/{}/targets", other.user_id)),
        (
            Method::GET,
            format!("/v1/users/{}/targets/any", login.user_id),
        ),
    ] {
        let r = app
            .as_user(m, &path, &login)
            .json(&json!({"targetId": "unique()", "providerType": "push", "identifier": "x"}))
            .send()
            .await
            .unwrap();
        let msg = assert_error(r, 401, "general_unauthorized_scope").await;
        assert!(
            msg.contains("(role: users) missing scopes ([\"targets."),
            "{msg}"
        );
    }
    let r = app
        .req(Method::POST, "/v1/users")
        .json(&json!({"userId": "x"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "general_unauthorized_scope").await;
    let r = app
        .req(Method::GET, "/v1/users")
        .header("x-appwrite-key", "standard_not_a_key")
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_unauthorized").await;
}

#[tokio::test]
async fn every_field_changes_without_the_users_password() {
    let app = spawn_app().await;
    create_user(
        &app,
        json!({"userId": "bob", "email": "bob@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(
        patch(&app, "bob", "/name", json!({"name": "Bob B"})).await["name"],
        "Bob B"
    );
    let u = patch(
        &app,
        "bob",
        "/email",
        json!({"email": "robert@example.com"}),
    )
    .await;
    assert_eq!(u["email"], "robert@example.com");
    assert_eq!(u["emailVerification"], false);
    assert_eq!(
        u["targets"][0]["identifier"], "robert@example.com",
        "the target follows"
    );
    let u = patch(&app, "bob", "/phone", json!({"number": "+16505550102"})).await;
    assert_eq!(u["phone"], "+16505550102");
    assert_eq!(
        u["targets"].as_array().unwrap().len(),
        2,
        "a phone target is created"
    );
    // `""` removes an address with its target, as Appwrite's `allowEmpty`.
    let cleared = patch(&app, "bob", "/phone", json!({"number": ""})).await;
    assert_eq!(cleared["phone"], "");
    assert_eq!(cleared["targets"].as_array().unwrap().len(), 1);
    let u = patch(&app, "bob", "/phone", json!({"number": "+16505550102"})).await;
    assert_eq!(u["targets"].as_array().unwrap().len(), 2);
    assert_eq!(
        patch(
            &app,
            "bob",
            "/verification",
            json!({"emailVerification": true})
        )
        .await["emailVerification"],
        true
    );
    assert_eq!(
        patch(
            &app,
            "bob",
            "/verification/phone",
            json!({"phoneVerification": true})
        )
        .await["phoneVerification"],
        true
    );
    let prefs = patch(&app, "bob", "/prefs", json!({"prefs": {"theme": "dark"}})).await;
    assert_eq!(prefs, json!({"theme": "dark"}));
    let r = app
        .as_key(Method::GET, "/v1/users/bob/prefs")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"theme": "dark"}));
    let r = app
        .as_key(Method::PUT, "/v1/users/bob/labels")
        .json(&json!({"labels": ["admin", "beta", "admin"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["labels"],
        json!(["admin", "beta"])
    );
    let r = app
        .as_key(Method::PUT, "/v1/users/bob/labels")
        .json(&json!({"labels": ["not ok!"]}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "general_argument_invalid").await;
    // A new password works at once, the old one no longer.
    patch(
        &app,
        "bob",
        "/password",
        json!({"password": "another-long-password"}),
    )
    .await;
    let r = app
        .req(Method::POST, "/v1/account/sessions/email")
        .json(&json!({"email": "robert@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_invalid_credentials").await;
    app.login("robert@example.com", "another-long-password")
        .await;
    // Blocking stops the user at the gate; unblocking lets it back in.
    let login = app
        .login("robert@example.com", "another-long-password")
        .await;
    assert_eq!(
        patch(&app, "bob", "/status", json!({"status": false})).await["status"],
        false
    );
    let r = app
        .as_user(Method::GET, "/v1/account", &login)
        .send()
        .await
        .unwrap();
    assert_error(r, 403, "user_blocked").await;
    patch(&app, "bob", "/status", json!({"status": true})).await;
    app.account(&login).await;
}

#[tokio::test]
async fn conflicts_and_missing_users_get_appwrites_errors() {
    let app = spawn_app().await;
    create_user(
        &app,
        json!({"userId": "c1", "email": "c1@example.com", "phone": "+16505550103"}),
    )
    .await;
    for (body, ty) in [
        (json!({"userId": "c1"}), "user_already_exists"),
        (
            json!({"userId": "c2", "email": "c1@example.com"}),
            "user_already_exists",
        ),
        (
            json!({"userId": "c3", "phone": "+16505550103"}),
            "user_already_exists",
        ),
    ] {
        let r = app
            .as_key(Method::POST, "/v1/users")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_error(r, 409, ty).await;
    }
    create_user(&app, json!({"userId": "c4", "email": "c4@example.com"})).await;
    let r = app
        .as_key(Method::PATCH, "/v1/users/c4/email")
        .json(&json!({"email": "c1@example.com"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 409, "user_email_already_exists").await;
    for (m, path) in [
        (Method::GET, "/v1/users/nobody"),
        (Method::DELETE, "/v1/users/nobody"),
        (Method::GET, "/v1/users/nobody/sessions"),
        (Method::POST, "/v1/users/nobody/tokens"),
        (Method::GET, "/v1/users/nobody/prefs"),
        (Method::GET, "/v1/users/nobody/memberships"),
    ] {
        let r = app.as_key(m, path).json(&json!({})).send().await.unwrap();
        assert_error(r, 404, "user_not_found").await;
    }
    let r = app
        .as_key(Method::POST, "/v1/users")
        .json(&json!({"userId": "bad id!"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "general_argument_invalid").await;
    let r = app
        .as_key(Method::POST, "/v1/users")
        .json(&json!({"userId": "weak", "password": "short"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "general_argument_invalid").await;
}

#[tokio::test]
async fn a_deleted_user_is_gone_with_everything_it_had() {
    let app = spawn_app().await;
    let (email, login) = app.user().await;
    let id = login.user_id.clone();
    // A token and a push target (queued messages going along is a store-suite case).
    let r = app
        .as_key(Method::POST, &format!("/v1/users/{id}/tokens"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token: Value = r.json().await.unwrap();
    let r = app
        .as_key(Method::POST, &format!("/v1/users/{id}/targets"))
        .json(&json!({"targetId": "push1", "providerType": "push", "identifier": "device-token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = app
        .as_key(Method::DELETE, &format!("/v1/users/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = app
        .as_key(Method::GET, &format!("/v1/users/{id}"))
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "user_not_found").await;
    // Its session no longer works, its token exchanges for nothing, its email is free.
    let r = app
        .as_user(Method::GET, "/v1/account", &login)
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "general_unauthorized_scope").await;
    let r = app
        .req(Method::POST, "/v1/account/sessions/token")
        .json(&json!({"userId": id, "secret": token["secret"]}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_invalid_token").await;
    // A new user under the same id starts with nothing of the old one.
    create_user(&app, json!({"userId": id, "email": email})).await;
    let r = app
        .as_key(Method::GET, &format!("/v1/users/{id}/targets"))
        .send()
        .await
        .unwrap();
    let targets: Value = r.json().await.unwrap();
    assert_eq!(targets["total"], 1, "only the new email target: {targets}");
    let r = app
        .as_key(Method::GET, &format!("/v1/users/{id}/sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["total"], 0);
    let r = app
        .req(Method::POST, "/v1/account/sessions/token")
        .json(&json!({"userId": id, "secret": token["secret"]}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_invalid_token").await;
}
