//! Account JWTs: HS256 signed with the instance key, `{userId, sessionId, exp}` (spec §5.10).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The claims Appwrite puts in an account JWT.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub user_id: String,
    pub session_id: String,
    pub exp: i64,
}

/// Signs claims with the instance key.
pub fn sign(key: &[u8], claims: &Claims) -> anyhow::Result<String> {
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key),
    )?)
}

/// Verifies signature and expiry with no leeway; the error text follows Appwrite's
/// `Failed to verify JWT. <reason>` message.
pub fn verify(key: &[u8], token: &str) -> Result<Claims, String> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp"]);
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(key), &validation)
        .map(|d| d.claims)
        .map_err(|e| format!("Failed to verify JWT. {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_other_keys_and_expired_tokens() {
        let now = crate::domain::time::now_ms() / 1000;
        let claims = Claims {
            user_id: "u1".into(),
            session_id: "s1".into(),
            exp: now + 60,
        };
        let t = sign(b"key-one", &claims).unwrap();
        assert_eq!(verify(b"key-one", &t).unwrap(), claims);
        assert!(verify(b"key-two", &t).is_err());
        let old = sign(
            b"key-one",
            &Claims {
                exp: now - 1,
                ..claims
            },
        )
        .unwrap();
        assert!(
            verify(b"key-one", &old)
                .unwrap_err()
                .starts_with("Failed to verify JWT.")
        );
    }
}
