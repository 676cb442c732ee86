//! A project: its settings in Appwrite's names (what the config file's `[[projects]]` tables
//! hold) and the runtime form the pipeline uses, with API keys kept only as hashes.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::domain::passwords::{PasswordPolicy, PasswordStrength};
use crate::secret::{Secret, sha256, sha256_hex};

/// One project's settings; also the shape of a `[[projects]]` table of the config file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectSettings {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub platforms: Vec<PlatformSettings>,
    #[serde(default)]
    pub auth: AuthSettings,
    #[serde(default)]
    pub keys: Vec<KeySettings>,
    #[serde(default)]
    pub smtp: Option<SmtpSettings>,
    #[serde(default)]
    pub sms: Option<SmsSettings>,
    /// A folder of this project's own email and SMS templates (README "Templates").
    #[serde(default)]
    pub templates: Option<String>,
    #[serde(default)]
    pub oauth2: BTreeMap<String, OAuth2Settings>,
    /// How account JWTs are signed (`[projects.jwt]`, a latchkey addition).
    #[serde(default)]
    pub jwt: JwtSettings,
}

/// `[projects.jwt]`: HS256 with the instance key (Appwrite's way, the default), or a key pair
/// of the project's own, published at `/v1/.well-known/jwks.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct JwtSettings {
    pub algorithm: crate::domain::jwt_keys::JwtAlgorithm,
}

/// A platform: web types allow a hostname, native types a bundle key or URL scheme.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlatformSettings {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
}

/// Appwrite's project `auths`, same names and defaults (spec §10).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct AuthSettings {
    pub limit: u64,
    pub max_sessions: u64,
    pub duration: u64,
    pub password_history: u64,
    pub password_dictionary: bool,
    pub password_strength: PasswordStrength,
    pub personal_data_check: bool,
    pub session_alerts: bool,
    pub invalidate_sessions: bool,
    pub mock_numbers: Vec<MockNumber>,
    /// Refuse disposable addresses (`user_email_disposable`).
    pub disposable_emails: bool,
    /// Refuse aliased addresses such as `a+b@` (`user_email_not_canonical`).
    pub canonical_emails: bool,
    /// Refuse free-mail addresses (`user_email_free`).
    pub free_emails: bool,
    /// Accept only corporate addresses (`user_email_not_corporate`).
    pub corporate_emails: bool,
    pub methods: AuthMethods,
    pub mfa_factors: MfaFactors,
    /// Appwrite 2.5's `password-pwned` policy.
    pub password_pwned: crate::domain::breached::PwnedPolicy,
    /// Appwrite 2.5's `passkey` policy: the relying party.
    pub passkey: crate::domain::passkeys::relying_party::PasskeyPolicy,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            limit: 0,
            max_sessions: 10,
            duration: 31_536_000,
            password_history: 0,
            password_dictionary: false,
            password_strength: PasswordStrength::default(),
            personal_data_check: false,
            session_alerts: false,
            invalidate_sessions: true,
            mock_numbers: vec![],
            disposable_emails: false,
            canonical_emails: false,
            free_emails: false,
            corporate_emails: false,
            methods: AuthMethods::default(),
            mfa_factors: MfaFactors::default(),
            password_pwned: Default::default(),
            passkey: Default::default(),
        }
    }
}

/// A phone number that never receives SMS and always accepts a fixed code.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MockNumber {
    pub phone: String,
    pub otp: Secret,
}

/// Auth-method switches (spec §2.11), Appwrite's own keys; all default to enabled.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuthMethods {
    #[serde(rename = "emailPassword")]
    pub email_password: bool,
    #[serde(rename = "usersAuthMagicURL")]
    pub magic_url: bool,
    #[serde(rename = "emailOtp")]
    pub email_otp: bool,
    pub anonymous: bool,
    pub invites: bool,
    #[serde(rename = "JWT")]
    pub jwt: bool,
    pub phone: bool,
    /// 2.x: passkey registration and sign-in; off by default, as in Appwrite.
    pub passkey: bool,
}

impl Default for AuthMethods {
    fn default() -> Self {
        AuthMethods {
            email_password: true,
            magic_url: true,
            email_otp: true,
            anonymous: true,
            invites: true,
            jwt: true,
            phone: true,
            passkey: false,
        }
    }
}

