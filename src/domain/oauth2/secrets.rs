//! Provider tokens at rest, and the wrapper of the token flow's secret.
//!
//! A provider's access and refresh tokens must be shown back to the user (the Session and
//! Identity models carry them), so they cannot be hashed: they are sealed to their project
//! and user. The token flow's secret travels on the success URL inside a JWT that lives 60 s
//! (spec §7.4 step 9, Appwrite main), which also names the provider.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::Env;
use crate::seal::Sealer;
use crate::secret::Secret;

/// How long the success URL's wrapped secret may be exchanged (Appwrite's 60 s).
pub const WRAPPER_LIFETIME_S: i64 = 60;

fn context(project: &str, user: &str) -> String {
    format!("{project}/{user}/provider-token")
}

/// A provider token sealed for storage; an empty token stays empty.
pub fn seal(env: &Env<'_>, user: &str, token: &Secret) -> Secret {
    if token.is_empty() {
        return Secret::default();
    }
    Secret::new(
        env.sealer
            .seal(&context(env.pid(), user), token.expose().as_bytes()),
    )
}

/// The stored token in clear; one that does not open (a copied row) reads as empty.
pub fn open(sealer: &Sealer, project: &str, user: &str, stored: &Secret) -> Secret {
    if stored.is_empty() {
        return Secret::default();
    }
    sealer
        .open(&context(project, user), stored.expose())
        .and_then(|b| String::from_utf8(b).ok())
        .map(Secret::new)
        .unwrap_or_default()
}

/// The claims of the wrapper, Appwrite's `{secret, provider, exp}` (it must fit the 256
/// characters of `createSession`'s `secret`).
#[derive(Serialize, Deserialize)]
struct Wrapper {
    secret: String,
    provider: String,
    exp: i64,
}

/// The unwrapped secret of an OAuth2 token, with the provider and identity it came from.
pub struct Unwrapped {
    pub secret: Secret,
    pub provider: String,
}

/// Wraps a raw token secret as the success URL's `secret`.
pub fn wrap(key: &[u8], secret: &Secret, provider: &str, now_ms: i64) -> anyhow::Result<Secret> {
    let claims = Wrapper {
        secret: secret.expose().to_owned(),
        provider: provider.to_owned(),
        exp: now_ms / 1000 + WRAPPER_LIFETIME_S,
    };
    Ok(Secret::new(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key),
    )?))
}

/// The wrapped secret, if `token` is a wrapper we signed that has not expired at `now_ms`.
pub fn unwrap(key: &[u8], token: &str, now_ms: i64) -> Option<Unwrapped> {
    if token.split('.').count() != 3 {
        return None;
    }
    let mut v = Validation::new(Algorithm::HS256);
    // The clock is injected: expiry is checked below against it, not the system clock.
    v.validate_exp = false;
    v.required_spec_claims = ["exp".to_owned()].into_iter().collect();
    let data = jsonwebtoken::decode::<Wrapper>(token, &DecodingKey::from_secret(key), &v).ok()?;
    let w = data.claims;
    (w.exp >= now_ms / 1000 && !w.secret.is_empty()).then(|| Unwrapped {
        secret: Secret::new(w.secret),
        provider: w.provider,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_secrets_open_only_with_the_key_and_within_sixty_seconds() {
        let key = b"instance-key";
        let now = 1_700_000_000_000;
        let w = wrap(
            key,
            &crate::domain::tokens::long_secret(32),
            "paypalSandbox",
            now,
        )
        .unwrap();
        assert!(
            w.expose().len() <= 256,
            "fits createSession's secret: {}",
            w.expose().len()
        );
        let w = wrap(key, &Secret::new("abc"), "github", now).unwrap();
        let u = unwrap(key, w.expose(), now + 60_000).expect("valid at 60 s");
        assert_eq!((u.secret.expose(), u.provider.as_str()), ("abc", "github"));
        assert!(unwrap(key, w.expose(), now + 61_000).is_none(), "expired");
        assert!(unwrap(b"other", w.expose(), now).is_none(), "wrong key");
        assert!(unwrap(key, "abc", now).is_none(), "not a JWT");
    }

    #[test]
    fn sealed_tokens_open_only_for_their_user() {
        let sealer = Sealer::new(&Secret::new("k"), "mfa");
        let sealed = sealer.seal(&context("p", "u1"), b"tok");
        let s = Secret::new(sealed);
        assert_eq!(open(&sealer, "p", "u1", &s).expose(), "tok");
        assert_eq!(open(&sealer, "p", "u2", &s).expose(), "");
        assert_eq!(open(&sealer, "p", "u1", &Secret::default()).expose(), "");
    }
}
