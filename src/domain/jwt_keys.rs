//! Per-project asymmetric signing keys of account JWTs (EdDSA or ES256), so other services can
//! verify latchkey JWTs from the project's JWKS without calling it or holding a shared secret.
//!
//! HS256 with the instance key stays the default (Appwrite's clients and servers expect it);
//! a project that sets `[projects.jwt] algorithm` gets a key pair generated on first use,
//! sealed at rest. `latchkey jwt-keys rotate` retires the signing key and makes a new one; a
//! retired key is still published and still verifies until every JWT it could have signed has
//! expired ([`RETIRED_KEY_GRACE_MS`]).
//!
//! Nodes keep the keys they loaded for [`CACHE_MS`]; a JWT naming a key a node has not seen
//! (another node's rotation) reloads at once, at most once a second per project.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::domain::ids;
use crate::domain::jwt::Claims;
use crate::error::{Error, Result};
use crate::seal::Sealer;
use crate::secret::Secret;
use crate::store::{JwtKeyRow, Store, StoreError};

/// How a project signs account JWTs (`[projects.jwt] algorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with the instance key: what Appwrite does; not publishable.
    #[default]
    #[serde(rename = "HS256")]
    Hs256,
    /// Ed25519.
    #[serde(rename = "EdDSA")]
    EdDsa,
    /// ECDSA on P-256 with SHA-256.
    #[serde(rename = "ES256")]
    Es256,
}

impl JwtAlgorithm {
    /// The JOSE name (`alg`).
    pub fn name(self) -> &'static str {
        match self {
            JwtAlgorithm::Hs256 => "HS256",
            JwtAlgorithm::EdDsa => "EdDSA",
            JwtAlgorithm::Es256 => "ES256",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        [JwtAlgorithm::EdDsa, JwtAlgorithm::Es256]
            .into_iter()
            .find(|a| a.name() == name)
    }

    fn jose(self) -> Algorithm {
        match self {
            JwtAlgorithm::Hs256 => Algorithm::HS256,
            JwtAlgorithm::EdDsa => Algorithm::EdDSA,
            JwtAlgorithm::Es256 => Algorithm::ES256,
        }
    }
}

/// How long a retired key still verifies: the longest JWT lifetime (3600 s, `duration`'s
/// bound) and a minute for clocks that disagree.
pub const RETIRED_KEY_GRACE_MS: i64 = 3_660_000;
/// How long a node uses the keys it loaded before reading them again.
pub const CACHE_MS: i64 = 30_000;
/// The least time between two reloads for an unknown `kid` (a flood of made-up ids must not
/// become a flood of reads).
const RELOAD_GAP_MS: i64 = 1_000;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A fresh key pair: the PKCS#8 private key and the public key as a JWK (with `kid`).
pub fn generate(alg: JwtAlgorithm, kid: &str) -> anyhow::Result<(Secret, Value)> {
    let rng = SystemRandom::new();
    let (pkcs8, jwk) = match alg {
        JwtAlgorithm::Hs256 => anyhow::bail!("HS256 uses the instance key, not a key pair"),
        JwtAlgorithm::EdDsa => {
            let doc = Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| anyhow::anyhow!("Ed25519 key generation failed"))?;
            let pair = Ed25519KeyPair::from_pkcs8(doc.as_ref())
                .map_err(|e| anyhow::anyhow!("generated Ed25519 key rejected: {e}"))?;
            let x = B64.encode(pair.public_key().as_ref());
            (
                doc.as_ref().to_vec(),
                json!({"kty": "OKP", "crv": "Ed25519", "x": x}),
            )
        }
        JwtAlgorithm::Es256 => {
            let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|_| anyhow::anyhow!("P-256 key generation failed"))?;
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref())
                .map_err(|e| anyhow::anyhow!("generated P-256 key rejected: {e}"))?;
            // The uncompressed point: 0x04 ‖ x ‖ y, 32 bytes each.
            let point = pair.public_key().as_ref();
            anyhow::ensure!(point.len() == 65 && point[0] == 4, "unexpected P-256 point");
            (
                doc.as_ref().to_vec(),
                json!({"kty": "EC", "crv": "P-256", "x": B64.encode(&point[1..33]),
                       "y": B64.encode(&point[33..])}),
            )
        }
    };
    let mut jwk = jwk;
    if let Value::Object(m) = &mut jwk {
        m.insert("kid".into(), kid.into());
        m.insert("alg".into(), alg.name().into());
        m.insert("use".into(), "sig".into());
    }
    Ok((Secret::new(B64.encode(pkcs8)), jwk))
}