/// A project auth-method switch that can disable a route (spec §2.11; the route's
/// `auth.type` label in Appwrite).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    EmailPassword,
    MagicUrl,
    EmailOtp,
    Anonymous,
    Invites,
    Jwt,
    Phone,
    Passkey,
}

impl AuthMethods {
    /// Whether `method` is on, and the 501 message Appwrite gives when it is off
    /// (appwrite 1.9.6 app/controllers/shared/api/auth.php).
    pub fn check(&self, method: AuthMethod) -> (bool, &'static str) {
        match method {
            AuthMethod::EmailPassword => (
                self.email_password,
                "Email / Password authentication is disabled for this project",
            ),
            AuthMethod::MagicUrl => (
                self.magic_url,
                "Magic URL authentication is disabled for this project",
            ),
            AuthMethod::EmailOtp => (
                self.email_otp,
                "Email OTP authentication is disabled for this project",
            ),
            AuthMethod::Anonymous => (
                self.anonymous,
                "Anonymous authentication is disabled for this project",
            ),
            AuthMethod::Invites => (
                self.invites,
                "Invites authentication is disabled for this project",
            ),
            AuthMethod::Jwt => (self.jwt, "JWT authentication is disabled for this project"),
            AuthMethod::Phone => (
                self.phone,
                "Phone authentication is disabled for this project",
            ),
            AuthMethod::Passkey => (
                self.passkey,
                "Passkey authentication is disabled for this project",
            ),
        }
    }
}

/// MFA factor policy (for the MFA issue).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MfaFactors {
    pub totp: bool,
    pub email: bool,
    pub phone: bool,
    pub custom: bool,
}

impl Default for MfaFactors {
    fn default() -> Self {
        MfaFactors {
            totp: true,
            email: true,
            phone: true,
            custom: false,
        }
    }
}

/// A server API key; clients send `secret` verbatim as `X-Appwrite-Key`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KeySettings {
    pub id: String,
    pub secret: Secret,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub expire: Option<String>,
}

/// SMTP settings of the instance (`[smtp]`) or of one project (`[projects.smtp]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub secure: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub sender: Option<String>,
    pub sender_name: Option<String>,
    /// Reply-To address (default: the sender).
    pub reply_to: Option<String>,
}

/// SMS provider settings of the instance (`[sms]`) or of one project (`[projects.sms]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmsSettings {
    pub provider: Option<String>,
    pub from: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub endpoint: Option<String>,
    /// Msg91's flow template id.
    pub template_id: Option<String>,
}

/// One OAuth2 provider of a project (`[projects.oauth2.<provider>]`, README "OAuth2").
/// Every endpoint has the adapter's default; setting one overrides it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuth2Settings {
    /// The browser flows (`createOAuth2Session`, `createOAuth2Token`).
    #[serde(default)]
    pub enabled: bool,
    /// ID-token sessions (2.x `nativeEnabled`), independent of `enabled`.
    #[serde(default)]
    pub native_enabled: bool,
    pub app_id: Option<String>,
    /// The client secret; for Apple the `.p8` private key (PEM).
    pub secret: Option<Secret>,
    /// More audiences an ID token may name (native app client ids, Apple bundle ids).
    #[serde(default)]
    pub client_ids: Vec<String>,
    /// OpenID discovery document (`oidc`, `oidc-<name>`).
    pub well_known_endpoint: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub emails_endpoint: Option<String>,
    /// Signing keys of ID tokens (`createIdTokenSession`).
    pub jwks_endpoint: Option<String>,
    /// The `iss` ID tokens must carry.
    pub issuer: Option<String>,
    /// `{base}` of the adapter's endpoints: a self-hosted GitLab, an Auth0/Okta/FusionAuth/
    /// authentik domain, a Keycloak realm URL.
    pub base_url: Option<String>,
    /// Microsoft's tenant (default `common`).
    pub tenant: Option<String>,
    /// Apple's key id and team id, which sign its client secret.
    pub key_id: Option<String>,
    pub team_id: Option<String>,
    /// Scopes asked for besides the adapter's and the client's.
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl ProjectSettings {
    /// The project `serve` runs when no config file lists projects.
    pub fn default_project() -> Self {
        ProjectSettings {
            id: "default".into(),
            name: "Default".into(),
            url: None,
            platforms: vec![PlatformSettings {
                kind: "web".into(),
                name: Some("localhost".into()),
                hostname: Some("localhost".into()),
                key: None,
            }],
            auth: AuthSettings::default(),
            keys: vec![],
            smtp: None,
            sms: None,
            templates: None,
            oauth2: BTreeMap::new(),
            jwt: JwtSettings::default(),
        }
    }

    /// The settings with every secret removed (key secrets become their SHA-256), the form
    /// in which a project is recorded in the store.
    pub fn redacted(&self) -> Self {
        let mut s = self.clone();
        for k in &mut s.keys {
            k.secret = Secret::new(format!("sha256:{}", sha256_hex(k.secret.expose())));
        }
        for m in &mut s.auth.mock_numbers {
            m.otp = Secret::default();
        }
        if let Some(smtp) = &mut s.smtp {
            smtp.password = None;
        }
        if let Some(sms) = &mut s.sms {
            sms.password = None;
        }
        for o in s.oauth2.values_mut() {
            o.secret = None;
        }
        s
    }
}

