//! `POST /v1/account/sessions/id-token` (2.x): ID tokens signed on loopback with a key the
//! test publishes as a provider-shaped JWKS; every check (signature, issuer, audience,
//! expiry, nonce, subject), key rotation, and the switches.

use super::*;

const ISSUER: &str = "https://accounts.google.com";
const AUDIENCE: &str = "web-client.apps.googleusercontent.com";

struct Native {
    provider: MockProvider,
    key: EcKey,
    app: TestApp,
}

async fn native(enabled: bool) -> Native {
    let provider = MockProvider::start().await;
    let key = ec_key();
    provider.on("/jwks", 200, json!({"keys": [key.jwk("k1")]}));
    let settings = OAuth2Settings {
        enabled: false,
        native_enabled: enabled,
        app_id: Some(AUDIENCE.into()),
        secret: None,
        client_ids: vec!["ios-client.apps.googleusercontent.com".into()],
        jwks_endpoint: Some(format!("{}/jwks", provider.base)),
        ..OAuth2Settings::default()
    };
    // More attempts than the route's 10 an hour: the limit is the rate-limit tests' concern.
    let app = spawn_with(|c: &mut latchkey::Config| {
        with_provider("google", settings)(c);
        c.file.rate_limits = Some(false);
    })
    .await;
    Native { provider, key, app }
}

impl Native {
    fn claims(&self, sub: &str, email: &str) -> Value {
        let now = self.app.clock_s();
        json!({"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "email": email, "email_verified": true,
               "name": "Native User", "iat": now, "exp": now + 3600})
    }