/// The claims of a JWT signed with a project key: Appwrite's, and the registered ones a
/// generic verifier checks (`sub`, `aud` = the project, `iat`, and `iss` when the server has a
/// public URL).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublicClaims {
    user_id: String,
    session_id: String,
    project_id: String,
    exp: i64,
    sub: String,
    aud: String,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
}

/// The key that signs, opened.
struct SigningKey {
    kid: String,
    alg: JwtAlgorithm,
    encoding: EncodingKey,
}

/// A key that verifies: the signing one and the retired ones still in their grace time.
struct VerifyingKey {
    kid: String,
    alg: JwtAlgorithm,
    jwk: Value,
    decoding: DecodingKey,
}

/// One project's keys as loaded at `loaded_at`.
struct ProjectKeys {
    signing: Option<SigningKey>,
    /// A signing key is stored but does not open with this instance key (it was changed):
    /// verification still works, signing needs a new key.
    unopened: bool,
    verifying: Vec<VerifyingKey>,
    loaded_at: i64,
}

/// The keys of every project this node has used, read from the store and kept a while.
pub struct KeyRing {
    sealer: Sealer,
    loaded: Mutex<HashMap<String, Arc<ProjectKeys>>>,
}

fn seal_context(project: &str, kid: &str) -> String {
    format!("jwt_keys/{project}/{kid}")
}

impl KeyRing {
    /// A ring whose private keys are sealed with a key derived from the instance key.
    pub fn new(instance_key: &Secret) -> Self {
        KeyRing {
            sealer: Sealer::new(instance_key, "jwt-keys"),
            loaded: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, project: &str) -> Option<Arc<ProjectKeys>> {
        self.loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(project)
            .cloned()
    }

    async fn load(&self, store: &dyn Store, project: &str, now: i64) -> Result<Arc<ProjectKeys>> {
        let rows = store.list_jwt_keys(project).await?;
        let mut keys = ProjectKeys {
            signing: None,
            unopened: false,
            verifying: vec![],
            loaded_at: now,
        };
        for row in rows {
            let Some(alg) = JwtAlgorithm::parse(&row.alg) else {
                continue;
            };
            if row
                .retired_at
                .is_some_and(|at| at + RETIRED_KEY_GRACE_MS <= now)
            {
                continue;
            }
            let jwk: Value = serde_json::from_str(&row.public_jwk)
                .map_err(|e| Error::internal(StoreError::Corrupt(e.to_string())))?;
            let decoding = match alg {
                JwtAlgorithm::EdDsa => DecodingKey::from_ed_components(text(&jwk, "x")),
                _ => DecodingKey::from_ec_components(text(&jwk, "x"), text(&jwk, "y")),
            }
            .map_err(|e| Error::internal(StoreError::Corrupt(e.to_string())))?;
            let der = row
                .retired_at
                .is_none()
                .then(|| {
                    self.sealer
                        .open(&seal_context(project, &row.id), &row.private_key)
                        .and_then(|b64| B64.decode(b64).ok())
                })
                .flatten();
            if row.retired_at.is_none() && der.is_none() {
                tracing::error!(
                    project,
                    kid = row.id,
                    "a JWT signing key does not open with this instance key; a new one will sign"
                );
                keys.unopened = true;
            }
            if let Some(der) = der {
                let encoding = match alg {
                    JwtAlgorithm::EdDsa => EncodingKey::from_ed_der(&der),
                    _ => EncodingKey::from_ec_der(&der),
                };
                keys.signing = Some(SigningKey {
                    kid: row.id.clone(),
                    alg,
                    encoding,
                });
            }
            keys.verifying.push(VerifyingKey {
                kid: row.id,
                alg,
                jwk,
                decoding,
            });
        }
        let keys = Arc::new(keys);
        self.loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(project.to_owned(), keys.clone());
        Ok(keys)
    }

    /// The project's keys, from memory when loaded less than [`CACHE_MS`] ago.
    async fn keys(&self, store: &dyn Store, project: &str, now: i64) -> Result<Arc<ProjectKeys>> {
        match self.cached(project) {
            Some(k) if now - k.loaded_at < CACHE_MS && now >= k.loaded_at => Ok(k),
            _ => self.load(store, project, now).await,
        }
    }

    /// Makes a new signing key of `alg` for the project, retiring the one it had. With
    /// `only_if_missing`, does nothing when a signing key of `alg` exists. Two first uses at
    /// once (two nodes, or two requests) may both make one: the unique index keeps one signing,
    /// and a key retired that way still verifies what it signed.
    pub async fn rotate(
        &self,
        store: &dyn Store,
        project: &str,
        alg: JwtAlgorithm,
        now: i64,
        only_if_missing: bool,
    ) -> Result<JwtKeyRow> {
        let kid = ids::random_hex(16);
        let (pkcs8, jwk) = generate(alg, &kid).map_err(Error::internal)?;
        let row = JwtKeyRow {
            id: kid.clone(),
            alg: alg.name().to_owned(),
            private_key: self
                .sealer
                .seal(&seal_context(project, &kid), pkcs8.expose().as_bytes()),
            public_jwk: jwk.to_string(),
            created_at: now,
            retired_at: None,
        };
        if only_if_missing
            && let Some(k) = store
                .list_jwt_keys(project)
                .await?
                .into_iter()
                .find(|k| k.retired_at.is_none() && k.alg == alg.name())
        {
            return Ok(k);
        }
        let mut tx = store.begin().await?;
        tx.retire_jwt_key(project, now).await?;
        match tx.insert_jwt_key(project, &row).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                drop(tx);
                self.load(store, project, now).await?;
                return store
                    .list_jwt_keys(project)
                    .await?
                    .into_iter()
                    .find(|k| k.retired_at.is_none())
                    .ok_or_else(|| Error::internal(anyhow::anyhow!("JWT key race lost twice")));
            }
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        self.load(store, project, now).await?;
        Ok(row)
    }

