//! Account JWTs: HS256 signed with the instance key (spec §5.10). Appwrite's claims are
//! `{userId, sessionId, exp}`; we add `projectId` so a JWT works only in the project that
//! issued it (Appwrite's clients never read the payload). Verification follows Appwrite's JWT
//! library (adhocore/php-jwt 1.1.4) check by check, so failures carry its messages.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::secret::Secret;

/// The claims of an account JWT.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub user_id: String,
    pub session_id: String,
    pub project_id: String,
    pub exp: i64,
}

/// Signs claims with the instance key; the header is `{"typ":"JWT","alg":"HS256"}`.
pub fn sign(key: &[u8], claims: &Claims) -> anyhow::Result<Secret> {
    Ok(Secret::new(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key),
    )?))
}

/// Base64url as PHP's lenient `base64_decode` reads it: padding optional.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Algorithms the library accepts in a header (it then verifies with HS256 regardless).
const KNOWN_ALGORITHMS: &[&str] = &["HS256", "HS384", "HS512", "RS256", "RS384", "RS512"];

fn segment_json(segment: &str) -> Result<Value, String> {
    LENIENT
        .decode(segment)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .filter(Value::is_object)
        .ok_or_else(|| "JSON failed: Syntax error".to_owned())
}

/// Verifies a token at `now_s` (seconds) with no leeway. The error is the library's message;
/// Appwrite prefixes it with `Failed to verify JWT. `.
pub fn verify(key: &[u8], token: &str, now_s: i64) -> Result<Claims, String> {
    let invalid = |what: &str| format!("Invalid token: {what}");
    let mut parts = token.splitn(3, '.');
    let (Some(header), Some(payload), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("Incomplete segments"));
    };
    let head = segment_json(header)?;
    let body = segment_json(payload)?;
    let Some(alg) = head.get("alg") else {
        return Err(invalid("Missing header algo"));
    };
    if !alg.as_str().is_some_and(|a| KNOWN_ALGORITHMS.contains(&a)) {
        return Err(invalid("Unsupported header algo"));
    }
    if head.get("kid").is_some() {
        return Err(invalid("Unknown key ID"));
    }
    let message = &token[..header.len() + 1 + payload.len()];
    let signed = jsonwebtoken::crypto::verify(
        signature,
        message.as_bytes(),
        &DecodingKey::from_secret(key),
        Algorithm::HS256,
    )
    .unwrap_or(false);
    if !signed {
        return Err(invalid("Signature failed"));
    }
    let exp = body.get("exp").and_then(Value::as_i64);
    if exp.is_none_or(|exp| now_s >= exp) {
        return Err(invalid("Expired"));
    }
    if body
        .get("nbf")
        .and_then(Value::as_i64)
        .is_some_and(|nbf| now_s <= nbf)
    {
        return Err(invalid("Not now"));
    }
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Ok(Claims {
        user_id: text("userId"),
        session_id: text("sessionId"),
        project_id: text("projectId"),
        exp: exp.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn claims(exp: i64) -> Claims {
        Claims {
            user_id: "u1".into(),
            session_id: "s1".into(),
            project_id: "p1".into(),
            exp,
        }
    }

    fn b64(json: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn round_trips_and_rejects_other_keys_and_expired_tokens() {
        let t = sign(b"key-one", &claims(NOW + 60)).unwrap();
        assert_eq!(
            verify(b"key-one", t.expose(), NOW).unwrap(),
            claims(NOW + 60)
        );
        assert_eq!(
            verify(b"key-two", t.expose(), NOW).unwrap_err(),
            "Invalid token: Signature failed"
        );
        assert_eq!(
            verify(b"key-one", t.expose(), NOW + 60).unwrap_err(),
            "Invalid token: Expired",
            "exp must be strictly in the future"
        );
    }

    #[test]
    fn malformed_tokens_get_the_libraries_messages_never_rust_error_text() {
        let body = b64(r#"{"userId":"u","exp":1900000000}"#);
        let cases = [
            ("not-a-jwt".to_owned(), "Invalid token: Incomplete segments"),
            (format!("!!.{body}.x"), "JSON failed: Syntax error"),
            (
                format!("{}.{body}.x", b64(r#"{"typ":"JWT"}"#)),
                "Invalid token: Missing header algo",
            ),
            (
                format!("{}.{body}.", b64(r#"{"alg":"none"}"#)),
                "Invalid token: Unsupported header algo",
            ),
            (
                format!("{}.{body}.x", b64(r#"{"alg":"HS256","kid":"1"}"#)),
                "Invalid token: Unknown key ID",
            ),
            (
                format!("{}.{body}.x", b64(r#"{"alg":"RS256"}"#)),
                "Invalid token: Signature failed",
            ),
        ];
        for (token, message) in cases {
            assert_eq!(verify(b"k", &token, NOW).unwrap_err(), message, "{token}");
        }
    }
}
