//! Challenges by email (a real SMTP server), SMS (a provider-shaped endpoint) and the custom
//! factor, and the refusals that change nothing.

use reqwest::Method;
use serde_json::json;

use crate::delivery::{MailSink, SmsEndpoint};

use super::*;
use crate::harness::*;

/// Verifies the user's email the way a user does: the emailed code of the 2.x OTP route.
async fn verify_email(app: &TestApp, sink: &MailSink, login: &Login, email: &str) {
    ok_json(
        app.as_user(Method::POST, "/v1/account/verifications/email/otp", login),
        201,
    )
    .await;
    let code = sink.wait_for(email).await.code();
    ok_json(
        app.req(Method::PUT, "/v1/account/verifications/email/otp")
            .json(&json!({"userId": login.user_id, "secret": code})),
        200,
    )
    .await;
}

/// Gives the user a phone and verifies it with the texted code.
async fn verify_phone(app: &TestApp, sms: &SmsEndpoint, login: &Login, phone: &str) {
    ok_json(
        app.as_user(Method::PATCH, "/v1/account/phone", login)
            .json(&json!({"phone": phone, "password": PASSWORD})),
        200,
    )
    .await;
    ok_json(
        app.as_user(Method::POST, "/v1/account/verifications/phone", login),
        201,
    )
    .await;
    let code = digits(&sms.wait_for_n(1).await[0].form_field("Body").unwrap());
    ok_json(
        app.req(Method::PUT, "/v1/account/verifications/phone")
            .json(&json!({"userId": login.user_id, "secret": code})),
        200,
    )
    .await;
}

fn digits(body: &str) -> String {
    let code: String = body.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6, "{body}");
    code
}

#[tokio::test]
async fn an_emailed_code_completes_an_email_challenge() {
    let sink = MailSink::start().await;
    let app = spawn_with(sink.configure()).await;
    let (email, first) = app.user().await;
    let r = open_challenge(&app, &first, "email").await;
    assert_error(r, 400, "user_email_not_verified").await;
    verify_email(&app, &sink, &first, &email).await;
    set_mfa(&app, &first, true).await;
    let s = current_session(&app, &first).await;
    assert_eq!(
        s["factors"],
        json!(["password", "email"]),
        "credited when enabling"
    );

    let second = app.login(&email, PASSWORD).await;
    assert_error(
        get_account(&app, &second).await,
        401,
        "user_more_factors_required",
    )
    .await;
    let id = challenge(&app, &second, "email").await;
    let mail = sink.wait_for_n(&email, 2).await.pop().unwrap();
    assert_eq!(mail.subject(), "Verification Code for Test App");
    let code = mail.code();
    assert!(!mail.html().is_empty());
    assert_invalid(answer(&app, &second, &id, "000000").await).await;
    completes(&app, &second, &id, &code).await;
    assert_eq!(get_account(&app, &second).await.status(), 200);
}

#[tokio::test]
async fn a_texted_code_completes_a_phone_challenge() {
    let sms = SmsEndpoint::start(201, json!({"sid": "SM1"})).await;
    let settings = sms.settings("twilio");
    let app = spawn_with(move |c| c.file.sms = Some(settings)).await;
    let (email, first) = app.user().await;
    let r = open_challenge(&app, &first, "phone").await;
    assert_error(r, 400, "user_phone_not_found").await;
    verify_phone(&app, &sms, &first, "+16505550123").await;
    set_mfa(&app, &first, true).await;
    let second = app.login(&email, PASSWORD).await;
    let id = challenge(&app, &second, "phone").await;
    let sent = sms.wait_for_n(2).await;
    assert_eq!(sent[1].form_field("To").as_deref(), Some("+16505550123"));
    let code = digits(&sent[1].form_field("Body").unwrap());
    completes(&app, &second, &id, &code).await;
    assert_eq!(get_account(&app, &second).await.status(), 200);
}

#[tokio::test]
async fn email_and_phone_challenges_need_a_transport() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    // The transport is checked before the address, so neither needs verifying.
    let r = open_challenge(&app, &login, "email").await;
    assert_error(r, 503, "general_smtp_disabled").await;
    let r = open_challenge(&app, &login, "phone").await;
    assert_error(r, 503, "general_phone_disabled").await;
}

#[tokio::test]
async fn wrong_expired_foreign_and_spent_challenges_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let (email, first) = app.user().await;
    let secret = add_totp(&app, &first).await;
    set_mfa(&app, &first, true).await;
    let second = app.login(&email, PASSWORD).await;
    // Unknown factors and malformed params.
    let r = open_challenge(&app, &second, "sms").await;
    let m = assert_error(r, 400, "general_argument_invalid").await;
    assert!(
        m.contains("email, phone, totp, recoveryCode, custom"),
        "{m}"
    );
    let r = open_challenge(&app, &second, "custom").await;
    let m = assert_error(r, 501, "user_auth_method_unsupported").await;
    assert_eq!(
        m,
        "The requested factor is disabled by the MFA factors policy"
    );
    let r = answer(&app, &second, "", "123456").await;
    assert_error(r, 400, "general_argument_invalid").await;
    assert_invalid(answer(&app, &second, "nope", "123456").await).await;

    // Another user's challenge is not yours.
    let (_, stranger) = app.user().await;
    let id = challenge(&app, &second, "totp").await;
    next_step(&app);
    let code = oathtool(&app, &secret);
    assert_invalid(answer(&app, &stranger, &id, &code).await).await;

    // An expired challenge is refused even with the right code.
    app.clock.advance(16 * 60 * 1000);
    let code = oathtool(&app, &secret);
    assert_invalid(answer(&app, &second, &id, &code).await).await;

    // Five wrong codes spend a challenge; the right one then fails too.
    let id = challenge(&app, &second, "totp").await;
    for _ in 0..5 {
        assert_invalid(answer(&app, &second, &id, "000000").await).await;
    }
    next_step(&app);
    let code = oathtool(&app, &secret);
    assert_invalid(answer(&app, &second, &id, &code).await).await;
    let s = current_session(&app, &first).await;
    assert_eq!(s["factors"], json!(["password", "totp"]));
    assert_error(
        get_account(&app, &second).await,
        401,
        "user_more_factors_required",
    )
    .await;

    // Disabling MFA mid-flow opens the blocked session, and its open challenge still works.
    let id = challenge(&app, &second, "totp").await;
    set_mfa(&app, &first, false).await;
    assert_eq!(get_account(&app, &second).await.status(), 200);
    next_step(&app);
    completes(&app, &second, &id, &oathtool(&app, &secret)).await;
}

#[tokio::test]
async fn a_custom_challenge_is_allowed_by_policy_and_its_code_is_never_sent() {
    let app = spawn_with(with_project(|p| p.auth.mfa_factors.custom = true)).await;
    let (_, login) = app.user().await;
    let f = ok_json(
        app.as_user(Method::GET, "/v1/account/mfa/factors", &login),
        200,
    )
    .await;
    assert_eq!(f["custom"], true);
    let id = challenge(&app, &login, "custom").await;
    assert_invalid(answer(&app, &login, &id, "000000").await).await;
    // Older response formats do not know `custom`.
    let f = ok_json(
        app.as_user(Method::GET, "/v1/account/mfa/factors", &login)
            .header("x-appwrite-response-format", "1.8.0"),
        200,
    )
    .await;
    assert!(f.get("custom").is_none(), "{f}");
}