/// A server API key as the pipeline knows it: no secret, only what it grants.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: String,
    pub scopes: Vec<String>,
    /// Expiry in epoch milliseconds; `None` never expires.
    pub expire: Option<i64>,
}

/// A tenant project, immutable while the server runs.
#[derive(Debug, Clone)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub settings: ProjectSettings,
    /// Keys by the SHA-256 of their secret: a lookup reveals nothing about other keys.
    keys: HashMap<[u8; 32], ApiKey>,
    pub password_policy: PasswordPolicy,
    /// Whether mail can be sent (project or instance SMTP is configured).
    pub email_enabled: bool,
    /// Whether SMS can be sent (project or instance provider is configured).
    pub sms_enabled: bool,
    /// The passkey relying party, when passkeys are configured.
    pub relying_party: Option<crate::domain::passkeys::relying_party::RelyingParty>,
}

impl Project {
    /// Builds the runtime form of a project's settings.
    pub fn new(settings: ProjectSettings) -> Self {
        let keys = settings
            .keys
            .iter()
            .map(|k| {
                let key = ApiKey {
                    id: k.id.clone(),
                    scopes: k.scopes.clone(),
                    expire: k
                        .expire
                        .as_deref()
                        .filter(|e| !e.is_empty())
                        .and_then(crate::domain::time::parse_iso_ms),
                };
                (sha256(k.secret.expose()), key)
            })
            .collect();
        let password_policy = PasswordPolicy {
            strength: settings.auth.password_strength.clone(),
            dictionary: settings.auth.password_dictionary,
        };
        let relying_party = crate::domain::passkeys::relying_party::build(&settings);
        if relying_party.is_none() && !settings.auth.passkey.rp_id.trim().is_empty() {
            tracing::warn!(
                project = settings.id,
                rp_id = settings.auth.passkey.rp_id,
                "passkeys have a relying party id but no web platform on it: they answer 501"
            );
        }
        Project {
            id: settings.id.clone(),
            name: settings.name.clone(),
            relying_party,
            settings,
            keys,
            password_policy,
            email_enabled: false,
            sms_enabled: false,
        }
    }

    /// The key whose secret is `secret`, found by the secret's hash.
    pub fn find_key(&self, secret: &str) -> Option<&ApiKey> {
        self.keys.get(&sha256(secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_by_secret_and_the_redacted_settings_hold_no_secret() {
        let mut s = ProjectSettings::default_project();
        s.keys.push(KeySettings {
            id: "k".into(),
            secret: Secret::new("standard_find_me_0123456789"),
            scopes: vec!["users.read".into()],
            expire: None,
        });
        s.oauth2.insert(
            "github".into(),
            OAuth2Settings {
                secret: Some(Secret::new("oauth-client-secret")),
                ..OAuth2Settings::default()
            },
        );
        let p = Project::new(s.clone());
        assert_eq!(p.find_key("standard_find_me_0123456789").unwrap().id, "k");
        assert!(p.find_key("standard_find_me_012345678").is_none());
        let stored = serde_json::to_string(&s.redacted()).unwrap();
        assert!(!stored.contains("standard_find_me_0123456789"), "{stored}");
        assert!(!stored.contains("oauth-client-secret"), "{stored}");
        assert!(stored.contains(&sha256_hex("standard_find_me_0123456789")));
    }
}