    /// The project's keys, with a signing key of `alg` made if it has none.
    async fn ensure(
        &self,
        store: &dyn Store,
        project: &str,
        alg: JwtAlgorithm,
        now: i64,
    ) -> Result<Arc<ProjectKeys>> {
        let keys = self.keys(store, project, now).await?;
        if keys.signing.as_ref().is_some_and(|k| k.alg == alg) {
            return Ok(keys);
        }
        // A stored key that does not open is replaced, not reused.
        self.rotate(store, project, alg, now, !keys.unopened)
            .await?;
        self.load(store, project, now).await
    }

    /// Signs `claims` with the project's key of `alg`, making one on first use.
    pub async fn sign(
        &self,
        store: &dyn Store,
        alg: JwtAlgorithm,
        claims: &Claims,
        issuer: Option<&str>,
        now: i64,
    ) -> Result<Secret> {
        let keys = self.ensure(store, &claims.project_id, alg, now).await?;
        let key = keys
            .signing
            .as_ref()
            .filter(|k| k.alg == alg)
            .ok_or_else(|| {
                Error::internal(anyhow::anyhow!("no {} key after rotation", alg.name()))
            })?;
        let mut header = Header::new(alg.jose());
        header.kid = Some(key.kid.clone());
        let body = PublicClaims {
            user_id: claims.user_id.clone(),
            session_id: claims.session_id.clone(),
            project_id: claims.project_id.clone(),
            exp: claims.exp,
            sub: claims.user_id.clone(),
            aud: claims.project_id.clone(),
            iat: now / 1000,
            iss: issuer.map(str::to_owned),
        };
        jsonwebtoken::encode(&header, &body, &key.encoding)
            .map(Secret::new)
            .map_err(Error::internal)
    }

    /// The JWKS document of the project: every key that still verifies. A project signing
    /// with `alg` gets its first key here if no JWT made one yet, so a verifier may fetch the
    /// set before the first sign-in.
    pub async fn jwks(
        &self,
        store: &dyn Store,
        project: &str,
        alg: JwtAlgorithm,
        now: i64,
    ) -> Result<Value> {
        let keys = match alg {
            JwtAlgorithm::Hs256 => self.without_signing_key(store, project, now).await?,
            _ => self.ensure(store, project, alg, now).await?,
        };
        let list: Vec<&Value> = keys.verifying.iter().map(|k| &k.jwk).collect();
        Ok(json!({ "keys": list }))
    }