    async fn post(&self, body: Value) -> reqwest::Response {
        self.app
            .req(Method::POST, "/v1/account/sessions/id-token")
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn refused(&self, token: String, nonce: Option<&str>, message: &str) {
        let mut body = json!({"provider": "google", "idToken": token});
        if let Some(n) = nonce {
            body["nonce"] = json!(n);
        }
        let m = assert_error(self.post(body).await, 401, "user_oauth2_token_invalid").await;
        assert_eq!(m, message);
    }
}

trait ClockSeconds {
    fn clock_s(&self) -> i64;
}

impl ClockSeconds for TestApp {
    fn clock_s(&self) -> i64 {
        use latchkey::domain::time::Clock;
        self.clock.now_ms() / 1000
    }
}

#[tokio::test]
async fn a_verified_id_token_makes_a_session_and_an_identity_holding_it() {
    let n = native(true).await;
    let email = unique_email();
    let token = n.key.sign("k1", &n.claims("g-sub-1", &email));
    let r = n
        .post(
            json!({"provider": "google", "idToken": token, "accessToken": "ya29.native",
                     "accessTokenExpiry": 3599.0}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let login = login_from(r).await;
    let account = n.app.account(&login).await;
    assert_eq!(account["email"], email.as_str());
    assert_eq!(account["emailVerification"], true);
    assert_eq!(account["name"], "Native User");
    let s: Value = n
        .app
        .as_user(Method::GET, "/v1/account/sessions/current", &login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["provider"], "google");
    assert_eq!(s["providerUid"], "g-sub-1");
    assert_eq!(s["providerAccessToken"], "ya29.native");
    let ids: Value = n
        .app
        .as_user(Method::GET, "/v1/account/identities", &login)
        .header("x-appwrite-response-format", "2.5.0")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ids["identities"][0]["providerIdToken"], token.as_str());
    // A native client id of the project is an accepted audience too; the same subject
    // signs into the same user.
    let mut c = n.claims("g-sub-1", &email);
    c["aud"] = json!(["ios-client.apps.googleusercontent.com"]);
    let r = n
        .post(json!({"provider": "google", "idToken": n.key.sign("k1", &c)}))
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(login_from(r).await.user_id, login.user_id);
}

#[tokio::test]
async fn every_claim_is_checked_with_appwrites_messages() {
    let n = native(true).await;
    let email = unique_email();
    let good = n.claims("g-sub-2", &email);
    let with = |k: &str, v: Value| {
        let mut c = good.clone();
        c[k] = v;
        n.key.sign("k1", &c)
    };
    n.refused("not-a-jwt".into(), None, "Malformed token").await;
    let other = ec_key();
    n.refused(other.sign("k1", &good), None, "Invalid signature")
        .await;
    n.refused(other.sign("k9", &good), None, "Unknown signing key")
        .await;
    n.refused(
        with("iss", json!("https://evil.example")),
        None,
        "Invalid issuer",
    )
    .await;
    n.refused(
        with("aud", json!("someone-else")),
        None,
        "Audience mismatch. Add the token's client ID to the provider configuration.",
    )
    .await;
    let now = n.app.clock_s();
    n.refused(with("exp", json!(now - 61)), None, "Token expired")
        .await;
    n.refused(
        with("iat", json!(now + 120)),
        None,
        "Token issued in the future",
    )
    .await;
    n.refused(with("sub", json!("")), None, "Missing subject")
        .await;
    let nonced = with("nonce", json!("n-123"));
    n.refused(nonced.clone(), None, "Nonce required").await;
    n.refused(nonced.clone(), Some("n-999"), "Nonce mismatch")
        .await;
    let r = n
        .post(json!({"provider": "google", "idToken": nonced, "nonce": "n-123"}))
        .await;
    assert_eq!(r.status(), 201, "the right nonce passes");
    assert_error(
        n.post(json!({"provider": "github", "idToken": n.key.sign("k1", &good)}))
            .await,
        400,
        "project_provider_unsupported",
    )
    .await;
}

#[tokio::test]
async fn rotated_keys_are_fetched_again_but_not_for_every_unknown_key() {
    let n = native(true).await;
    let email = unique_email();
    let r = n
        .post(json!({"provider": "google", "idToken": n.key.sign("k1", &n.claims("rot", &email))}))
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(n.provider.requests("/jwks").len(), 1);
    // The provider rotates to k2. Within a minute of the last fetch an unknown key is not
    // fetched for; after it, the new set is fetched and the token passes.
    let next = ec_key();
    n.provider.on(
        "/jwks",
        200,
        json!({"keys": [next.jwk("k2"), n.key.jwk("k1")]}),
    );
    let token = next.sign("k2", &n.claims("rot", &email));
    n.refused(token.clone(), None, "Unknown signing key").await;
    assert_eq!(n.provider.requests("/jwks").len(), 1);
    n.app.clock.advance(61_000);
    let r = n
        .post(json!({"provider": "google", "idToken": next.sign("k2", &n.claims("rot", &email))}))
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(n.provider.requests("/jwks").len(), 2);
    // A provider whose keys cannot be fetched is the provider's error.
    n.provider.on("/jwks", 500, json!({}));
    n.app.clock.advance(3_600_000);
    let r = n
        .post(json!({"provider": "google", "idToken": next.sign("k2", &n.claims("rot", &email))}))
        .await;
    let m = assert_error(r, 500, "user_oauth2_provider_error").await;
    assert_eq!(m, "Server Error", "424 is answered as 500");
}

#[tokio::test]
async fn native_sign_in_needs_its_own_switch_and_apple_needs_a_nonce() {
    let n = native(false).await;
    let token = n.key.sign("k1", &n.claims("s", &unique_email()));
    assert_error(
        n.post(json!({"provider": "google", "idToken": token}))
            .await,
        412,
        "project_provider_disabled",
    )
    .await;

    let p = MockProvider::start().await;
    let key = ec_key();
    p.on("/jwks", 200, json!({"keys": [key.jwk("a1")]}));
    let apple = OAuth2Settings {
        native_enabled: true,
        app_id: Some("com.example.ios".into()),
        jwks_endpoint: Some(format!("{}/jwks", p.base)),
        ..OAuth2Settings::default()
    };
    let app = spawn_with(with_provider("apple", apple)).await;
    let now = app.clock_s();
    let claims = json!({"iss": "https://appleid.apple.com", "aud": "com.example.ios", "sub": "001.apple",
                        "email": unique_email(), "email_verified": "true", "iat": now, "exp": now + 600});
    let r = app
        .req(Method::POST, "/v1/account/sessions/id-token")
        .json(&json!({"provider": "apple", "idToken": key.sign("a1", &claims), "nonce": "raw"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_error(r, 401, "user_oauth2_token_invalid").await,
        "Nonce required"
    );
    // Apple carries the SHA-256 of the raw nonce; the name comes from the param.
    let mut c = claims.clone();
    c["nonce"] = json!(latchkey::secret::sha256_hex("raw"));
    let r = app
        .req(Method::POST, "/v1/account/sessions/id-token")
        .json(&json!({"provider": "apple", "idToken": key.sign("a1", &c), "nonce": "raw", "name": "Grace Hopper"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let login = login_from(r).await;
    assert_eq!(app.account(&login).await["name"], "Grace Hopper");
}
