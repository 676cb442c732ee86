//! Passkeys over HTTP, each ceremony answered by a software authenticator
//! (`webauthn-authenticator-rs`), as a browser's `navigator.credentials` would.
//!
//! The software authenticators cannot keep discoverable credentials, so the tests play the
//! browser's part a little: registration asks them for a server-side credential, and sign-in
//! names the credential the test holds (`allowCredentials`), as a page that knows its user's
//! credentials may. The server's answers are the same either way; the browser test in
//! `tests/browser/` runs the usernameless flow on Chromium's virtual authenticator.

use reqwest::Method;
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::softtoken::SoftToken;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};

use crate::harness::*;

const ORIGIN: &str = "http://localhost:5173";

fn origin(s: &str) -> Url {
    Url::parse(s).unwrap()
}

/// The test project with passkeys on (its `localhost` web platform makes the relying party).
async fn app() -> TestApp {
    spawn_with(with_project(|p| p.auth.methods.passkey = true)).await
}

async fn send(r: reqwest::RequestBuilder) -> (u16, Value) {
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Starts a registration; the challenge answer as the authenticator gives it.
async fn register_answer(
    app: &TestApp,
    login: &Login,
    auth: &mut impl WebauthnAuthenticator,
    from: &str,
    body: Value,
) -> (String, Value) {
    let (status, challenge) = send(
        app.as_user(Method::POST, "/v1/account/passkeys", login)
            .json(&body),
    )
    .await;
    assert_eq!(status, 201, "{challenge}");
    let mut public_key = challenge["publicKey"].clone();
    assert_eq!(
        public_key["authenticatorSelection"]["residentKey"],
        "required"
    );
    assert_eq!(
        public_key["authenticatorSelection"]["userVerification"],
        "required"
    );
    assert_eq!(public_key["attestation"], "none");
    public_key["authenticatorSelection"]["residentKey"] = json!("discouraged");
    public_key["authenticatorSelection"]["requireResidentKey"] = json!(false);
    let ccr: CreationChallengeResponse =
        serde_json::from_value(json!({ "publicKey": public_key })).unwrap();
    let answer = auth.do_registration(origin(from), ccr).unwrap();
    (
        challenge["passkeyId"].as_str().unwrap().to_owned(),
        serde_json::to_value(&answer).unwrap(),
    )
}

/// Registers a passkey; its model and the credential id the authenticator made.
async fn register(
    app: &TestApp,
    login: &Login,
    auth: &mut impl WebauthnAuthenticator,
) -> (Value, String) {
    let (id, credential) =
        register_answer(app, login, auth, ORIGIN, json!({"name": "laptop"})).await;
    let credential_id = credential["id"].as_str().unwrap().to_owned();
    let (status, passkey) = send(
        app.as_user(
            Method::PUT,
            &format!("/v1/account/passkeys/{id}/verification"),
            login,
        )
        .json(&json!({ "credential": credential })),
    )
    .await;
    assert_eq!(status, 200, "{passkey}");
    (passkey, credential_id)
}

/// Starts a sign-in; its challenge id and the authenticator's assertion.
async fn sign_in_answer(
    app: &TestApp,
    auth: &mut impl WebauthnAuthenticator,
    from: &str,
    credential_id: &str,
) -> (String, Value) {
    let (status, challenge) = send(app.req(Method::POST, "/v1/account/tokens/passkey")).await;
    assert_eq!(status, 201, "{challenge}");
    assert_eq!(challenge["passkeyId"], "");
    assert_eq!(challenge["publicKey"]["allowCredentials"], json!([]));
    let mut public_key = challenge["publicKey"].clone();
    public_key["allowCredentials"] = json!([{"type": "public-key", "id": credential_id}]);
    let rcr: RequestChallengeResponse =
        serde_json::from_value(json!({ "publicKey": public_key })).unwrap();
    let answer = auth.do_authentication(origin(from), rcr).unwrap();
    (
        challenge["$id"].as_str().unwrap().to_owned(),
        serde_json::to_value(&answer).unwrap(),
    )
}

async fn finish_sign_in(app: &TestApp, challenge: &str, credential: &Value) -> (u16, Value) {
    send(
        app.req(Method::PUT, "/v1/account/tokens/passkey")
            .json(&json!({"challengeId": challenge, "credential": credential})),
    )
    .await
}

#[tokio::test]
async fn a_registered_passkey_signs_in_without_a_password_as_two_factors() {
    let app = app().await;
    let (email, login) = app.user().await;
    let mut auth = SoftPasskey::new(true);
    let (passkey, cred) = register(&app, &login, &mut auth).await;
    assert_eq!(passkey["name"], "laptop");
    assert_eq!(passkey["accessedAt"], "", "never used yet: empty, not null");
    let id = passkey["$id"].as_str().unwrap();

    let (_, list) = send(app.as_user(Method::GET, "/v1/account/passkeys", &login)).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["passkeys"][0]["$id"], id);
    let (status, renamed) = send(
        app.as_user(Method::PATCH, &format!("/v1/account/passkeys/{id}"), &login)
            .json(&json!({"name": "work laptop"})),
    )
    .await;
    assert_eq!(
        (status, renamed["name"].as_str()),
        (200, Some("work laptop"))
    );

    let (challenge, credential) = sign_in_answer(&app, &mut auth, ORIGIN, &cred).await;
    let (status, token) = finish_sign_in(&app, &challenge, &credential).await;
    assert_eq!(status, 201, "{token}");
    assert_eq!(token["userId"], login.user_id);
    assert_eq!(token["secret"].as_str().unwrap().len(), 64);
    let r = app
        .req(Method::POST, "/v1/account/sessions/token")
        .json(&json!({"userId": token["userId"], "secret": token["secret"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let session = login_from(r).await;
    let (_, s) = send(app.as_user(Method::GET, "/v1/account/sessions/current", &session)).await;
    assert_eq!(s["provider"], "passkey");
    assert_eq!(s["factors"], json!(["passkey", "userVerification"]));
    assert_ne!(s["mfaUpdatedAt"], "");
    let (status, account) = send(app.as_user(Method::GET, "/v1/account", &session)).await;
    assert_eq!(
        (status, account["email"].as_str()),
        (200, Some(email.as_str()))
    );
    let (_, got) =
        send(app.as_user(Method::GET, &format!("/v1/account/passkeys/{id}"), &login)).await;
    assert_ne!(got["accessedAt"], "", "the sign-in is recorded");

    // The token works once.
    let r = app
        .req(Method::POST, "/v1/account/sessions/token")
        .json(&json!({"userId": token["userId"], "secret": token["secret"]}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_invalid_token").await;

    // Deleted, it signs no one in.
    let (status, _) = send(app.as_user(
        Method::DELETE,
        &format!("/v1/account/passkeys/{id}"),
        &login,
    ))
    .await;
    assert_eq!(status, 204);
    let (challenge, credential) = sign_in_answer(&app, &mut auth, ORIGIN, &cred).await;
    let (status, e) = finish_sign_in(&app, &challenge, &credential).await;
    assert_eq!(
        (status, e["type"].as_str()),
        (401, Some("user_passkey_invalid"))
    );
}

#[tokio::test]
async fn wrong_origins_replayed_challenges_and_cloned_authenticators_are_refused() {
    let app = app().await;
    let (_, login) = app.user().await;
    // Registration from a page outside the project's platforms.
    let mut auth = SoftPasskey::new(true);
    let (id, credential) = register_answer(
        &app,
        &login,
        &mut auth,
        "https://sub.localhost:5173",
        json!({}),
    )
    .await;
    let verify = |credential: Value| {
        app.as_user(
            Method::PUT,
            &format!("/v1/account/passkeys/{id}/verification"),
            &login,
        )
        .json(&json!({ "credential": credential }))
    };
    let (status, e) = send(verify(credential.clone())).await;
    assert_eq!(
        (status, e["type"].as_str()),
        (401, Some("user_passkey_invalid")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains("origin"), "{e}");
    // The challenge went with the failed attempt.
    let (status, e) = send(verify(credential)).await;
    assert_eq!(
        (status, e["type"].as_str()),
        (401, Some("user_invalid_token")),
        "{e}"
    );
    let (_, list) = send(app.as_user(Method::GET, "/v1/account/passkeys", &login)).await;
    assert_eq!(list["total"], 0, "a pending passkey is never listed");

    // A token authenticator, and a copy of it made after registration: both count from the
    // same signature counter, so the second to sign in is a clone.
    let (mut token, _) = SoftToken::new(true).unwrap();
    let (_, cred) = register(&app, &login, &mut token).await;
    let mut clone = SoftToken::from_cbor(&token.to_cbor().unwrap()).unwrap();

    let (challenge, credential) = sign_in_answer(&app, &mut token, ORIGIN, &cred).await;
    let (status, _) = finish_sign_in(&app, &challenge, &credential).await;
    assert_eq!(status, 201);
    // The same assertion again: its challenge is spent.
    let (status, e) = finish_sign_in(&app, &challenge, &credential).await;
    assert_eq!(
        (status, e["type"].as_str()),
        (401, Some("user_invalid_token"))
    );
    // An assertion for one challenge does not answer another.
    let (_, other) = send(app.req(Method::POST, "/v1/account/tokens/passkey")).await;
    let other = other["$id"].as_str().unwrap();
    let (status, e) = finish_sign_in(&app, other, &credential).await;
    assert_eq!(
        (status, e["type"].as_str()),
        (401, Some("user_passkey_invalid"))
    );
    assert!(
        e["message"].as_str().unwrap().contains("challenge differs"),
        "{e}"
    );

    let (challenge, credential) = sign_in_answer(&app, &mut clone, ORIGIN, &cred).await;
    let (status, e) = finish_sign_in(&app, &challenge, &credential).await;
    assert_eq!(
        (status, e["type"].as_str()),
        (401, Some("user_passkey_invalid")),
        "{e}"
    );
    assert!(
        e["message"].as_str().unwrap().contains("compromised"),
        "{e}"
    );

    // A sign-in from another site's page.
    let (challenge, credential) =
        sign_in_answer(&app, &mut token, "https://sub.localhost:5173", &cred).await;
    let (status, e) = finish_sign_in(&app, &challenge, &credential).await;
    assert_eq!(status, 401);
    assert!(e["message"].as_str().unwrap().contains("origin"), "{e}");
}

#[tokio::test]
async fn the_switch_the_recent_session_rule_the_limit_and_blocking_hold() {
    // Off by default, as in Appwrite: the two routes that start a ceremony answer 501.
    let off = spawn_app().await;
    let (_, login) = off.user().await;
    let (status, e) = send(off.as_user(Method::POST, "/v1/account/passkeys", &login)).await;
    assert_eq!(
        (status, e["type"].as_str()),
        (501, Some("user_auth_method_unsupported"))
    );
    let (status, _) = send(off.req(Method::POST, "/v1/account/tokens/passkey")).await;
    assert_eq!(status, 501);

    // Appwrite's rate limit (10 an hour) would stop the eleventh request before the count.
    let app = spawn_with(|c| {
        c.file.rate_limits = Some(false);
        with_project(|p| p.auth.methods.passkey = true)(c);
    })
    .await;
    let (_, login) = app.user().await;
    let (status, _) = send(app.req(Method::GET, "/v1/account/passkeys")).await;
    assert_eq!(status, 401, "guests have no passkeys");
    for n in 0..10 {
        let (status, e) = send(
            app.as_user(Method::POST, "/v1/account/passkeys", &login)
                .json(&json!({"passkeyId": format!("pk{n}")})),
        )
        .await;
        assert_eq!(status, 201, "{e}");
    }
    // Restarting a pending one is not an eleventh; a new one is.
    let (status, _) = send(
        app.as_user(Method::POST, "/v1/account/passkeys", &login)
            .json(&json!({"passkeyId": "pk3"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, e) = send(app.as_user(Method::POST, "/v1/account/passkeys", &login)).await;
    assert_eq!(
        (status, e["type"].as_str()),
        (400, Some("user_passkey_limit_exceeded"))
    );
    // Another user may not take a pending id.
    let (_, other) = app.user().await;
    let (status, e) = send(
        app.as_user(Method::POST, "/v1/account/passkeys", &other)
            .json(&json!({"passkeyId": "pk3"})),
    )
    .await;
    assert_eq!(
        (status, e["type"].as_str()),
        (409, Some("user_passkey_already_exists"))
    );

    // Eleven minutes on, the session is too old to add a passkey.
    app.clock.advance(11 * 60_000);
    let (status, e) = send(app.as_user(Method::POST, "/v1/account/passkeys", &other)).await;
    assert_eq!(
        (status, e["type"].as_str()),
        (401, Some("user_reauthentication_required"))
    );

    // A blocked user's passkey verifies, and the sign-in is still refused.
    let (_, fresh) = app.user().await;
    let mut auth = SoftPasskey::new(true);
    let (_, cred) = register(&app, &fresh, &mut auth).await;
    let r = app
        .as_key(
            Method::PATCH,
            &format!("/v1/users/{}/status", fresh.user_id),
        )
        .json(&json!({"status": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (challenge, credential) = sign_in_answer(&app, &mut auth, ORIGIN, &cred).await;
    let (status, e) = finish_sign_in(&app, &challenge, &credential).await;
    assert_eq!((status, e["type"].as_str()), (403, Some("user_blocked")));
}

#[tokio::test]
async fn malformed_credentials_are_refused_and_deleting_needs_a_recent_session() {
    let app = app().await;
    let (_, login) = app.user().await;
    let (status, challenge) = send(
        app.as_user(Method::POST, "/v1/account/passkeys", &login)
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 201);
    let id = challenge["passkeyId"].as_str().unwrap();
    // The first attempt is refused for its shape; the challenge is then spent.
    for (credential, ty) in [
        (json!({"id": "x"}), "user_passkey_invalid"),
        (
            json!({"response": {"attestationObject": "!!"}}),
            "user_invalid_token",
        ),
    ] {
        let (status, e) = send(
            app.as_user(
                Method::PUT,
                &format!("/v1/account/passkeys/{id}/verification"),
                &login,
            )
            .json(&json!({ "credential": credential })),
        )
        .await;
        assert_eq!((status, e["type"].as_str()), (401, Some(ty)), "{e}");
    }
    let (status, e) = send(
        app.req(Method::PUT, "/v1/account/tokens/passkey")
            .json(&json!({"challengeId": "nope", "credential": {"id": 1}})),
    )
    .await;
    assert_eq!(
        (status, e["type"].as_str()),
        (401, Some("user_invalid_token"))
    );
    let (_, fresh) = send(app.req(Method::POST, "/v1/account/tokens/passkey")).await;
    let (status, e) = send(
        app.req(Method::PUT, "/v1/account/tokens/passkey")
            .json(&json!({"challengeId": fresh["$id"], "credential": {"rawId": "%%%"}})),
    )
    .await;
    assert_eq!(
        (status, e["type"].as_str()),
        (401, Some("user_passkey_invalid")),
        "{e}"
    );

    let mut auth = SoftPasskey::new(true);
    let (passkey, _) = register(&app, &login, &mut auth).await;
    let id = passkey["$id"].as_str().unwrap();
    app.clock.advance(11 * 60_000);
    let (status, e) = send(app.as_user(
        Method::DELETE,
        &format!("/v1/account/passkeys/{id}"),
        &login,
    ))
    .await;
    assert_eq!(
        (status, e["type"].as_str()),
        (401, Some("user_reauthentication_required"))
    );
    // Renaming needs no fresh sign-in.
    let (status, _) = send(
        app.as_user(Method::PATCH, &format!("/v1/account/passkeys/{id}"), &login)
            .json(&json!({"name": "old laptop"})),
    )
    .await;
    assert_eq!(status, 200);
}
