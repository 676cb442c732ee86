//! What the store keeps, one struct per table. Datetimes are epoch milliseconds; secrets and
//! hashes of secrets are [`Secret`]s so that no `Debug` output can show one.

use serde::Serialize;

use crate::secret::Secret;

/// A project as recorded in the store: its id, name and its settings with every secret removed
/// (the config file is the source of truth; this copy is informational).
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectRow {
    pub id: String,
    pub name: String,
    pub settings: String,
}

/// An API key made with the CLI: only the SHA-256 of its secret is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRow {
    pub project_id: String,
    pub id: String,
    pub name: String,
    /// JSON array of scope names.
    pub scopes: String,
    pub secret_hash: String,
    pub expire: Option<i64>,
    pub created_at: i64,
}

/// A JWT signing key of a project: the private half sealed, the public half as a JWK.
#[derive(Clone, PartialEq)]
pub struct JwtKeyRow {
    /// The `kid` its JWTs name.
    pub id: String,
    /// `EdDSA` or `ES256`.
    pub alg: String,
    /// Sealed PKCS#8 (see `crate::seal`).
    pub private_key: String,
    /// The public key as a JWK (JSON text).
    pub public_jwk: String,
    pub created_at: i64,
    /// When another key took over signing; `None` for the signing key.
    pub retired_at: Option<i64>,
}

impl std::fmt::Debug for JwtKeyRow {
    // The sealed private key stays out of logs even though it is ciphertext.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeyRow")
            .field("id", &self.id)
            .field("alg", &self.alg)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// A single-use refresh token of short JWTs: only the SHA-256 of its secret is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshTokenRow {
    pub id: String,
    /// Every token exchanged from the same first one.
    pub family_id: String,
    pub user_id: String,
    pub session_id: String,
    pub secret_hash: Secret,
    /// Lifetime in seconds of the JWTs it yields.
    pub duration: i64,
    pub created_at: i64,
    /// When it was exchanged; a spent token presented again revokes its family.
    pub spent_at: Option<i64>,
    pub expire: i64,
}

/// A passkey: a WebAuthn credential of a user, pending until its registration is verified.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PasskeyRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// The last sign-in with it.
    pub accessed_at: Option<i64>,
    /// The credential id (base64url); `None` while pending.
    pub credential_id: Option<String>,
    /// webauthn-rs's record of the credential (JSON): public key, counter, backup state.
    pub credential: Option<String>,
    /// The registration challenge of a pending passkey.
    pub challenge_id: Option<String>,
}

/// A WebAuthn ceremony in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct PasskeyChallengeRow {
    pub id: String,
    /// Registration: the user and the pending passkey; sign-in: `None`.
    pub user_id: Option<String>,
    pub passkey_id: Option<String>,
    /// The relying party id it was made for.
    pub rp_id: String,
    /// The sealed ceremony state.
    pub state: Secret,
    pub created_at: i64,
    pub expire: i64,
}

/// A user as stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserRow {
    pub id: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// PHC string of the password hash.
    pub password: Option<Secret>,
    pub hash: Option<String>,
    pub hash_options: Option<String>,
    /// JSON array of earlier PHC strings.
    pub password_history: Secret,
    pub password_update: Option<i64>,
    pub registration: i64,
    pub status: bool,
    /// JSON array of labels.
    pub labels: String,
    pub email_verification: bool,
    pub phone_verification: bool,
    pub mfa: bool,
    /// JSON object.
    pub prefs: String,
    pub accessed_at: i64,
    pub email_canonical: Option<String>,
    pub email_is_free: Option<bool>,
    pub email_is_disposable: Option<bool>,
    pub email_is_corporate: Option<bool>,
    pub email_is_canonical: Option<bool>,
    /// Whether the password was in a breach corpus when last looked up; `None`: never looked up.
    pub password_pwned: Option<bool>,
}

/// The client, OS and device fields parsed from a user agent when a session or audit record is
/// written (spec §3.7), so that listing never parses again.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAgentInfo {
    pub os_code: String,
    pub os_name: String,
    pub os_version: String,
    pub client_type: String,
    pub client_code: String,
    pub client_name: String,
    pub client_version: String,
    pub client_engine: String,
    pub client_engine_version: String,
    pub device_name: String,
    pub device_brand: String,
    pub device_model: String,
}

/// A session as stored; only the SHA-256 of its secret is kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub expire: i64,
    pub provider: String,
    pub provider_uid: String,
    pub provider_access_token: Secret,
    pub provider_access_token_expiry: Option<i64>,
    pub provider_refresh_token: Secret,
    pub secret_hash: Secret,
    pub ip: String,
    pub user_agent: String,
    pub ua: UserAgentInfo,
    pub country_code: String,
    /// JSON array of factor names.
    pub factors: String,
    pub mfa_updated_at: Option<i64>,
}

/// A messaging target (email, sms or push) of a user.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetRow {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub name: String,
    pub provider_id: Option<String>,
    pub provider_type: String,
    pub identifier: String,
    pub expired: bool,
    pub session_id: Option<String>,
}

/// An OAuth2 identity linked to a user.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentityRow {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub provider: String,
    pub provider_uid: String,
    pub provider_email: String,
    pub provider_access_token: Secret,
    pub provider_access_token_expiry: Option<i64>,
    pub provider_refresh_token: Secret,
    /// The ID token of the latest native sign-in (2.x `providerIdToken`), `""` otherwise.
    pub provider_id_token: Secret,
}

/// A security audit record of an account event, with its user agent parsed once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditRow {
    pub user_id: String,
    pub event: String,
    pub resource: String,
    pub user_email: String,
    pub user_name: String,
    pub mode: String,
    pub user_type: String,
    pub ip: String,
    pub user_agent: String,
    pub ua: UserAgentInfo,
    pub country_code: String,
    pub time: i64,
}

/// A token of a passwordless, verification or recovery flow; only the SHA-256 of its secret
/// is kept. `kind` is Appwrite's token type number (spec §3.1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenRow {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub kind: i64,
    pub secret_hash: Secret,
    pub expire: i64,
}

/// An accepted email or SMS until it is delivered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxRow {
    pub id: String,
    pub project_id: String,
    /// `email` or `sms`.
    pub channel: String,
    /// What the message is (`recovery`, `magicSession`, …), for logs and metrics.
    pub kind: String,
    pub created_at: i64,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: String,
    pub done_at: Option<i64>,
    /// When the token the message carries expires: it is given up on after that.
    pub expires_at: Option<i64>,
    /// The sealed message; `None` once it is sent or given up on.
    pub payload: Option<Secret>,
    /// The user it is about: deleting the user deletes it.
    pub user_id: Option<String>,
}

/// How many outbox messages wait and how many were given up on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: i64,
    pub failed: i64,
}

/// An MFA authenticator (only `totp` today) of a user. `secret` is sealed by the domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthenticatorRow {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub verified: bool,
    pub secret: Secret,
    /// The last TOTP time step accepted (0 = none yet).
    pub last_step: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An open MFA challenge, with the sealed code of an email, phone or custom challenge.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChallengeRow {
    pub id: String,
    pub user_id: String,
    /// The factor: `totp`, `email`, `phone`, `recoveryCode` or `custom`.
    pub kind: String,
    pub code: Option<Secret>,
    pub attempts: i64,
    pub created_at: i64,
    pub expire: i64,
}
