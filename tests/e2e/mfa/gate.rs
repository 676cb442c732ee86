//! The factor gate, TOTP authenticators and the `mfaProtected` window.

use latchkey::domain::time::Clock;
use reqwest::Method;
use serde_json::{Value, json};

use super::*;
use crate::harness::*;

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
    let s = current_session(&app, &first).await;
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
    assert_invalid(answer(&app, &second, &id, &code).await).await;
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
    assert_invalid(answer(&app, &second, &id, &oathtool(&app, &secret)).await).await;
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
        assert_invalid(r).await;
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
        assert_invalid(r).await;
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
    completes(&app, &first, &id, &oathtool(&app, &secret)).await;
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
    completes(&app, &first, &id, &oathtool(&app, &secret)).await;
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
