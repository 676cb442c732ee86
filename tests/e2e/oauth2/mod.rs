//! OAuth2 sign-in (spec §7) against provider-shaped endpoints on loopback: each test points a
//! provider's endpoints at a [`MockProvider`] that answers as that provider does (GitHub's
//! 200-with-error, Google's ID token and refresh token, Apple's form_post and signed client
//! secret …) and records the exact requests latchkey sends. The browser is played by the test:
//! it follows latchkey's 301s, and stands in for the provider's own redirect to the callback.
//! The real OpenID provider (npm `oidc-provider`) is driven by the SDK suites.

mod flows;
mod id_token;
mod linking;
mod providers;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, Method as AxMethod, StatusCode, Uri};
use latchkey::domain::project::{OAuth2Settings, ProjectSettings};
use reqwest::Method;
use serde_json::{Value, json};

use crate::delivery::Captured;
use crate::harness::*;

/// A provider's endpoints on loopback: `path → (status, body)` answers, every request kept.
#[derive(Clone)]
pub struct MockProvider {
    pub base: String,
    seen: Arc<Mutex<Vec<Captured>>>,
    answers: Arc<Mutex<HashMap<String, (u16, String)>>>,
}

async fn answer(
    State(p): State<MockProvider>,
    method: AxMethod,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, [(&'static str, &'static str); 1], String) {
    p.seen.lock().unwrap().push(Captured {
        method: method.to_string(),
        path: uri.path().to_owned(),
        headers,
        body,
    });
    let (status, body) = p
        .answers
        .lock()
        .unwrap()
        .get(uri.path())
        .cloned()
        .unwrap_or((404, "{\"error\":\"not_found\"}".into()));
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        body,
    )
}

impl MockProvider {
    pub async fn start() -> MockProvider {
        let p = MockProvider {
            base: String::new(),
            seen: Arc::default(),
            answers: Arc::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let p = MockProvider { base, ..p };
        let app = axum::Router::new().fallback(answer).with_state(p.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        p
    }

    /// Answers `path` with `status` and `body` from now on.
    pub fn on(&self, path: &str, status: u16, body: Value) -> &Self {
        self.answers
            .lock()
            .unwrap()
            .insert(path.to_owned(), (status, body.to_string()));
        self
    }

    /// The requests made to `path`.
    pub fn requests(&self, path: &str) -> Vec<Captured> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.path == path)
            .cloned()
            .collect()
    }

    /// Settings for a provider whose token, userinfo and emails endpoints are here.
    pub fn settings(&self) -> OAuth2Settings {
        OAuth2Settings {
            enabled: true,
            app_id: Some("client-123".into()),
            secret: Some(latchkey::secret::Secret::new("client-secret-456")),
            authorization_endpoint: Some(format!("{}/authorize", self.base)),
            token_endpoint: Some(format!("{}/token", self.base)),
            userinfo_endpoint: Some(format!("{}/user", self.base)),
            ..OAuth2Settings::default()
        }
    }
}

/// A project with `provider` configured by `settings`.
pub fn with_provider(
    provider: &'static str,
    settings: OAuth2Settings,
) -> impl FnOnce(&mut latchkey::Config) {
    with_project(move |p: &mut ProjectSettings| {
        p.oauth2.insert(provider.into(), settings);
    })
}

/// A client that shows redirects instead of following them, as a test of a browser needs.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub const SUCCESS: &str = "http://localhost:3000/ok";
pub const FAILURE: &str = "http://localhost:3000/fail";

