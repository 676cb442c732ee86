//! MFA (spec §2.6, §6): TOTP authenticators with codes computed independently by Debian's
//! `oathtool` at the server's (manual) clock, challenges by TOTP, email (a real SMTP server),
//! SMS (a provider-shaped endpoint), recovery code and custom factor, the factor gate and
//! `mfaProtected` routes, and what is stricter than Appwrite.

mod challenges;
mod gate;
mod recovery_codes;

use latchkey::domain::time::Clock;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

/// The TOTP code of `secret` at the app's clock, from `oathtool` (not our code).
pub(super) fn oathtool(app: &TestApp, secret: &str) -> String {
    let secs = app.clock.now_ms().div_euclid(1000);
    let out = std::process::Command::new("oathtool")
        .args(["--totp", "-b", secret, "--now", &format!("@{secs}")])
        .output()
        .expect("oathtool runs (apt-get install oathtool)");
    assert!(out.status.success(), "oathtool: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Moves the clock to the start of the next 30-second step.
pub(super) fn next_step(app: &TestApp) {
    let into = app.clock.now_ms().rem_euclid(30_000);
    app.clock.advance(30_000 - into);
}

pub(super) async fn send(r: reqwest::RequestBuilder) -> reqwest::Response {
    r.send().await.unwrap()
}

pub(super) async fn ok_json(r: reqwest::RequestBuilder, status: u16) -> Value {
    let r = send(r).await;
    assert_eq!(r.status(), status, "{:?}", r.url().path());
    r.json().await.unwrap()
}

/// Creates and verifies a TOTP authenticator for `login`; its secret.
pub(super) async fn add_totp(app: &TestApp, login: &Login) -> String {
    let path = "/v1/account/mfa/authenticators/totp";
    let t = ok_json(app.as_user(Method::POST, path, login), 200).await;
    let secret = t["secret"].as_str().unwrap().to_owned();
    let code = oathtool(app, &secret);
    ok_json(
        app.as_user(Method::PUT, path, login)
            .json(&json!({"otp": code})),
        200,
    )
    .await;
    secret
}

pub(super) async fn set_mfa(app: &TestApp, login: &Login, on: bool) -> Value {
    ok_json(
        app.as_user(Method::PATCH, "/v1/account/mfa", login)
            .json(&json!({"mfa": on})),
        200,
    )
    .await
}

/// `POST /v1/account/mfa/challenges` for `factor`, answered as it comes.
pub(super) async fn open_challenge(
    app: &TestApp,
    login: &Login,
    factor: &str,
) -> reqwest::Response {
    send(
        app.as_user(Method::POST, "/v1/account/mfa/challenges", login)
            .json(&json!({"factor": factor})),
    )
    .await
}

/// Opens a challenge that must succeed; its id.
pub(super) async fn challenge(app: &TestApp, login: &Login, factor: &str) -> String {
    let r = open_challenge(app, login, factor).await;
    assert_eq!(r.status(), 201, "challenge {factor}");
    let c: Value = r.json().await.unwrap();
    assert_eq!(c["userId"], login.user_id.as_str());
    assert!(c.get("code").is_none(), "the code is never returned: {c}");
    c["$id"].as_str().unwrap().to_owned()
}

pub(super) async fn answer(app: &TestApp, login: &Login, id: &str, otp: &str) -> reqwest::Response {
    send(
        app.as_user(Method::PUT, "/v1/account/mfa/challenges", login)
            .json(&json!({"challengeId": id, "otp": otp})),
    )
    .await
}

pub(super) async fn get_account(app: &TestApp, login: &Login) -> reqwest::Response {
    send(app.as_user(Method::GET, "/v1/account", login)).await
}

/// Answers a challenge that must complete.
pub(super) async fn completes(app: &TestApp, login: &Login, id: &str, otp: &str) {
    let r = answer(app, login, id, otp).await;
    assert_eq!(r.status(), 200, "completing challenge {id}");
}

/// A refused code or challenge: 401 `user_invalid_token`.
pub(super) async fn assert_invalid(r: reqwest::Response) {
    assert_error(r, 401, "user_invalid_token").await;
}

/// The session `login` carries, as the API shows it.
pub(super) async fn current_session(app: &TestApp, login: &Login) -> Value {
    ok_json(
        app.as_user(Method::GET, "/v1/account/sessions/current", login),
        200,
    )
    .await
}
