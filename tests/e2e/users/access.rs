//! What a server does with a user's access: sessions, generic tokens, JWTs, MFA, targets.

use reqwest::Method;
use serde_json::{Value, json};

use super::create_user;
use crate::harness::*;

async fn send(app: &TestApp, m: Method, path: &str, body: Value) -> reqwest::Response {
    app.as_key(m, path).json(&body).send().await.unwrap()
}

async fn ok(app: &TestApp, m: Method, path: &str, body: Value, status: u16) -> Value {
    let r = send(app, m.clone(), path, body).await;
    assert_eq!(r.status(), status, "{m} {path}");
    if status == 204 {
        return Value::Null;
    }
    r.json().await.unwrap()
}

#[tokio::test]
async fn a_server_made_session_is_a_working_session_and_can_be_ended() {
    let app = spawn_app().await;
    create_user(&app, json!({"userId": "s1", "email": "s1@example.com"})).await;
    let s = ok(&app, Method::POST, "/v1/users/s1/sessions", json!({}), 201).await;
    assert_eq!(s["provider"], "server");
    assert_eq!(s["factors"], json!(["server"]));
    let login = Login {
        user_id: "s1".into(),
        session_id: s["$id"].as_str().unwrap().into(),
        encoded: s["secret"].as_str().unwrap().into(),
    };
    assert_eq!(app.account(&login).await["$id"], "s1");
    let second = ok(&app, Method::POST, "/v1/users/s1/sessions", json!({}), 201).await;
    let list = ok(&app, Method::GET, "/v1/users/s1/sessions", json!({}), 200).await;
    assert_eq!(list["total"], 2);
    assert_eq!(
        list["sessions"][0]["secret"], "",
        "only the creation reveals it"
    );
    let path = format!("/v1/users/s1/sessions/{}", second["$id"].as_str().unwrap());
    ok(&app, Method::DELETE, &path, json!({}), 204).await;
    let r = send(&app, Method::DELETE, &path, json!({})).await;
    assert_error(r, 404, "user_session_not_found").await;
    ok(
        &app,
        Method::DELETE,
        "/v1/users/s1/sessions",
        json!({}),
        204,
    )
    .await;
    let r = app
        .as_user(Method::GET, "/v1/account", &login)
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "general_unauthorized_scope").await;
}

#[tokio::test]
async fn a_generic_token_exchanges_once_for_a_session_until_it_expires() {
    let app = spawn_app().await;
    create_user(&app, json!({"userId": "t1", "email": "t1@example.com"})).await;
    let t = ok(
        &app,
        Method::POST,
        "/v1/users/t1/tokens",
        json!({"length": 10, "expire": 60}),
        201,
    )
    .await;
    let secret = t["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 10);
    assert!(secret.bytes().all(|c| c.is_ascii_hexdigit()));
    let exchange = |secret: String| {
        app.req(Method::POST, "/v1/account/sessions/token")
            .json(&json!({"userId": "t1", "secret": secret}))
            .send()
    };
    let r = exchange(secret.into()).await.unwrap();
    assert_eq!(r.status(), 201);
    let session: Value = r.json().await.unwrap();
    assert_eq!(session["provider"], "token");
    let r = exchange(secret.into()).await.unwrap();
    assert_error(r, 401, "user_invalid_token").await;
    // Default length 6; expired after its minute.
    let t = ok(
        &app,
        Method::POST,
        "/v1/users/t1/tokens",
        json!({"expire": 60}),
        201,
    )
    .await;
    assert_eq!(t["secret"].as_str().unwrap().len(), 6);
    app.clock.advance(61_000);
    let r = exchange(t["secret"].as_str().unwrap().into())
        .await
        .unwrap();
    assert_error(r, 401, "user_invalid_token").await;
    for body in [
        json!({"length": 3}),
        json!({"length": 129}),
        json!({"expire": 59}),
    ] {
        let r = send(&app, Method::POST, "/v1/users/t1/tokens", body).await;
        assert_error(r, 400, "general_argument_invalid").await;
    }
}

#[tokio::test]
async fn jwts_name_a_session_or_none_when_the_user_has_none() {
    let app = spawn_app().await;
    create_user(&app, json!({"userId": "j1", "email": "j1@example.com"})).await;
    let jwt_get = |jwt: String| {
        app.req(Method::GET, "/v1/account")
            .header("x-appwrite-jwt", jwt)
            .send()
    };
    // No session: a session-less JWT for the user, until it expires.
    let j = ok(
        &app,
        Method::POST,
        "/v1/users/j1/jwts",
        json!({"duration": 60}),
        201,
    )
    .await;
    let r = jwt_get(j["jwt"].as_str().unwrap().into()).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["$id"], "j1");
    app.clock.advance(61_000);
    let r = jwt_get(j["jwt"].as_str().unwrap().into()).await.unwrap();
    assert_error(r, 401, "user_jwt_invalid").await;
    // With sessions: `recent` is the newest; ending it ends the JWT.
    ok(&app, Method::POST, "/v1/users/j1/sessions", json!({}), 201).await;
    app.clock.advance(1_000);
    let newest = ok(&app, Method::POST, "/v1/users/j1/sessions", json!({}), 201).await;
    let j = ok(
        &app,
        Method::POST,
        "/v1/users/j1/jwts",
        json!({"sessionId": "recent"}),
        201,
    )
    .await;
    assert_eq!(
        jwt_get(j["jwt"].as_str().unwrap().into())
            .await
            .unwrap()
            .status(),
        200
    );
    let path = format!("/v1/users/j1/sessions/{}", newest["$id"].as_str().unwrap());
    ok(&app, Method::DELETE, &path, json!({}), 204).await;
    let r = jwt_get(j["jwt"].as_str().unwrap().into()).await.unwrap();
    assert_error(r, 401, "general_unauthorized_scope").await;
    let r = send(
        &app,
        Method::POST,
        "/v1/users/j1/jwts",
        json!({"sessionId": "nosuchsession"}),
    )
    .await;
    assert_error(r, 404, "user_session_not_found").await;
}

