//! Password recovery and email/phone verification (spec §5.15), by link and by 2.x code, read
//! back from the real email and followed to latchkey.

use reqwest::Method;
use serde_json::{Value, json};

use crate::delivery::MailSink;
use crate::harness::*;

async fn app_with_mail() -> (TestApp, MailSink) {
    let sink = MailSink::start().await;
    let app = spawn_with(sink.configure()).await;
    (app, sink)
}

async fn put(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    app.req(Method::PUT, path).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn a_recovery_link_resets_the_password_once_and_ends_every_session() {
    let (app, sink) = app_with_mail().await;
    let (email, login) = app.user().await;
    let r = app
        .req(Method::POST, "/v1/account/recovery")
        .json(&json!({"email": email.to_uppercase(), "url": "https://app.example.com/reset"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token: Value = r.json().await.unwrap();
    assert_eq!(token["secret"], "");
    let mail = sink.wait_for(&email).await;
    assert_eq!(mail.subject(), "Password Reset for Test App");
    assert!(
        mail.text()
            .contains("Reset your Test App password using the link.")
    );
    assert!(
        mail.text().contains("Hello Test User,"),
        "greets by name: {}",
        mail.text()
    );
    assert_eq!(mail.link_param("userId"), login.user_id);
    let secret = mail.link_param("secret");
    assert_eq!(secret.len(), 256);

    // A password the policy refuses leaves the token usable.
    let r = put(
        &app,
        "/v1/account/recovery",
        json!({"userId": login.user_id, "secret": secret, "password": "short"}),
    )
    .await;
    assert_error(r, 400, "general_argument_invalid").await;
    let r = put(
        &app,
        "/v1/account/recovery",
        json!({"userId": login.user_id, "secret": "wrong", "password": "a-new-password-1"}),
    )
    .await;
    assert_error(r, 401, "user_invalid_token").await;
    let r = put(
        &app,
        "/v1/account/recovery",
        json!({"userId": "nobody", "secret": secret, "password": "a-new-password-1"}),
    )
    .await;
    assert_error(r, 404, "user_not_found").await;

    let r = put(
        &app,
        "/v1/account/recovery",
        json!({"userId": login.user_id, "secret": secret, "password": "a-new-password-1"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let done: Value = r.json().await.unwrap();
    assert_eq!(
        (done["$id"].clone(), done["secret"].clone()),
        (token["$id"].clone(), json!(""))
    );
    // Every session is gone, the new password works, the inbox counts as verified.
    let r = app
        .as_user(Method::GET, "/v1/account", &login)
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "general_unauthorized_scope").await;
    let fresh = app.login(&email, "a-new-password-1").await;
    let account: Value = app.account(&fresh).await;
    assert_eq!(account["emailVerification"], true);
    let r = put(
        &app,
        "/v1/account/recovery",
        json!({"userId": login.user_id, "secret": secret, "password": "another-password-2"}),
    )
    .await;
    assert_error(r, 401, "user_invalid_token").await;
    let r = app
        .req(Method::POST, "/v1/account/recovery")
        .json(&json!({"email": unique_email(), "url": "https://app.example.com/reset"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "user_not_found").await;
}

#[tokio::test]
async fn a_recovery_code_resets_the_password_but_never_completes_the_link_flow() {
    let (app, sink) = app_with_mail().await;
    let (email, login) = app.user().await;
    let r = app
        .req(Method::POST, "/v1/account/recovery/otp")
        .header("x-appwrite-response-format", "2.5.0")
        .json(&json!({"email": email, "phrase": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token: Value = r.json().await.unwrap();
    let mail = sink.wait_for(&email).await;
    let code = mail.code();
    assert!(mail.text().contains(token["phrase"].as_str().unwrap()));
    let r = put(
        &app,
        "/v1/account/recovery",
        json!({"userId": login.user_id, "secret": code, "password": "a-new-password-1"}),
    )
    .await;
    assert_error(r, 401, "user_invalid_token").await;
    let r = put(
        &app,
        "/v1/account/sessions/token",
        json!({"userId": login.user_id, "secret": code}),
    )
    .await;
    assert_eq!(r.status(), 404, "no PUT there");
    let r = app
        .req(Method::POST, "/v1/account/sessions/token")
        .json(&json!({"userId": login.user_id, "secret": code}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_invalid_token").await;
    let r = put(
        &app,
        "/v1/account/recovery/otp",
        json!({"userId": login.user_id, "secret": code, "password": "a-new-password-1"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    app.login(&email, "a-new-password-1").await;
}

#[tokio::test]
async fn an_email_verification_link_verifies_once_on_both_paths() {
    let (app, sink) = app_with_mail().await;
    let (email, login) = app.user().await;
    let r = app
        .as_user(Method::POST, "/v1/account/verification", &login)
        .json(&json!({"url": "http://localhost/verify"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let mail = sink.wait_for(&email).await;
    assert_eq!(mail.subject(), "Account Verification for Test App");
    assert!(
        mail.text()
            .contains("Verify your email to activate your Test App account.")
    );
    let secret = mail.link_param("secret");
    // A guest (the link opened in another browser) completes it.
    let r = put(
        &app,
        "/v1/account/verifications/email",
        json!({"userId": login.user_id, "secret": secret}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let account: Value = app.account(&login).await;
    assert_eq!(account["emailVerification"], true);
    let r = put(
        &app,
        "/v1/account/verification",
        json!({"userId": login.user_id, "secret": secret}),
    )
    .await;
    assert_error(r, 401, "user_invalid_token").await;
    let r = app
        .as_user(Method::POST, "/v1/account/verifications/email", &login)
        .json(&json!({"url": "http://localhost/verify"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 409, "user_email_already_verified").await;
    let r = app
        .req(Method::POST, "/v1/account/verifications/email")
        .json(&json!({"url": "http://localhost/verify"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "general_unauthorized_scope").await;
}

#[tokio::test]
async fn an_email_verification_code_verifies_the_email() {
    let (app, sink) = app_with_mail().await;
    let (email, login) = app.user().await;
    let r = app
        .as_user(Method::POST, "/v1/account/verifications/email/otp", &login)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let code = sink.wait_for(&email).await.code();
    let r = put(
        &app,
        "/v1/account/verifications/email/otp",
        json!({"userId": login.user_id, "secret": code}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let account: Value = app.account(&login).await;
    assert_eq!(account["emailVerification"], true);
}

#[tokio::test]
async fn phone_verification_uses_the_mock_code_and_needs_a_phone() {
    let sms = crate::delivery::SmsEndpoint::start(200, json!({})).await;
    let settings = sms.settings("textmagic");
    let app = spawn_with(move |c| {
        c.file.sms = Some(settings);
        c.file.projects[0].auth.mock_numbers = vec![latchkey::domain::project::MockNumber {
            phone: "+16505550102".into(),
            otp: latchkey::secret::Secret::new("654321"),
        }];
    })
    .await;
    let (_, login) = app.user().await;
    let r = app
        .as_user(Method::POST, "/v1/account/verifications/phone", &login)
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "user_phone_not_found").await;
    let r = app
        .as_user(Method::PATCH, "/v1/account/phone", &login)
        .json(&json!({"phone": "+16505550102", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .as_user(Method::POST, "/v1/account/verification/phone", &login)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = put(
        &app,
        "/v1/account/verifications/phone",
        json!({"userId": login.user_id, "secret": "000000"}),
    )
    .await;
    assert_error(r, 401, "user_invalid_token").await;
    let r = put(
        &app,
        "/v1/account/verifications/phone",
        json!({"userId": login.user_id, "secret": "654321"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = app
        .as_user(Method::POST, "/v1/account/verifications/phone", &login)
        .send()
        .await
        .unwrap();
    assert_error(r, 409, "user_phone_already_verified").await;
    crate::delivery::drained(&app).await;
    assert!(sms.requests().is_empty());
}
