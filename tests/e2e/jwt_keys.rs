//! Project key pairs for JWTs, the JWKS routes, and refreshable short JWTs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use latchkey::domain::jwt_keys::{JwtAlgorithm, RETIRED_KEY_GRACE_MS};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

async fn create_jwt(app: &TestApp, login: &Login, body: Value) -> Value {
    let r = app
        .as_user(Method::POST, "/v1/account/jwts", login)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

async fn jwks(app: &TestApp) -> JwkSet {
    let r = app
        .http
        .get(format!(
            "{}/v1/.well-known/jwks.json?project={PROJECT}",
            app.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn get_account(app: &TestApp, jwt: &str) -> reqwest::Response {
    app.req(Method::GET, "/v1/account")
        .header("x-appwrite-jwt", jwt)
        .send()
        .await
        .unwrap()
}

/// Verifies `token` the way another service would: with the published key named by its `kid`.
fn verify_with(set: &JwkSet, token: &str, alg: Algorithm) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = set.find(&kid).ok_or("kid not published")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut v = Validation::new(alg);
    v.set_audience(&[PROJECT]);
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .map(|d| d.claims)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn key_pair_jwts_verify_from_the_published_set_and_authenticate() {
    for (alg, jose) in [
        (JwtAlgorithm::EdDsa, Algorithm::EdDSA),
        (JwtAlgorithm::Es256, Algorithm::ES256),
    ] {
        let app = spawn_with(with_project(move |p| p.jwt.algorithm = alg)).await;
        // The set exists before any JWT, so verifiers can fetch it at start.
        let before = jwks(&app).await;
        assert_eq!(before.keys.len(), 1, "{alg:?}");
        let (email, login) = app.user().await;
        let token = create_jwt(&app, &login, json!({})).await["jwt"]
            .as_str()
            .unwrap()
            .to_owned();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, jose);
        let claims = verify_with(&before, &token, jose).unwrap();
        assert_eq!(claims["sub"], login.user_id);
        assert_eq!(claims["userId"], login.user_id);
        assert_eq!(claims["sessionId"], login.session_id);
        let r = get_account(&app, &token).await;
        assert_eq!(r.status(), 200, "{alg:?}");
        assert_eq!(r.json::<Value>().await.unwrap()["email"], email);

        // The path that names the project serves the same set, with no project header.
        let r = reqwest::get(format!("{}/v1/projects/{PROJECT}/jwks.json", app.url))
            .await
            .unwrap();
        assert_eq!(r.json::<JwkSet>().await.unwrap(), before);
        let r = reqwest::get(format!("{}/v1/projects/nope/jwks.json", app.url))
            .await
            .unwrap();
        assert_error(r, 404, "project_not_found").await;

        // A changed payload breaks the signature; so does a token re-signed as HS256.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut changed = claims.clone();
        changed["exp"] = json!(claims["exp"].as_i64().unwrap() + 3600);
        parts[1] = URL_SAFE_NO_PAD.encode(changed.to_string());
        let forged = parts.join(".");
        let msg = assert_error(get_account(&app, &forged).await, 401, "user_jwt_invalid").await;
        assert!(msg.starts_with("Failed to verify JWT."), "{msg}");
        let hs = jsonwebtoken::encode(
            &jsonwebtoken::Header {
                kid: header.kid.clone(),
                ..jsonwebtoken::Header::new(Algorithm::HS256)
            },
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(b"guess"),
        )
        .unwrap();
        assert_error(get_account(&app, &hs).await, 401, "user_jwt_invalid").await;
    }
}

#[tokio::test]
async fn rotation_keeps_the_old_key_verifying_until_its_jwts_have_expired() {
    let app = spawn_with(with_project(|p| p.jwt.algorithm = JwtAlgorithm::EdDsa)).await;
    let (_, login) = app.user().await;
    let old = create_jwt(&app, &login, json!({"duration": 3600})).await["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    let now = app.state.clock.now_ms();
    let new_key = app
        .state
        .jwt_keys
        .rotate(&*app.state.store, PROJECT, JwtAlgorithm::EdDsa, now, false)
        .await
        .unwrap();
    let set = jwks(&app).await;
    assert_eq!(set.keys.len(), 2, "the retired key is still published");
    assert_eq!(get_account(&app, &old).await.status(), 200);
    let fresh = create_jwt(&app, &login, json!({})).await["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    let kid = jsonwebtoken::decode_header(&fresh).unwrap().kid.unwrap();
    assert_eq!(kid, new_key.id, "new JWTs are signed with the new key");
    assert!(verify_with(&set, &fresh, Algorithm::EdDSA).is_ok());

    app.clock.advance(RETIRED_KEY_GRACE_MS);
    let set = jwks(&app).await;
    assert_eq!(
        set.keys.len(),
        1,
        "the retired key is gone after its grace time"
    );
    assert_eq!(
        set.keys[0].common.key_id.as_deref(),
        Some(new_key.id.as_str())
    );
}

#[tokio::test]
async fn hs256_projects_publish_no_keys_and_their_jwts_name_none() {
    let app = spawn_app().await;
    assert!(jwks(&app).await.keys.is_empty());
    let (_, login) = app.user().await;
    let token = create_jwt(&app, &login, json!({})).await["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!((header.alg, header.kid), (Algorithm::HS256, None));
    // A made-up key id is refused like any bad JWT.
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some("made-up".into()),
            ..jsonwebtoken::Header::new(Algorithm::HS256)
        },
        &json!({"userId": login.user_id, "exp": 4_000_000_000u64}),
        &jsonwebtoken::EncodingKey::from_secret(b"x"),
    )
    .unwrap();
    let msg = assert_error(get_account(&app, &forged).await, 401, "user_jwt_invalid").await;
    assert!(msg.contains("Unknown key ID"), "{msg}");
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.req(Method::POST, "/v1/account/jwts/refresh")
        .json(&json!({ "refreshToken": token }))
        .send()
        .await
        .unwrap()
}

fn text(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn refresh_tokens_chain_once_each_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    // Without `refresh` the reply is Appwrite's Jwt model, unchanged.
    let plain = create_jwt(&app, &login, json!({})).await;
    assert!(plain.get("refreshToken").is_none());

    let first = create_jwt(&app, &login, json!({"duration": 60, "refresh": true})).await;
    let r0 = text(&first, "refreshToken");
    // `<family>.<64 hex>`: the family id, then the secret.
    let (family, secret) = r0.split_once('.').unwrap();
    assert!(!family.is_empty());
    assert_eq!(secret.len(), 64);
    app.clock.advance(61_000);
    assert_error(
        get_account(&app, &text(&first, "jwt")).await,
        401,
        "user_jwt_invalid",
    )
    .await;

    let r = refresh(&app, &r0).await;
    assert_eq!(r.status(), 201);
    let second: Value = r.json().await.unwrap();
    let r1 = text(&second, "refreshToken");
    assert_ne!(r1, r0);
    assert_eq!(get_account(&app, &text(&second, "jwt")).await.status(), 200);
    let exp = jsonwebtoken::dangerous::insecure_decode::<Value>(text(&second, "jwt"))
        .unwrap()
        .claims["exp"]
        .as_i64()
        .unwrap();
    assert_eq!(
        exp,
        app.state.clock.now_ms() / 1000 + 60,
        "the first JWT's duration"
    );

    // r0 again: someone copied it. The family goes, r1 included.
    let msg = assert_error(refresh(&app, &r0).await, 401, "user_invalid_token").await;
    assert!(msg.contains("already used"), "{msg}");
    assert_error(refresh(&app, &r1).await, 401, "user_invalid_token").await;
    assert_error(refresh(&app, "f00d").await, 401, "user_invalid_token").await;

    // A chain moved on twice (t0 -> t1 -> t2: only t1 is still stored as spent), then the
    // first link shows up again: the store no longer knows t0, but its family is revoked.
    let t0 = text(
        &create_jwt(&app, &login, json!({"refresh": true})).await,
        "refreshToken",
    );
    let t1 = text(
        &refresh(&app, &t0).await.json().await.unwrap(),
        "refreshToken",
    );
    let t2 = text(
        &refresh(&app, &t1).await.json().await.unwrap(),
        "refreshToken",
    );
    let msg = assert_error(refresh(&app, &t0).await, 401, "user_invalid_token").await;
    assert!(msg.contains("already used"), "{msg}");
    assert_error(refresh(&app, &t2).await, 401, "user_invalid_token").await;
}

#[tokio::test]
async fn refresh_tokens_end_with_their_session_and_respect_the_jwt_switch() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let issued = create_jwt(&app, &login, json!({"refresh": true})).await;
    app.as_user(Method::DELETE, "/v1/account/sessions/current", &login)
        .send()
        .await
        .unwrap();
    assert_error(
        refresh(&app, &text(&issued, "refreshToken")).await,
        401,
        "user_invalid_token",
    )
    .await;

    let app = spawn_with(with_project(|p| p.auth.methods.jwt = false)).await;
    assert_error(
        refresh(&app, "f00d").await,
        501,
        "user_auth_method_unsupported",
    )
    .await;
}

#[tokio::test]
async fn a_blocked_user_cannot_refresh_and_a_refresh_racing_a_logout_never_fails_as_a_server_error()
{
    // Eleven sign-ups from one address would meet Appwrite's limit first.
    let app = spawn_with(|c| c.file.rate_limits = Some(false)).await;
    let (_, login) = app.user().await;
    let issued = create_jwt(&app, &login, json!({"refresh": true})).await;
    let r = app
        .as_key(
            Method::PATCH,
            &format!("/v1/users/{}/status", login.user_id),
        )
        .json(&json!({"status": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_error(
        refresh(&app, &text(&issued, "refreshToken")).await,
        403,
        "user_blocked",
    )
    .await;

    // Exchanges and issues against logouts and account deletions at once, lock against lock
    // (PostgreSQL: no deadlock, no 500).
    for i in 0..20 {
        let (_, login) = app.user().await;
        let issued = create_jwt(&app, &login, json!({"refresh": true})).await;
        let token = text(&issued, "refreshToken");
        let (method, path) = if i % 2 == 0 {
            (Method::DELETE, "/v1/account/sessions/current")
        } else {
            (Method::DELETE, "/v1/account")
        };
        let (exchanged, another, ended) = tokio::join!(
            refresh(&app, &token),
            app.as_user(Method::POST, "/v1/account/jwts", &login)
                .json(&json!({"refresh": true}))
                .send(),
            app.as_user(method, path, &login).send()
        );
        let status = exchanged.status().as_u16();
        assert!(status == 201 || status == 401, "exchange answered {status}");
        let status = another.unwrap().status().as_u16();
        assert!(status == 201 || status == 401, "issue answered {status}");
        assert_eq!(ended.unwrap().status(), 204, "{path}");
        // Whatever won, the session is gone and so is every refresh token.
        assert_eq!(refresh(&app, &token).await.status(), 401);
    }
}

#[tokio::test]
async fn a_project_back_on_hs256_retires_its_key_pair_so_it_verifies_only_until_its_jwts_expire() {
    let app = spawn_with(with_project(|p| p.jwt.algorithm = JwtAlgorithm::EdDsa)).await;
    let (_, login) = app.user().await;
    let old = create_jwt(&app, &login, json!({"duration": 600})).await["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    let app = app
        .restart(with_project(|p| p.jwt.algorithm = JwtAlgorithm::Hs256))
        .await;
    // Still valid for its lifetime, and still published while it may be presented.
    assert_eq!(get_account(&app, &old).await.status(), 200);
    assert_eq!(jwks(&app).await.keys.len(), 1);
    let keys = app.state.store.list_jwt_keys(PROJECT).await.unwrap();
    assert!(
        keys.iter().all(|k| k.retired_at.is_some()),
        "the key pair no longer signs: {keys:?}"
    );
    let fresh = create_jwt(&app, &login, json!({})).await["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        jsonwebtoken::decode_header(&fresh).unwrap().kid.is_none(),
        "HS256 again"
    );
    app.clock.advance(RETIRED_KEY_GRACE_MS);
    assert!(
        jwks(&app).await.keys.is_empty(),
        "after its grace time it is gone"
    );
}
