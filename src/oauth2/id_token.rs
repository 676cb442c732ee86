//! ID tokens a provider issued to a native app (`POST /account/sessions/id-token`, 2.x):
//! checked against the provider's published keys (JWKS, cached, fetched again when a token
//! names a key we have not seen: the provider rotated), then issuer, audience, expiry,
//! nonce and subject, in the order and with the messages of Appwrite's `IdTokenVerifier`.

use std::collections::HashMap;
use std::sync::Mutex;

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::domain::project::OAuth2Settings;
use crate::error::{Error, ErrorType, Result};
use crate::oauth2::{CACHE_MS, ProviderError, client};
use crate::secret::secrets_equal;

/// Clock skew allowed on `exp` and `iat`, as Appwrite's.
pub const CLOCK_SKEW_S: i64 = 60;
/// A key set is fetched again for an unknown key id at most this often, so tokens naming
/// made-up key ids cannot make us hammer the provider.
const REFETCH_MS: i64 = 60 * 1000;

/// The providers that issue ID tokens to native apps, and how theirs are checked.
pub struct Profile {
    pub issuers: Vec<String>,
    pub jwks: String,
    /// Apple's tokens must carry a nonce.
    pub nonce_required: bool,
}

/// The ID-token profile of `provider`, with the config's `issuer` and `jwksEndpoint`
/// overrides; `None` for providers without native sign-in.
pub fn profile(provider: &str, s: &OAuth2Settings) -> Option<Profile> {
    let (issuers, jwks, nonce_required): (&[&str], &str, bool) = match provider {
        "google" => (
            &["https://accounts.google.com", "accounts.google.com"],
            "https://www.googleapis.com/oauth2/v3/certs",
            false,
        ),
        "apple" => (
            &["https://appleid.apple.com"],
            "https://appleid.apple.com/auth/keys",
            true,
        ),
        _ => return None,
    };
    Some(Profile {
        issuers: match &s.issuer {
            Some(i) => vec![i.clone()],
            None => issuers.iter().map(|i| (*i).to_owned()).collect(),
        },
        jwks: s.jwks_endpoint.clone().unwrap_or_else(|| jwks.to_owned()),
        nonce_required,
    })
}

/// Fetched key sets by URL, with when each was fetched.
#[derive(Default)]
pub struct KeyCache {
    sets: Mutex<HashMap<String, (i64, JwkSet)>>,
}

impl KeyCache {
    fn cached(&self, url: &str) -> Option<(i64, JwkSet)> {
        self.sets.lock().ok()?.get(url).cloned()
    }

    /// The key `kid` of the set at `url`.
    async fn key(
        &self,
        http: &reqwest::Client,
        url: &str,
        kid: &str,
        now: i64,
    ) -> Result<Option<Jwk>, ProviderError> {
        let cached = self.cached(url);
        if let Some((at, set)) = &cached {
            let fresh = now - at < CACHE_MS;
            if let Some(k) = set.find(kid).filter(|_| fresh) {
                return Ok(Some(k.clone()));
            }
            if fresh && now - at < REFETCH_MS {
                return Ok(None);
            }
        }
        let doc = client::send_json(http.get(url)).await?;
        let set: JwkSet = serde_json::from_value(doc)
            .map_err(|_| ProviderError::Failure("jwks_malformed".into()))?;
        let found = set.find(kid).cloned();
        if let Ok(mut m) = self.sets.lock() {
            m.insert(url.to_owned(), (now, set));
        }
        Ok(found)
    }
}

fn invalid(message: &str) -> Error {
    Error::from(ErrorType::UserOauth2TokenInvalid).with_message(message.to_owned())
}

/// The verified claims of `token`, issued by the provider of `profile` for one of
/// `audiences`, at `now_ms`. A `nonce` claim must equal `nonce` or its SHA-256 hex (Apple
/// hashes it); a token without one passes unless the profile requires it.
pub async fn verify(
    http: &reqwest::Client,
    keys: &KeyCache,
    profile: &Profile,
    token: &str,
    audiences: &[&str],
    nonce: Option<&str>,
    now_ms: i64,
) -> Result<Value> {
    if token.split('.').count() != 3 {
        return Err(invalid("Malformed token"));
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("Malformed token"))?;
    let kid = header
        .kid
        .filter(|k| !k.is_empty())
        .ok_or_else(|| invalid("Missing key ID"))?;
    let jwk = keys
        .key(http, &profile.jwks, &kid, now_ms)
        .await
        .map_err(|e| {
            tracing::warn!(error = ?e, url = %profile.jwks, "could not fetch ID-token keys");
            Error::from(ErrorType::UserOauth2ProviderError)
                .with_message("Failed to fetch the provider signing keys. Please try again.")
        })?
        .ok_or_else(|| invalid("Unknown signing key"))?;
    // The algorithm comes from the key, never from the token's header (no alg confusion).
    let alg = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
        _ => return Err(invalid("Invalid signing key")),
    };
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| invalid("Invalid signing key"))?;
    let mut v = Validation::new(alg);
    // Times are checked below against the injected clock.
    v.validate_exp = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Value>(token, &key, &v)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => invalid("Invalid signature"),
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => invalid("Invalid algorithm"),
            _ => invalid("Malformed token"),
        })?
        .claims;
    let now_s = now_ms / 1000;
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp + CLOCK_SKEW_S >= now_s => {}
        _ => return Err(invalid("Token expired")),
    }
    if claims
        .get("iat")
        .and_then(Value::as_i64)
        .is_some_and(|iat| iat > now_s + CLOCK_SKEW_S)
    {
        return Err(invalid("Token issued in the future"));
    }
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !profile.issuers.iter().any(|i| i == iss) {
        return Err(invalid("Invalid issuer"));
    }
    let aud: Vec<&str> = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !aud.iter().any(|a| audiences.contains(a)) {
        return Err(invalid(
            "Audience mismatch. Add the token's client ID to the provider configuration.",
        ));
    }
    let claim_nonce = claims
        .get("nonce")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty());
    match claim_nonce {
        None if profile.nonce_required => return Err(invalid("Nonce required")),
        None => {}
        Some(expected) => {
            let given = nonce
                .filter(|n| !n.is_empty())
                .ok_or_else(|| invalid("Nonce required"))?;
            if !secrets_equal(expected, given)
                && !secrets_equal(expected, &crate::secret::sha256_hex(given))
            {
                return Err(invalid("Nonce mismatch"));
            }
        }
    }
    if claims
        .get("sub")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(invalid("Missing subject"));
    }
    Ok(claims)
}