#[tokio::test]
async fn mfa_is_administered_and_a_custom_challenge_code_is_read_by_the_server() {
    let app = spawn_with(with_project(|p| p.auth.mfa_factors.custom = true)).await;
    let (_, login) = app.user().await;
    let id = login.user_id.clone();
    let base = format!("/v1/users/{id}/mfa");
    let u = ok(&app, Method::PATCH, &base, json!({"mfa": true}), 200).await;
    assert_eq!(u["mfa"], true);
    let f = ok(
        &app,
        Method::GET,
        &format!("{base}/factors"),
        json!({}),
        200,
    )
    .await;
    assert_eq!(f["totp"], false);
    assert_eq!(f["custom"], true);
    let r = send(
        &app,
        Method::GET,
        &format!("{base}/recovery-codes"),
        json!({}),
    )
    .await;
    assert_error(r, 404, "user_recovery_codes_not_found").await;
    let codes = ok(
        &app,
        Method::PATCH,
        &format!("{base}/recovery-codes"),
        json!({}),
        201,
    )
    .await;
    assert_eq!(codes["recoveryCodes"].as_array().unwrap().len(), 6);
    let r = send(
        &app,
        Method::PATCH,
        &format!("{base}/recovery-codes"),
        json!({}),
    )
    .await;
    assert_error(r, 409, "user_recovery_codes_already_exists").await;
    let got = ok(
        &app,
        Method::GET,
        &format!("{base}/recovery-codes"),
        json!({}),
        200,
    )
    .await;
    assert_eq!(got, codes);
    let fresh = ok(
        &app,
        Method::PUT,
        &format!("{base}/recovery-codes"),
        json!({}),
        200,
    )
    .await;
    assert_ne!(fresh, codes);
    let r = send(
        &app,
        Method::DELETE,
        &format!("{base}/authenticators/totp"),
        json!({}),
    )
    .await;
    assert_error(r, 404, "user_authenticator_not_found").await;

    // The user starts a custom challenge; the server reads its code and delivers it.
    let r = app
        .as_user(Method::POST, "/v1/account/mfa/challenges", &login)
        .json(&json!({"factor": "custom"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let challenge: Value = r.json().await.unwrap();
    let cid = challenge["$id"].as_str().unwrap();
    let secret = ok(
        &app,
        Method::GET,
        &format!("{base}/challenges/{cid}"),
        json!({}),
        200,
    )
    .await;
    let code = secret["code"].as_str().unwrap();
    assert_eq!(code.len(), 6);
    assert_eq!(secret["userId"], id.as_str());
    let r = app
        .as_user(Method::PUT, "/v1/account/mfa/challenges", &login)
        .json(&json!({"challengeId": cid, "otp": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Another user's challenge is not this user's.
    create_user(&app, json!({"userId": "other"})).await;
    let r = send(
        &app,
        Method::GET,
        &format!("/v1/users/other/mfa/challenges/{cid}"),
        json!({}),
    )
    .await;
    assert_error(r, 401, "user_invalid_token").await;
}

#[tokio::test]
async fn targets_are_listed_queried_changed_and_deleted() {
    let app = spawn_app().await;
    create_user(&app, json!({"userId": "g1", "email": "g1@example.com"})).await;
    create_user(&app, json!({"userId": "g2"})).await;
    let t = ok(&app, Method::POST, "/v1/users/g1/targets",
               json!({"targetId": "sms1", "providerType": "sms", "identifier": "+16505550109", "name": "Phone"}), 201).await;
    assert_eq!(t["providerType"], "sms");
    assert_eq!(t["providerId"], Value::Null);
    for (body, status, ty) in [
        (
            json!({"targetId": "e2", "providerType": "email", "identifier": "not-an-email"}),
            400,
            "general_invalid_email",
        ),
        (
            json!({"targetId": "e3", "providerType": "fax", "identifier": "x"}),
            400,
            "general_argument_invalid",
        ),
        (
            json!({"targetId": "sms1", "providerType": "push", "identifier": "y"}),
            409,
            "user_target_already_exists",
        ),
    ] {
        let r = send(&app, Method::POST, "/v1/users/g1/targets", body).await;
        assert_error(r, status, ty).await;
    }
    let q = |query: Value| {
        format!(
            "/v1/users/g1/targets?queries[]={}",
            url_escape(&query.to_string())
        )
    };
    let all = ok(&app, Method::GET, "/v1/users/g1/targets", json!({}), 200).await;
    assert_eq!(all["total"], 2);
    let sms = ok(
        &app,
        Method::GET,
        &q(json!({"method": "equal", "attribute": "providerType", "values": ["sms"]})),
        json!({}),
        200,
    )
    .await;
    assert_eq!(sms["total"], 1);
    assert_eq!(sms["targets"][0]["$id"], "sms1");
    let r = send(
        &app,
        Method::GET,
        &q(json!({"method": "equal", "attribute": "nope", "values": ["x"]})),
        json!({}),
    )
    .await;
    assert_error(r, 400, "general_argument_invalid").await;
    let t = ok(
        &app,
        Method::PATCH,
        "/v1/users/g1/targets/sms1",
        json!({"identifier": "+16505550110", "providerId": "twilio1", "name": "Work"}),
        200,
    )
    .await;
    assert_eq!(
        (
            t["identifier"].as_str(),
            t["providerId"].as_str(),
            t["name"].as_str()
        ),
        (Some("+16505550110"), Some("twilio1"), Some("Work"))
    );
    assert_eq!(
        ok(
            &app,
            Method::GET,
            "/v1/users/g1/targets/sms1",
            json!({}),
            200
        )
        .await,
        t
    );
    let r = send(&app, Method::GET, "/v1/users/g2/targets/sms1", json!({})).await;
    assert_error(r, 404, "user_target_not_found").await;
    ok(
        &app,
        Method::DELETE,
        "/v1/users/g1/targets/sms1",
        json!({}),
        204,
    )
    .await;
    let r = send(&app, Method::DELETE, "/v1/users/g1/targets/sms1", json!({})).await;
    assert_error(r, 404, "user_target_not_found").await;
}

#[tokio::test]
async fn logs_memberships_and_identities_answer_in_their_list_shapes() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let id = &login.user_id;
    let logs = ok(
        &app,
        Method::GET,
        &format!("/v1/users/{id}/logs"),
        json!({}),
        200,
    )
    .await;
    assert!(
        logs["total"].as_i64().unwrap() >= 2,
        "user.create and session.create"
    );
    assert_eq!(logs["logs"][0]["event"], "session.create");
    let m = ok(
        &app,
        Method::GET,
        &format!("/v1/users/{id}/memberships"),
        json!({}),
        200,
    )
    .await;
    assert_eq!(m, json!({"total": 0, "memberships": []}));
    let i = ok(&app, Method::GET, "/v1/users/identities", json!({}), 200).await;
    assert_eq!(i, json!({"total": 0, "identities": []}));
    let r = send(&app, Method::DELETE, "/v1/users/identities/nope", json!({})).await;
    assert_error(r, 404, "user_identity_not_found").await;
}
