//! `/v1/account`: create, get, delete, prefs, name, password, email, phone, status.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

#[tokio::test]
async fn create_account_returns_201_with_every_model_field_and_an_email_target() {
    let app = spawn_app().await;
    let email = unique_email();
    let user = app.signup(&email.to_uppercase()).await;
    assert_eq!(user["$id"].as_str().unwrap().len(), 20);
    assert_eq!(user["email"], email);
    assert_eq!(user["name"], "Test User");
    assert_eq!(user["status"], true);
    assert_eq!(user["emailVerification"], false);
    assert_eq!(user["phone"], "");
    assert_eq!(user["prefs"], json!({}));
    assert_eq!(user["labels"], json!([]));
    assert_eq!(user["targets"][0]["providerType"], "email");
    assert_eq!(user["targets"][0]["identifier"], email);
    assert_eq!(user["emailCanonical"], email);
    assert_eq!(user["emailIsCorporate"], true);
    assert!(user.get("password").is_none() && user.get("hash").is_none());
    for field in [
        "$createdAt",
        "$updatedAt",
        "registration",
        "passwordUpdate",
        "accessedAt",
    ] {
        let v = user[field].as_str().unwrap();
        assert!(v.ends_with("+00:00") && v.len() == 29, "{field}: {v}");
    }
}

