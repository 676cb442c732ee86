//! MFA (spec §2.6, §6): TOTP authenticators with codes computed independently by Debian's
//! `oathtool` at the server's (manual) clock, challenges by TOTP, email (a real SMTP server),
//! SMS (a provider-shaped endpoint), recovery code and custom factor, the factor gate and
//! `mfaProtected` routes, and what is stricter than Appwrite.

use latchkey::domain::time::Clock;
use reqwest::Method;
use serde_json::{Value, json};

use crate::delivery::{MailSink, SmsEndpoint};
use crate::harness::*;

/// The TOTP code of `secret` at the app's clock, from `oathtool` (not our code).
fn oathtool(app: &TestApp, secret: &str) -> String {
    let secs = app.clock.now_ms().div_euclid(1000);
    let out = std::process::Command::new("oathtool")
        .args(["--totp", "-b", secret, "--now", &format!("@{secs}")])
        .output()
        .expect("oathtool runs (apt-get install oathtool)");
    assert!(out.status.success(), "oathtool: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Moves the clock to the start of the next 30-second step.
fn next_step(app: &TestApp) {
    let into = app.clock.now_ms().rem_euclid(30_000);
    app.clock.advance(30_000 - into);
}

async fn send(r: reqwest::RequestBuilder) -> reqwest::Response {
    r.send().await.unwrap()
}

async fn ok_json(r: reqwest::RequestBuilder, status: u16) -> Value {
    let r = send(r).await;
    assert_eq!(r.status(), status, "{:?}", r.url().path());
    r.json().await.unwrap()
}

/// Creates and verifies a TOTP authenticator for `login`; its secret.
async fn add_totp(app: &TestApp, login: &Login) -> String {
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

async fn set_mfa(app: &TestApp, login: &Login, on: bool) -> Value {
    ok_json(
        app.as_user(Method::PATCH, "/v1/account/mfa", login)
            .json(&json!({"mfa": on})),
        200,
    )
    .await
}

async fn challenge(app: &TestApp, login: &Login, factor: &str) -> String {
    let c = ok_json(
        app.as_user(Method::POST, "/v1/account/mfa/challenges", login)
            .json(&json!({"factor": factor})),
        201,
    )
    .await;
    assert_eq!(c["userId"], login.user_id.as_str());
    assert!(c.get("code").is_none(), "the code is never returned: {c}");
    c["$id"].as_str().unwrap().to_owned()
}

async fn answer(app: &TestApp, login: &Login, id: &str, otp: &str) -> reqwest::Response {
    send(
        app.as_user(Method::PUT, "/v1/account/mfa/challenges", login)
            .json(&json!({"challengeId": id, "otp": otp})),
    )
    .await
}

async fn get_account(app: &TestApp, login: &Login) -> reqwest::Response {
    send(app.as_user(Method::GET, "/v1/account", login)).await
}

/// Marks the user's email and phone verified in the store (what the verification flows do,
/// which have their own tests).
async fn mark_verified(app: &TestApp, user_id: &str, phone: Option<&str>) {
    let mut tx = app.state.store.begin().await.unwrap();
    let mut u = tx.lock_user(PROJECT, user_id).await.unwrap().unwrap();
    u.email_verification = true;
    if let Some(p) = phone {
        u.phone = Some(p.into());
        u.phone_verification = true;
    }
    tx.update_user(PROJECT, &u).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_totp_challenge_unblocks_a_new_login_once_mfa_is_on() {
    let app = spawn_app().await;
    let (email, first) = app.user().await;
    let created = ok_json(
        app.as_user(Method::POST, "/v1/account/mfa/authenticators/totp", &first),
        200,
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        created["uri"],
        format!(
            "otpauth://totp/Test%20App%3A{}?issuer=Test%20App&secret={secret}",
            email.replace('@', "%40")
        )
    );
    let code = oathtool(&app, &secret);
    let account = ok_json(
        app.as_user(Method::PUT, "/v1/account/mfa/authenticators/totp", &first)
            .json(&json!({"otp": code})),
        200,
    )
    .await;
    assert_eq!(account["mfa"], false, "verifying does not turn MFA on");
    let s = ok_json(
        app.as_user(Method::GET, "/v1/account/sessions/current", &first),
        200,
    )
    .await;
    assert_eq!(s["factors"], json!(["password", "totp"]));
    assert_eq!(s["mfaUpdatedAt"], "", "verifying is not a challenge");
    assert_eq!(set_mfa(&app, &first, true).await["mfa"], true);

    let second = app.login(&email, PASSWORD).await;
    assert_error(
        get_account(&app, &second).await,
        401,
        "user_more_factors_required",
    )
    .await;
    // The `mfa` group stays open to an incomplete session.
    let factors = ok_json(
        app.as_user(Method::GET, "/v1/account/mfa/factors", &second),
        200,
    )
    .await;
    assert_eq!(
        factors,
        json!({"totp": true, "phone": false, "email": false, "recoveryCode": false, "custom": false})
    );
    let id = challenge(&app, &second, "totp").await;
    // The code that verified the authenticator is spent for its step (stricter than Appwrite).
    assert_error(
        answer(&app, &second, &id, &code).await,
        401,
        "user_invalid_token",
    )
    .await;
    next_step(&app);
    let r = answer(&app, &second, &id, &oathtool(&app, &secret)).await;
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["$id"], second.session_id.as_str());
    assert_eq!(s["factors"], json!(["password", "totp"]));
    assert_eq!(s["secret"], "");
    assert_eq!(
        latchkey::domain::time::parse_iso_ms(s["mfaUpdatedAt"].as_str().unwrap()),
        Some(app.clock.now_ms())
    );
    assert_eq!(get_account(&app, &second).await.status(), 200);
    // The challenge is gone once completed.
    assert_error(
        answer(&app, &second, &id, &oathtool(&app, &secret)).await,
        401,
        "user_invalid_token",
    )
    .await;
    // The first session, credited when MFA was enabled, was never blocked.
    assert_eq!(get_account(&app, &first).await.status(), 200);
}

#[tokio::test]
async fn only_the_current_steps_code_verifies_an_authenticator() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let path = "/v1/account/mfa/authenticators/totp";
    let t = ok_json(app.as_user(Method::POST, path, &login), 200).await;
    let secret = t["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 103);
    app.clock.advance(-30_000);
    let previous = oathtool(&app, &secret);
    app.clock.advance(60_000);
    let next = oathtool(&app, &secret);
    app.clock.advance(-30_000);
    for wrong in [previous.as_str(), next.as_str(), "000000", "12345"] {
        let r = send(
            app.as_user(Method::PUT, path, &login)
                .json(&json!({"otp": wrong})),
        )
        .await;
        assert_error(r, 401, "user_invalid_token").await;
    }
    // A second create replaces the unverified authenticator: the old secret stops working.
    let t2 = ok_json(app.as_user(Method::POST, path, &login), 200).await;
    let secret2 = t2["secret"].as_str().unwrap().to_owned();
    assert_ne!(secret, secret2);
    if oathtool(&app, &secret) != oathtool(&app, &secret2) {
        let r = send(
            app.as_user(Method::PUT, path, &login)
                .json(&json!({"otp": oathtool(&app, &secret)})),
        )
        .await;
        assert_error(r, 401, "user_invalid_token").await;
    }
    let code = oathtool(&app, &secret2);
    ok_json(
        app.as_user(Method::PUT, path, &login)
            .json(&json!({"otp": code})),
        200,
    )
    .await;
    let r = send(
        app.as_user(Method::PUT, path, &login)
            .json(&json!({"otp": code})),
    )
    .await;
    assert_error(r, 409, "user_authenticator_already_verified").await;
    let r = send(app.as_user(Method::POST, path, &login)).await;
    assert_error(r, 409, "user_authenticator_already_verified").await;
    for bad in ["sms", "email"] {
        let r = send(app.as_user(
            Method::POST,
            &format!("/v1/account/mfa/authenticators/{bad}"),
            &login,
        ))
        .await;
        let m = assert_error(r, 400, "general_argument_invalid").await;
        assert_eq!(m, "Invalid `type` param: Value must be one of (totp)");
    }
    let (_, other) = app.user().await;
    let r = send(
        app.as_user(Method::PUT, path, &other)
            .json(&json!({"otp": "123456"})),
    )
    .await;
    assert_error(r, 404, "user_authenticator_not_found").await;
}

#[tokio::test]
async fn recovery_codes_are_single_use_even_when_sent_twice_at_once() {
    let app = spawn_app().await;
    let (email, first) = app.user().await;
    add_totp(&app, &first).await;
    let codes = ok_json(
        app.as_user(Method::POST, "/v1/account/mfa/recovery-codes", &first),
        201,
    )
    .await["recoveryCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert_eq!(codes.len(), 6);
    assert!(
        codes
            .iter()
            .all(|c| c.len() == 10 && c.chars().all(|ch| ch.is_ascii_hexdigit()))
    );
    let r = send(app.as_user(Method::POST, "/v1/account/mfa/recovery-codes", &first)).await;
    assert_error(r, 409, "user_recovery_codes_already_exists").await;
    set_mfa(&app, &first, true).await;

    // Two blocked sessions answer their challenges with the same code at once.
    let a = app.login(&email, PASSWORD).await;
    let b = app.login(&email, PASSWORD).await;
    // The SDKs' enum spells the factor `recoverycode`.
    let ca = challenge(&app, &a, "recoverycode").await;
    let cb = challenge(&app, &b, "recoveryCode").await;
    let (ra, rb) = tokio::join!(
        answer(&app, &a, &ca, &codes[0]),
        answer(&app, &b, &cb, &codes[0])
    );
    let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 401], "one code, one success");
    let (winner, loser, loser_challenge) = if ra.status() == 200 {
        (&a, &b, &cb)
    } else {
        (&b, &a, &ca)
    };
    let s = ok_json(
        app.as_user(Method::GET, "/v1/account/sessions/current", winner),
        200,
    )
    .await;
    assert_eq!(s["factors"], json!(["password", "recoveryCode"]));
    // The loser's challenge is still open for a code not yet used.
    assert_eq!(
        answer(&app, loser, loser_challenge, &codes[1])
            .await
            .status(),
        200
    );
    let left = ok_json(
        app.as_user(Method::GET, "/v1/account/mfa/recovery-codes", winner),
        200,
    )
    .await;
    assert_eq!(left["recoveryCodes"], json!(codes[2..]));
    let factors = ok_json(
        app.as_user(Method::GET, "/v1/account/mfa/factors", winner),
        200,
    )
    .await;
    assert_eq!(factors["recoveryCode"], true);
    // Regenerating replaces every code.
    let fresh = ok_json(
        app.as_user(Method::PATCH, "/v1/account/mfa/recovery-codes", winner),
        200,
    )
    .await;
    let fresh: Vec<String> = serde_json::from_value(fresh["recoveryCodes"].clone()).unwrap();
    assert_eq!(fresh.len(), 6);
    let c = app.login(&email, PASSWORD).await;
    let cc = challenge(&app, &c, "recoveryCode").await;
    assert_error(
        answer(&app, &c, &cc, &codes[3]).await,
        401,
        "user_invalid_token",
    )
    .await;
    assert_eq!(answer(&app, &c, &cc, &fresh[0]).await.status(), 200);
}

#[tokio::test]
async fn mfa_protected_routes_need_a_challenge_in_the_last_30_minutes() {
    let app = spawn_app().await;
    let (email, first) = app.user().await;
    let secret = add_totp(&app, &first).await;
    ok_json(
        app.as_user(Method::POST, "/v1/account/mfa/recovery-codes", &first),
        201,
    )
    .await;
    for (m, p) in [
        (Method::GET, "/v1/account/mfa/recovery-codes"),
        (Method::PATCH, "/v1/account/mfa/recovery-codes"),
        (Method::DELETE, "/v1/account/mfa/authenticators/totp"),
    ] {
        let r = send(app.as_user(m.clone(), p, &first)).await;
        assert_error(r, 401, "user_challenge_required").await;
    }
    next_step(&app);
    let id = challenge(&app, &first, "totp").await;
    assert_eq!(
        answer(&app, &first, &id, &oathtool(&app, &secret))
            .await
            .status(),
        200
    );
    ok_json(
        app.as_user(Method::GET, "/v1/account/mfa/recovery-codes", &first),
        200,
    )
    .await;
    // A JWT caller has no session, so never a recent challenge.
    let jwt = ok_json(app.as_user(Method::POST, "/v1/account/jwts", &first), 201).await;
    let r = send(
        app.req(Method::GET, "/v1/account/mfa/recovery-codes")
            .header("x-appwrite-jwt", jwt["jwt"].as_str().unwrap()),
    )
    .await;
    assert_error(r, 401, "user_challenge_required").await;
    app.clock.advance(31 * 60 * 1000);
    let r = send(app.as_user(Method::GET, "/v1/account/mfa/recovery-codes", &first)).await;
    assert_error(r, 401, "user_challenge_required").await;
    // With MFA on, a blocked session hears about factors first.
    set_mfa(&app, &first, true).await;
    let second = app.login(&email, PASSWORD).await;
    let r = send(app.as_user(
        Method::DELETE,
        "/v1/account/mfa/authenticators/totp",
        &second,
    ))
    .await;
    assert_error(r, 401, "user_more_factors_required").await;
    // After a fresh challenge the authenticator can go, and then it is not found.
    next_step(&app);
    let id = challenge(&app, &first, "totp").await;
    assert_eq!(
        answer(&app, &first, &id, &oathtool(&app, &secret))
            .await
            .status(),
        200
    );
    let r = send(app.as_user(
        Method::DELETE,
        "/v1/account/mfa/authenticators/totp",
        &first,
    ))
    .await;
    assert_eq!(r.status(), 204);
    let r = send(app.as_user(
        Method::DELETE,
        "/v1/account/mfa/authenticators/totp",
        &first,
    ))
    .await;
    assert_error(r, 404, "user_authenticator_not_found").await;
}

#[tokio::test]
async fn an_emailed_code_completes_an_email_challenge() {
    let sink = MailSink::start().await;
    let app = spawn_with(sink.configure()).await;
    let (email, first) = app.user().await;
    let r = send(
        app.as_user(Method::POST, "/v1/account/mfa/challenges", &first)
            .json(&json!({"factor": "email"})),
    )
    .await;
    assert_error(r, 400, "user_email_not_verified").await;
    mark_verified(&app, &first.user_id, None).await;
    set_mfa(&app, &first, true).await;
    let s = ok_json(
        app.as_user(Method::GET, "/v1/account/sessions/current", &first),
        200,
    )
    .await;
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
    let mail = sink.wait_for(&email).await;
    assert_eq!(mail.subject(), "Verification Code for Test App");
    let code = mail.code();
    assert!(!mail.html().is_empty());
    assert_error(
        answer(&app, &second, &id, "000000").await,
        401,
        "user_invalid_token",
    )
    .await;
    assert_eq!(answer(&app, &second, &id, &code).await.status(), 200);
    assert_eq!(get_account(&app, &second).await.status(), 200);
}

#[tokio::test]
async fn a_texted_code_completes_a_phone_challenge() {
    let sms = SmsEndpoint::start(201, json!({"sid": "SM1"})).await;
    let settings = sms.settings("twilio");
    let app = spawn_with(move |c| c.file.sms = Some(settings)).await;
    let (email, first) = app.user().await;
    let r = send(
        app.as_user(Method::POST, "/v1/account/mfa/challenges", &first)
            .json(&json!({"factor": "phone"})),
    )
    .await;
    assert_error(r, 400, "user_phone_not_found").await;
    mark_verified(&app, &first.user_id, Some("+16505550123")).await;
    set_mfa(&app, &first, true).await;
    let second = app.login(&email, PASSWORD).await;
    let id = challenge(&app, &second, "phone").await;
    let sent = sms.wait_for_n(1).await;
    assert_eq!(sent[0].form_field("To").as_deref(), Some("+16505550123"));
    let body = sent[0].form_field("Body").unwrap();
    let code: String = body.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6, "{body}");
    assert_eq!(answer(&app, &second, &id, &code).await.status(), 200);
    assert_eq!(get_account(&app, &second).await.status(), 200);
}

#[tokio::test]
async fn email_and_phone_challenges_need_a_transport() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    mark_verified(&app, &login.user_id, Some("+16505550124")).await;
    let r = send(
        app.as_user(Method::POST, "/v1/account/mfa/challenges", &login)
            .json(&json!({"factor": "email"})),
    )
    .await;
    assert_error(r, 503, "general_smtp_disabled").await;
    let r = send(
        app.as_user(Method::POST, "/v1/account/mfa/challenges", &login)
            .json(&json!({"factor": "phone"})),
    )
    .await;
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
    let r = send(
        app.as_user(Method::POST, "/v1/account/mfa/challenges", &second)
            .json(&json!({"factor": "sms"})),
    )
    .await;
    let m = assert_error(r, 400, "general_argument_invalid").await;
    assert!(
        m.contains("email, phone, totp, recoveryCode, custom"),
        "{m}"
    );
    let r = send(
        app.as_user(Method::POST, "/v1/account/mfa/challenges", &second)
            .json(&json!({"factor": "custom"})),
    )
    .await;
    let m = assert_error(r, 501, "user_auth_method_unsupported").await;
    assert_eq!(
        m,
        "The requested factor is disabled by the MFA factors policy"
    );
    let r = answer(&app, &second, "", "123456").await;
    assert_error(r, 400, "general_argument_invalid").await;
    assert_error(
        answer(&app, &second, "nope", "123456").await,
        401,
        "user_invalid_token",
    )
    .await;

    // Another user's challenge is not yours.
    let (_, stranger) = app.user().await;
    let id = challenge(&app, &second, "totp").await;
    next_step(&app);
    let code = oathtool(&app, &secret);
    assert_error(
        answer(&app, &stranger, &id, &code).await,
        401,
        "user_invalid_token",
    )
    .await;

    // An expired challenge is refused even with the right code.
    app.clock.advance(16 * 60 * 1000);
    let code = oathtool(&app, &secret);
    assert_error(
        answer(&app, &second, &id, &code).await,
        401,
        "user_invalid_token",
    )
    .await;

    // Five wrong codes spend a challenge; the right one then fails too.
    let id = challenge(&app, &second, "totp").await;
    for _ in 0..5 {
        assert_error(
            answer(&app, &second, &id, "000000").await,
            401,
            "user_invalid_token",
        )
        .await;
    }
    next_step(&app);
    let code = oathtool(&app, &secret);
    assert_error(
        answer(&app, &second, &id, &code).await,
        401,
        "user_invalid_token",
    )
    .await;
    let s = ok_json(
        app.as_user(Method::GET, "/v1/account/sessions/current", &first),
        200,
    )
    .await;
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
    assert_eq!(
        answer(&app, &second, &id, &oathtool(&app, &secret))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn mfa_without_a_second_factor_blocks_nobody() {
    let app = spawn_app().await;
    let (email, first) = app.user().await;
    let account = set_mfa(&app, &first, true).await;
    assert_eq!(account["mfa"], true);
    let second = app.login(&email, PASSWORD).await;
    assert_eq!(get_account(&app, &second).await.status(), 200);
    let r = send(
        app.as_user(Method::PATCH, "/v1/account/mfa", &first)
            .json(&json!({"mfa": "yes"})),
    )
    .await;
    assert_error(r, 400, "general_argument_invalid").await;
}

#[tokio::test]
async fn a_custom_challenge_is_allowed_by_policy_and_its_code_stays_server_side() {
    let app = spawn_with(with_project(|p| p.auth.mfa_factors.custom = true)).await;
    let (_, login) = app.user().await;
    let f = ok_json(
        app.as_user(Method::GET, "/v1/account/mfa/factors", &login),
        200,
    )
    .await;
    assert_eq!(f["custom"], true);
    let id = challenge(&app, &login, "custom").await;
    let row = app
        .state
        .store
        .find_challenge(PROJECT, &id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        row.code.is_some(),
        "the sealed code is kept for the Users API"
    );
    assert_error(
        answer(&app, &login, &id, "000000").await,
        401,
        "user_invalid_token",
    )
    .await;
    // Older response formats do not know `custom`.
    let f = ok_json(
        app.as_user(Method::GET, "/v1/account/mfa/factors", &login)
            .header("x-appwrite-response-format", "1.8.0"),
        200,
    )
    .await;
    assert!(f.get("custom").is_none(), "{f}");
}

#[tokio::test]
async fn secrets_and_codes_are_sealed_at_rest_and_go_with_the_user() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let secret = add_totp(&app, &login).await;
    let codes = ok_json(
        app.as_user(Method::POST, "/v1/account/mfa/recovery-codes", &login),
        201,
    )
    .await;
    challenge(&app, &login, "totp").await;
    let dump = dump_database(&app).await;
    assert!(!contains(&dump, &secret), "the TOTP secret is sealed");
    assert!(!contains(&dump, &secret[..16]));
    for c in codes["recoveryCodes"].as_array().unwrap() {
        assert!(
            !contains(&dump, c.as_str().unwrap()),
            "recovery codes are sealed"
        );
    }
    let store = &app.state.store;
    let r = send(app.as_user(Method::DELETE, "/v1/account", &login)).await;
    assert_eq!(r.status(), 204);
    assert!(
        store
            .find_authenticator(PROJECT, &login.user_id, "totp")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .find_recovery_codes(PROJECT, &login.user_id)
            .await
            .unwrap()
            .is_none()
    );
}
