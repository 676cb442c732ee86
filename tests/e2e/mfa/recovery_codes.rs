//! Recovery codes, and what is sealed at rest.

use reqwest::Method;
use serde_json::json;

use super::*;
use crate::harness::*;

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
    let s = current_session(&app, winner).await;
    assert_eq!(s["factors"], json!(["password", "recoveryCode"]));
    // The loser's challenge is still open for a code not yet used.
    completes(&app, loser, loser_challenge, &codes[1]).await;
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
    assert_invalid(answer(&app, &c, &cc, &codes[3]).await).await;
    completes(&app, &c, &cc, &fresh[0]).await;
}

#[tokio::test]
async fn secrets_and_codes_are_sealed_at_rest() {
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
    // Deleting the account takes its MFA rows with it (the store suite checks the cascade);
    // signing up again with the same address starts from nothing.
    let email = app.account(&login).await["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = send(app.as_user(Method::DELETE, "/v1/account", &login)).await;
    assert_eq!(r.status(), 204);
    app.signup(&email).await;
    let again = app.login(&email, PASSWORD).await;
    let f = ok_json(
        app.as_user(Method::GET, "/v1/account/mfa/factors", &again),
        200,
    )
    .await;
    assert_eq!(
        (&f["totp"], &f["recoveryCode"]),
        (&json!(false), &json!(false))
    );
}

#[tokio::test]
async fn two_challenges_completed_at_once_on_one_session_both_count() {
    let app = spawn_app().await;
    let (email, first) = app.user().await;
    let secret = add_totp(&app, &first).await;
    let codes = ok_json(
        app.as_user(Method::POST, "/v1/account/mfa/recovery-codes", &first),
        201,
    )
    .await;
    set_mfa(&app, &first, true).await;
    let second = app.login(&email, PASSWORD).await;
    let by_totp = challenge(&app, &second, "totp").await;
    let by_code = challenge(&app, &second, "recoveryCode").await;
    next_step(&app);
    let code = oathtool(&app, &secret);
    let (a, b) = tokio::join!(
        answer(&app, &second, &by_totp, &code),
        answer(
            &app,
            &second,
            &by_code,
            codes["recoveryCodes"][0].as_str().unwrap()
        )
    );
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let s = current_session(&app, &second).await;
    let mut factors: Vec<String> = serde_json::from_value(s["factors"].clone()).unwrap();
    factors.sort();
    assert_eq!(factors, ["password", "recoveryCode", "totp"]);
}