#[tokio::test]
async fn create_account_with_a_custom_id_keeps_it_and_a_taken_id_or_email_is_409() {
    let app = spawn_app().await;
    let email = unique_email();
    let r = app
        .req(Method::POST, "/v1/account")
        .json(&json!({"userId": "my-user.1", "email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().await.unwrap()["$id"], "my-user.1");
    let r = app
        .req(Method::POST, "/v1/account")
        .json(&json!({"userId": "my-user.1", "email": unique_email(), "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(r, 409, "user_already_exists").await;
    let r = app
        .req(Method::POST, "/v1/account")
        .json(&json!({"userId": "unique()", "email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(r, 409, "user_already_exists").await;
}

#[tokio::test]
async fn each_create_account_validator_gives_argument_invalid_and_writes_nothing() {
    let app = spawn_app().await;
    let email = unique_email();
    let cases = [
        (
            json!({"email": email, "password": PASSWORD}),
            "Param \"userId\" is not optional.",
        ),
        (
            json!({"userId": "_bad", "email": email, "password": PASSWORD}),
            "Invalid `userId` param: Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special char",
        ),
        (
            json!({"userId": "unique()", "email": "not-an-email", "password": PASSWORD}),
            "Invalid `email` param: Value must be a valid email address",
        ),
        (
            json!({"userId": "unique()", "email": email, "password": "short"}),
            "Invalid `password` param: Password must be between 8 and 256 characters long.",
        ),
        (
            json!({"userId": "unique()", "email": email, "password": PASSWORD, "name": ""}),
            "Invalid `name` param: Value must be a valid string and at least 1 chars and no longer than 128 chars",
        ),
        (
            json!({"userId": "unique()", "email": email, "password": PASSWORD, "name": "x".repeat(129)}),
            "Invalid `name` param: Value must be a valid string and at least 1 chars and no longer than 128 chars",
        ),
        (
            json!({"userId": "unique()", "email": 42, "password": PASSWORD}),
            "Invalid `email` param: Value must be a valid string",
        ),
    ];
    for (body, message) in cases {
        let r = app
            .req(Method::POST, "/v1/account")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            assert_error(r, 400, "general_argument_invalid").await,
            message
        );
    }
    // Nothing was written: the email is still free and cannot log in.
    let r = app
        .req(Method::POST, "/v1/account/sessions/email")
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_invalid_credentials").await;
    app.signup(&email).await;
}

#[tokio::test]
async fn a_signed_in_user_may_create_another_account() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let r = app
        .as_user(Method::POST, "/v1/account", &login)
        .json(&json!({"userId": "unique()", "email": unique_email(), "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn get_account_needs_a_session_and_returns_the_callers_account() {
    let app = spawn_app().await;
    let r = app.req(Method::GET, "/v1/account").send().await.unwrap();
    let msg = assert_error(r, 401, "general_unauthorized_scope").await;
    assert_eq!(msg, "User (role: guests) missing scopes ([\"account\"])");
    let (email, login) = app.user().await;
    let r = app
        .as_user(Method::GET, "/v1/account", &login)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["email"], email);
    assert_eq!(body["$id"], login.user_id);
}

#[tokio::test]
async fn prefs_are_replaced_read_back_and_bounded_to_64kb() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let r = app
        .as_user(Method::PATCH, "/v1/account/prefs", &login)
        .json(&json!({"prefs": {"theme": "dark", "n": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["prefs"]["theme"], "dark");
    let r = app
        .as_user(Method::GET, "/v1/account/prefs", &login)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"theme": "dark", "n": 1})
    );
    for bad in [
        json!({"prefs": "{}"}),
        json!({"prefs": [1, 2]}),
        json!({"prefs": {"a": "x".repeat(70_000)}}),
    ] {
        let r = app
            .as_user(Method::PATCH, "/v1/account/prefs", &login)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_error(r, 400, "general_argument_invalid").await;
    }
    let r = app
        .as_user(Method::GET, "/v1/account/prefs", &login)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["theme"], "dark");
}

#[tokio::test]
async fn update_name_changes_the_name_and_rejects_an_empty_one() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let r = app
        .as_user(Method::PATCH, "/v1/account/name", &login)
        .json(&json!({"name": "Neo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["name"], "Neo");
    let r = app
        .as_user(Method::PATCH, "/v1/account/name", &login)
        .json(&json!({"name": ""}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "general_argument_invalid").await;
}

#[tokio::test]
async fn update_password_needs_the_old_one_and_ends_the_other_sessions() {
    let app = spawn_app().await;
    let (email, first) = app.user().await;
    let second = app.login(&email, PASSWORD).await;
    let r = app
        .as_user(Method::PATCH, "/v1/account/password", &first)
        .json(&json!({"password": "new-password-123"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_invalid_credentials").await;
    let r = app
        .as_user(Method::PATCH, "/v1/account/password", &first)
        .json(&json!({"password": "new-password-123", "oldPassword": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The caller's session survives, the other one is gone.
    let r = app
        .as_user(Method::GET, "/v1/account", &first)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .as_user(Method::GET, "/v1/account", &second)
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "general_unauthorized_scope").await;
    app.login(&email, "new-password-123").await;
}

#[tokio::test]
async fn password_history_rejects_a_recent_password() {
    let app = spawn_with(with_project(|p| p.auth.password_history = 3)).await;
    let (_, login) = app.user().await;
    let r = app
        .as_user(Method::PATCH, "/v1/account/password", &login)
        .json(&json!({"password": PASSWORD, "oldPassword": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "password_recently_used").await;
}

#[tokio::test]
async fn dictionary_and_personal_data_policies_reject_weak_passwords() {
    let app = spawn_with(with_project(|p| {
        p.auth.password_dictionary = true;
        p.auth.personal_data_check = true;
    }))
    .await;
    let r = app
        .req(Method::POST, "/v1/account")
        .json(&json!({"userId": "unique()", "email": unique_email(), "password": "iloveyou"}))
        .send()
        .await
        .unwrap();
    let msg = assert_error(r, 400, "general_argument_invalid").await;
    assert!(msg.contains("commonly used password"), "{msg}");
    let r = app
        .req(Method::POST, "/v1/account")
        .json(&json!({"userId": "unique()", "email": "neo.anderson@example.com", "password": "xxneo.andersonxx"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "password_personal_data").await;
}

#[tokio::test]
async fn user_limit_gives_user_count_exceeded() {
    let app = spawn_with(with_project(|p| p.auth.limit = 1)).await;
    app.signup(&unique_email()).await;
    let r = app
        .req(Method::POST, "/v1/account")
        .json(&json!({"userId": "unique()", "email": unique_email(), "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "user_count_exceeded").await;
    let r = app
        .req(Method::POST, "/v1/account/sessions/anonymous")
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "user_count_exceeded").await;
}

#[tokio::test]
async fn disabled_email_password_method_gives_501_before_params() {
    let app = spawn_with(with_project(|p| p.auth.methods.email_password = false)).await;
    let r = app
        .req(Method::POST, "/v1/account")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let msg = assert_error(r, 501, "user_auth_method_unsupported").await;
    assert_eq!(
        msg,
        "Email / Password authentication is disabled for this project"
    );
    let r = app
        .req(Method::POST, "/v1/account/sessions/email")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(r, 501, "user_auth_method_unsupported").await;
}

#[tokio::test]
async fn anonymous_user_converts_to_email_and_password() {
    let app = spawn_app().await;
    let r = app
        .req(Method::POST, "/v1/account/sessions/anonymous")
        .send()
        .await
        .unwrap();
    let login = login_from(r).await;
    let email = unique_email();
    let r = app
        .as_user(Method::PATCH, "/v1/account/email", &login)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["email"], email);
    assert_eq!(body["emailVerification"], false);
    assert_ne!(body["passwordUpdate"], "");
    app.login(&email, PASSWORD).await;
}

#[tokio::test]
async fn update_email_checks_the_password_and_a_taken_email_gives_target_exists() {
    let app = spawn_app().await;
    let taken = unique_email();
    app.signup(&taken).await;
    let (_, login) = app.user().await;
    let r = app
        .as_user(Method::PATCH, "/v1/account/email", &login)
        .json(&json!({"email": unique_email(), "password": "wrong-password"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_invalid_credentials").await;
    let r = app
        .as_user(Method::PATCH, "/v1/account/email", &login)
        .json(&json!({"email": taken, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(r, 409, "user_target_already_exists").await;
    let new_email = unique_email();
    let r = app
        .as_user(Method::PATCH, "/v1/account/email", &login)
        .json(&json!({"email": new_email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["email"], new_email);
    assert_eq!(
        body["targets"][0]["identifier"], new_email,
        "email target follows the address"
    );
}

#[tokio::test]
async fn update_phone_validates_e164_and_duplicate_phone_is_409() {
    let app = spawn_app().await;
    let (_, a) = app.user().await;
    let (_, b) = app.user().await;
    let r = app
        .as_user(Method::PATCH, "/v1/account/phone", &a)
        .json(&json!({"phone": "16502530000", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "general_argument_invalid").await;
    let r = app
        .as_user(Method::PATCH, "/v1/account/phone", &a)
        .json(&json!({"phone": "+16502530000", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["phone"], "+16502530000");
    assert_eq!(body["phoneVerification"], false);
    let r = app
        .as_user(Method::PATCH, "/v1/account/phone", &b)
        .json(&json!({"phone": "+16502530000", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(r, 409, "user_phone_already_exists").await;
}

#[tokio::test]
async fn update_status_blocks_the_account_then_sessions_and_logins_get_user_blocked() {
    let app = spawn_app().await;
    let (email, login) = app.user().await;
    let r = app
        .as_user(Method::PATCH, "/v1/account/status", &login)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookies: Vec<_> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with(&format!("a_session_{PROJECT}=deleted")))
    );
    assert_eq!(r.headers()["x-fallback-cookies"], "[]");
    assert_eq!(r.json::<Value>().await.unwrap()["status"], false);
    let r = app
        .as_user(Method::GET, "/v1/account", &login)
        .send()
        .await
        .unwrap();
    assert_error(r, 403, "user_blocked").await;
    let r = app
        .req(Method::POST, "/v1/account/sessions/email")
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(r, 403, "user_blocked").await;
    // The password is checked before the block, so a wrong one still says "invalid".
    let r = app
        .req(Method::POST, "/v1/account/sessions/email")
        .json(&json!({"email": email, "password": "wrong-password"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_invalid_credentials").await;
}

#[tokio::test]
async fn delete_account_removes_the_user_its_sessions_and_frees_the_email() {
    let app = spawn_app().await;
    let (email, login) = app.user().await;
    let r = app
        .as_user(Method::DELETE, "/v1/account", &login)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = app
        .as_user(Method::GET, "/v1/account", &login)
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "general_unauthorized_scope").await;
    app.signup(&email).await;
}

#[tokio::test]
async fn email_policies_refuse_disposable_aliased_free_and_non_corporate_addresses() {
    let app = spawn_with(with_project(|p| {
        p.auth.disposable_emails = true;
        p.auth.canonical_emails = true;
        p.auth.free_emails = true;
    }))
    .await;
    let signup = |email: &'static str| {
        app.req(Method::POST, "/v1/account")
            .json(&json!({"userId": "unique()", "email": email, "password": PASSWORD}))
            .send()
    };
    assert_error(
        signup("someone@mailinator.com").await.unwrap(),
        400,
        "user_email_disposable",
    )
    .await;
    assert_error(
        signup("some.one+tag@gmail.com").await.unwrap(),
        400,
        "user_email_not_canonical",
    )
    .await;
    assert_error(
        signup("someone@gmail.com").await.unwrap(),
        400,
        "user_email_free",
    )
    .await;
    assert_eq!(signup("someone@acme-corp.com").await.unwrap().status(), 201);
    // Changing the email meets the same policies.
    let login = app.login("someone@acme-corp.com", PASSWORD).await;
    let r = app
        .as_user(Method::PATCH, "/v1/account/email", &login)
        .json(&json!({"email": "other@mailinator.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "user_email_disposable").await;

    let corporate = spawn_with(with_project(|p| p.auth.corporate_emails = true)).await;
    let r = corporate
        .req(Method::POST, "/v1/account")
        .json(&json!({"userId": "unique()", "email": "someone@yahoo.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "user_email_not_corporate").await;
}