/// The query of a URL as pairs.
pub fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn location(r: &reqwest::Response) -> String {
    assert_eq!(r.status(), 301, "a redirect");
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// A started sign-in: the provider's login URL, and the binder cookie the browser got.
pub struct Started {
    pub url: String,
    pub cookie: Option<String>,
}

impl std::fmt::Display for Started {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

impl std::ops::Deref for Started {
    type Target = str;
    fn deref(&self) -> &str {
        &self.url
    }
}

/// The start of a sign-in as a guest: `flow` is `sessions` or `tokens`.
pub async fn start(app: &TestApp, flow: &str, provider: &str, extra: &[(&str, &str)]) -> Started {
    start_as(app, flow, provider, extra, None).await
}

/// The start of a sign-in that names no success or failure URL.
pub async fn start_bare(app: &TestApp, flow: &str, provider: &str) -> Started {
    let r = browser()
        .get(format!("{}/v1/account/{flow}/oauth2/{provider}", app.url))
        .query(&[("project", PROJECT)])
        .send()
        .await
        .unwrap();
    started_from(&r)
}

fn started_from(r: &reqwest::Response) -> Started {
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap())
        .find(|c| c.starts_with("a_oauth2_"))
        .map(|c| c.split(';').next().unwrap().to_owned());
    Started {
        url: location(r),
        cookie,
    }
}

/// The start of a sign-in by the browser of `session`'s user (or a guest).
pub async fn start_as(
    app: &TestApp,
    flow: &str,
    provider: &str,
    extra: &[(&str, &str)],
    session: Option<&Login>,
) -> Started {
    let mut params = vec![
        ("success", SUCCESS),
        ("failure", FAILURE),
        ("project", PROJECT),
    ];
    params.extend_from_slice(extra);
    let mut req = browser()
        .get(format!("{}/v1/account/{flow}/oauth2/{provider}", app.url))
        .query(&params);
    if let Some(l) = session {
        req = req.header("x-appwrite-session", &l.encoded);
    }
    started_from(&req.send().await.unwrap())
}

/// The provider sends the browser back with `code`; the test follows latchkey's callback
/// and redirect with the browser's binder cookie, carrying `session` if signed in. The last
/// response (the 301 to success or failure).
pub async fn come_back(
    app: &TestApp,
    login: &Started,
    code: &str,
    session: Option<&Login>,
) -> reqwest::Response {
    come_back_in(app, login, code, session, login.cookie.as_deref()).await
}

/// As [`come_back`], in a browser carrying `cookie` (another browser's, or none).
pub async fn come_back_in(
    app: &TestApp,
    login: &Started,
    code: &str,
    session: Option<&Login>,
    cookie: Option<&str>,
) -> reqwest::Response {
    let q = query(login);
    let callback = format!(
        "{}?code={}&state={}",
        q["redirect_uri"],
        url_escape(code),
        url_escape(&q["state"])
    );
    let r = browser().get(&callback).send().await.unwrap();
    let redirect = location(&r);
    assert!(
        redirect.starts_with(&format!("{}/v1/account/sessions/oauth2/", app.url)),
        "{redirect}"
    );
    let mut req = browser().get(&redirect);
    if let Some(l) = session {
        req = req.header("x-appwrite-session", &l.encoded);
    }
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.unwrap()
}

/// The browser that started `login` follows latchkey's callback to the redirect route `url`.
pub async fn to_redirect(login: &Started, url: String) -> reqwest::Response {
    let mut req = browser().get(url);
    if let Some(c) = &login.cookie {
        req = req.header("cookie", c);
    }
    req.send().await.unwrap()
}

/// A whole token-flow sign-in: the `userId` and wrapped `secret` on the success URL.
pub async fn token_sign_in(app: &TestApp, provider: &str) -> (String, String) {
    let login = start(app, "tokens", provider, &[]).await;
    let r = come_back(app, &login, "code-1", None).await;
    let to = location(&r);
    assert!(to.starts_with(SUCCESS), "{to}");
    let q = query(&to);
    (q["userId"].clone(), q["secret"].clone())
}

/// Exchanges a token flow's secret for a session.
pub async fn exchange(app: &TestApp, user_id: &str, secret: &str) -> reqwest::Response {
    app.req(Method::POST, "/v1/account/sessions/token")
        .json(&json!({"userId": user_id, "secret": secret}))
        .send()
        .await
        .unwrap()
}

/// The error JSON a failure redirect carries.
pub fn failure_error(r: &reqwest::Response) -> Value {
    let to = location(r);
    assert!(to.starts_with(FAILURE), "{to}");
    serde_json::from_str(&query(&to)["error"]).unwrap()
}

/// A session from a token-flow sign-in.
pub async fn signed_in(app: &TestApp, provider: &str) -> Login {
    let (user, secret) = token_sign_in(app, provider).await;
    let r = exchange(app, &user, &secret).await;
    assert_eq!(r.status(), 201, "exchange");
    login_from(r).await
}

/// A provider answering as an OpenID provider does for `sub` with `email`.
pub fn answers_as_openid(p: &MockProvider, sub: &str, email: &str, verified: bool) {
    p.on(
        "/token",
        200,
        json!({"access_token": format!("at-{sub}"), "token_type": "Bearer", "expires_in": 3600,
               "refresh_token": format!("rt-{sub}")}),
    )
    .on(
        "/user",
        200,
        json!({"sub": sub, "email": email, "email_verified": verified, "name": "Provider Name"}),
    );
}

/// A P-256 key: PKCS#8 PEM and DER for signing, and its public JWK coordinates.
pub struct EcKey {
    pub pem: String,
    pub der: Vec<u8>,
    pub x: String,
    pub y: String,
}

pub fn ec_key() -> EcKey {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use base64::Engine;
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let der = pair.to_pkcs8v1().unwrap().as_ref().to_vec();
    let point = pair.public_key().as_ref().to_vec();
    let b64url = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let body = base64::engine::general_purpose::STANDARD.encode(&der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    EcKey {
        pem: format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        ),
        der,
        x: b64url(&point[1..33]),
        y: b64url(&point[33..65]),
    }
}

impl EcKey {
    pub fn jwk(&self, kid: &str) -> Value {
        json!({"kty": "EC", "crv": "P-256", "x": self.x, "y": self.y, "kid": kid, "use": "sig", "alg": "ES256"})
    }

    /// `claims` signed with this key, `kid` in the header.
    pub fn sign(&self, kid: &str, claims: &Value) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(
            &header,
            claims,
            &jsonwebtoken::EncodingKey::from_ec_der(&self.der),
        )
        .unwrap()
    }

    /// The claims of `token` if this key signed it.
    pub fn verify(&self, token: &str) -> Option<Value> {
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(self.jwk("k")).unwrap();
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        v.validate_aud = false;
        jsonwebtoken::decode::<Value>(
            token,
            &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(),
            &v,
        )
        .ok()
        .map(|d| d.claims)
    }
}

/// An unsigned-looking JWT carrying `claims` (a token endpoint's `id_token`, which latchkey
/// reads as sent over its own connection).
pub fn plain_jwt(claims: &Value) -> String {
    use base64::Engine;
    let b = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.sig",
        b(&json!({"alg": "RS256", "kid": "k"})),
        b(claims)
    )
}