    /// The keys of a project that signs with HS256 again: a key pair it signed with before is
    /// retired now, so it verifies only the JWTs it may have signed, for their lifetime, and a
    /// leaked private key cannot mint more.
    async fn without_signing_key(
        &self,
        store: &dyn Store,
        project: &str,
        now: i64,
    ) -> Result<Arc<ProjectKeys>> {
        let keys = self.keys(store, project, now).await?;
        if keys.signing.is_none() && !keys.unopened {
            return Ok(keys);
        }
        let mut tx = store.begin().await?;
        tx.retire_jwt_key(project, now).await?;
        tx.commit().await?;
        self.load(store, project, now).await
    }

    /// Verifies a JWT whose header names key `kid` at `now` (ms), with no leeway, for a
    /// project signing with `alg`. Errors are in the words of [`crate::domain::jwt::verify`].
    pub async fn verify(
        &self,
        store: &dyn Store,
        project: &str,
        alg: JwtAlgorithm,
        kid: &str,
        token: &str,
        now: i64,
    ) -> Result<std::result::Result<Claims, String>> {
        let mut keys = match alg {
            JwtAlgorithm::Hs256 => self.without_signing_key(store, project, now).await?,
            _ => self.keys(store, project, now).await?,
        };
        if !keys.verifying.iter().any(|k| k.kid == kid) && now - keys.loaded_at >= RELOAD_GAP_MS {
            keys = self.load(store, project, now).await?;
        }
        let Some(key) = keys.verifying.iter().find(|k| k.kid == kid) else {
            return Ok(Err("Invalid token: Unknown key ID".into()));
        };
        // The key's own algorithm, never the header's: a token cannot pick how it is checked.
        let mut validation = jsonwebtoken::Validation::new(key.alg.jose());
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let decoded = match jsonwebtoken::decode::<PublicClaims>(token, &key.decoding, &validation)
        {
            Ok(d) => d.claims,
            Err(e) => {
                return Ok(Err(match e.kind() {
                    jsonwebtoken::errors::ErrorKind::InvalidSignature
                    | jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => {
                        "Invalid token: Signature failed".into()
                    }
                    _ => "Invalid token: Malformed".into(),
                }));
            }
        };
        if now / 1000 >= decoded.exp {
            return Ok(Err("Invalid token: Expired".into()));
        }
        Ok(Ok(Claims {
            user_id: decoded.user_id,
            session_id: decoded.session_id,
            project_id: decoded.project_id,
            exp: decoded.exp,
        }))
    }
}

/// What signs a project's account JWTs: the instance key for HS256, else the project's keys.
pub struct JwtSigner<'a> {
    pub instance_key: &'a [u8],
    pub ring: &'a KeyRing,
    /// `iss` of key-signed JWTs (the server's public URL, when configured).
    pub issuer: Option<&'a str>,
}

impl JwtSigner<'_> {
    /// Signs `claims` the way `alg` says.
    pub async fn sign(
        &self,
        store: &dyn Store,
        alg: JwtAlgorithm,
        claims: &Claims,
        now: i64,
    ) -> Result<Secret> {
        match alg {
            JwtAlgorithm::Hs256 => {
                crate::domain::jwt::sign(self.instance_key, claims).map_err(Error::internal)
            }
            _ => self.ring.sign(store, alg, claims, self.issuer, now).await,
        }
    }
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or_default()
}

/// The `kid` in a JWT's header, if it names one (such JWTs are checked against project keys).
pub fn header_kid(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).ok()?.kid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_publish_only_public_parts_and_name_their_kid() {
        for alg in [JwtAlgorithm::EdDsa, JwtAlgorithm::Es256] {
            let (pkcs8, jwk) = generate(alg, "k1").unwrap();
            assert_eq!(jwk["kid"], "k1");
            assert_eq!(jwk["alg"], alg.name());
            assert!(jwk.get("d").is_none(), "no private scalar in a JWK");
            assert!(!jwk.to_string().contains(pkcs8.expose()));
        }
        assert!(generate(JwtAlgorithm::Hs256, "k").is_err());
    }
}
