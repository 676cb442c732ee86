//! Apple's client secret: not a fixed string but a JWT the app signs with its `.p8` key
//! (ES256, `kid` = key id, `iss` = team id, `sub` = the Services ID), as Apple's "Creating a
//! client secret" describes. Made per request, valid five minutes.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::domain::project::OAuth2Settings;
use crate::secret::Secret;

const AUDIENCE: &str = "https://appleid.apple.com";
const LIFETIME_S: i64 = 300;

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    iat: i64,
    exp: i64,
    aud: &'a str,
    sub: &'a str,
}

/// The signed client secret for `client_id`, from the configured private key (the
/// provider's `secret`, PEM), `keyId` and `teamId`.
pub fn client_secret(
    s: &OAuth2Settings,
    client_id: &str,
    private_key: &Secret,
    now_ms: i64,
) -> anyhow::Result<Secret> {
    let key_id = s
        .key_id
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("apple needs keyId"))?;
    let team_id = s
        .team_id
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("apple needs teamId"))?;
    let key = EncodingKey::from_ec_pem(private_key.expose().as_bytes())
        .map_err(|_| anyhow::anyhow!("apple's secret is not an EC private key in PEM"))?;
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key_id.to_owned());
    let iat = now_ms / 1000;
    let claims = Claims {
        iss: team_id,
        iat,
        exp: iat + LIFETIME_S,
        aud: AUDIENCE,
        sub: client_id,
    };
    Ok(Secret::new(jsonwebtoken::encode(&header, &claims, &key)?))
}
