//! Instance configuration: CLI flags and env (see OPERATOR-CONTRACT.md) plus the TOML file.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::domain::passwords::{HashParams, PasswordStrength};

/// Everything `serve` needs, built once at start.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://…`; `None` means `sqlite://<data>/latchkey.db`.
    pub database_url: Option<String>,
    /// `_APP_OPENSSL_KEY_V1`; when `None` a key is generated once and kept in the data folder.
    pub instance_key: Option<String>,
    pub file: FileConfig,
    /// Whether the file listed projects (otherwise an empty store gets project `default`).
    pub has_config_file: bool,
}

impl Config {
    /// A config with defaults for everything, for tests and embedding.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            listen: "127.0.0.1:0".into(),
            data_dir: data_dir.into(),
            database_url: None,
            instance_key: None,
            file: FileConfig::default(),
            has_config_file: false,
        }
    }

    /// Reads and validates a TOML config file; errors name the file, the key and what was expected.
    pub fn load_file(path: &Path) -> anyhow::Result<FileConfig> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("config file {}: {e}", path.display()))?;
        Self::parse_file(&text).map_err(|e| anyhow::anyhow!("config file {}: {e}", path.display()))
    }

    /// Parses and validates config text.
    pub fn parse_file(text: &str) -> anyhow::Result<FileConfig> {
        let file: FileConfig = toml::from_str(text)?;
        file.validate()?;
        Ok(file)
    }
}

/// The TOML file (OPERATOR-CONTRACT.md "Config file"). Unknown keys are rejected.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileConfig {
    /// Peers whose `X-Forwarded-For` is believed; default loopback.
    pub trusted_proxies: Option<Vec<String>>,
    pub public_url: Option<String>,
    #[serde(default)]
    pub passwords: HashParams,
    pub smtp: Option<SmtpConfig>,
    pub sms: Option<SmsConfig>,
    #[serde(default)]
    pub projects: Vec<ProjectConfig>,
}

/// SMTP settings (stored for the mail issue; not used yet).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub secure: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub sender: Option<String>,
    pub sender_name: Option<String>,
}

/// SMS provider settings (stored for the phone issue; not used yet).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmsConfig {
    pub provider: Option<String>,
    pub from: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub endpoint: Option<String>,
}

/// One `[[projects]]` entry; also the stored form of a project's settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectConfig {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub platforms: Vec<PlatformConfig>,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub keys: Vec<KeyConfig>,
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    #[serde(default)]
    pub sms: Option<SmsConfig>,
    #[serde(default)]
    pub oauth2: BTreeMap<String, OAuth2Config>,
}

/// A platform: web types allow a hostname, native types a bundle key or URL scheme.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlatformConfig {
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
pub struct AuthConfig {
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
    pub methods: AuthMethods,
    pub mfa_factors: MfaFactors,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
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
            methods: AuthMethods::default(),
            mfa_factors: MfaFactors::default(),
        }
    }
}

/// A phone number that never receives SMS and always accepts a fixed code.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MockNumber {
    pub phone: String,
    pub otp: String,
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
        }
    }
}

/// MFA factor policy (stored for the MFA issue).
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
pub struct KeyConfig {
    pub id: String,
    pub secret: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub expire: Option<String>,
}

/// One OAuth2 provider of a project (stored for the OAuth2 issue).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuth2Config {
    #[serde(default)]
    pub enabled: bool,
    pub app_id: Option<String>,
    pub secret: Option<String>,
    pub well_known_endpoint: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub emails_endpoint: Option<String>,
}

/// Appwrite's project API key scopes; a key naming anything else is rejected at start.
pub const KNOWN_SCOPES: &[&str] = &[
    "sessions.write",
    "users.read",
    "users.write",
    "teams.read",
    "teams.write",
    "databases.read",
    "databases.write",
    "collections.read",
    "collections.write",
    "tables.read",
    "tables.write",
    "attributes.read",
    "attributes.write",
    "columns.read",
    "columns.write",
    "indexes.read",
    "indexes.write",
    "documents.read",
    "documents.write",
    "rows.read",
    "rows.write",
    "files.read",
    "files.write",
    "buckets.read",
    "buckets.write",
    "functions.read",
    "functions.write",
    "sites.read",
    "sites.write",
    "log.read",
    "log.write",
    "execution.read",
    "execution.write",
    "locale.read",
    "avatars.read",
    "health.read",
    "providers.read",
    "providers.write",
    "messages.read",
    "messages.write",
    "topics.read",
    "topics.write",
    "subscribers.read",
    "subscribers.write",
    "targets.read",
    "targets.write",
    "rules.read",
    "rules.write",
    "migrations.read",
    "migrations.write",
    "vcs.read",
    "vcs.write",
    "assistant.read",
    "tokens.read",
    "tokens.write",
    "projects.read",
    "projects.write",
    "webhooks.read",
    "webhooks.write",
    "platforms.read",
    "platforms.write",
    "keys.read",
    "keys.write",
    "schedules.read",
    "schedules.write",
];

const PLATFORM_TYPES: &[&str] = &[
    "web",
    "flutter-web",
    "flutter-ios",
    "flutter-android",
    "flutter-linux",
    "flutter-macos",
    "flutter-windows",
    "apple-ios",
    "apple-macos",
    "apple-watchos",
    "apple-tvos",
    "apple",
    "android",
    "unity",
    "react-native-ios",
    "react-native-android",
    "windows",
    "linux",
    "scheme",
];

impl FileConfig {
    /// Checks what serde cannot: ids, scope names, platform types, dates and CIDRs.
    pub fn validate(&self) -> anyhow::Result<()> {
        parse_trusted_proxies(self.trusted_proxies.as_deref())?;
        crate::domain::passwords::PasswordHasher::new(self.passwords)?;
        let mut ids = std::collections::HashSet::new();
        for (i, p) in self.projects.iter().enumerate() {
            let at = format!("projects[{i}]");
            crate::domain::validate::uid(&p.id)
                .map_err(|d| anyhow::anyhow!("{at}.id: expected a project id ({d})"))?;
            anyhow::ensure!(
                ids.insert(&p.id),
                "{at}.id: project `{}` is listed twice",
                p.id
            );
            anyhow::ensure!(!p.name.is_empty(), "{at}.name: expected a non-empty name");
            for (j, pl) in p.platforms.iter().enumerate() {
                anyhow::ensure!(
                    PLATFORM_TYPES.contains(&pl.kind.as_str()),
                    "{at}.platforms[{j}].type: expected one of {}, got `{}`",
                    PLATFORM_TYPES.join(", "),
                    pl.kind
                );
            }
            let mut secrets = std::collections::HashSet::new();
            for (j, k) in p.keys.iter().enumerate() {
                anyhow::ensure!(
                    k.secret.len() >= 16,
                    "{at}.keys[{j}].secret: expected at least 16 characters"
                );
                anyhow::ensure!(
                    secrets.insert(&k.secret),
                    "{at}.keys[{j}].secret: two keys share one secret"
                );
                for s in &k.scopes {
                    anyhow::ensure!(
                        KNOWN_SCOPES.contains(&s.as_str()),
                        "{at}.keys[{j}].scopes: unknown scope `{s}`"
                    );
                }
                if let Some(e) = k.expire.as_deref().filter(|e| !e.is_empty()) {
                    anyhow::ensure!(
                        crate::domain::time::parse_iso_ms(e).is_some(),
                        "{at}.keys[{j}].expire: expected an ISO-8601 datetime, got `{e}`"
                    );
                }
            }
            for (j, m) in p.auth.mock_numbers.iter().enumerate() {
                anyhow::ensure!(
                    m.otp.len() == 6 && m.otp.bytes().all(|b| b.is_ascii_digit()),
                    "{at}.auth.mockNumbers[{j}].otp: expected 6 digits"
                );
            }
        }
        Ok(())
    }
}

/// The trusted proxy list as networks; loopback when not configured.
pub fn parse_trusted_proxies(list: Option<&[String]>) -> anyhow::Result<Vec<IpNet>> {
    let default = ["127.0.0.0/8".to_string(), "::1".to_string()];
    list.unwrap_or(&default)
        .iter()
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    anyhow::anyhow!("trustedProxies: expected an address or CIDR, got `{s}`")
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_contract_example_parses_with_defaults() {
        let f = Config::parse_file(
            r#"
            trustedProxies = ["10.0.0.0/8", "::1"]
            [passwords]
            memoryCost = 4096
            [smtp]
            host = "127.0.0.1"
            [[projects]]
            id = "test"
            name = "Test App"
              [[projects.platforms]]
              type = "web"
              hostname = "localhost"
              [projects.auth]
              maxSessions = 2
              mockNumbers = [{ phone = "+16505550101", otp = "123456" }]
              methods = { emailPassword = false, JWT = true }
              [[projects.keys]]
              id = "ci"
              secret = "standard_0123456789abcdef"
              scopes = ["sessions.write", "users.read"]
              [projects.oauth2.github]
              enabled = true
              appId = "x"
            "#,
        )
        .unwrap();
        let p = &f.projects[0];
        assert_eq!(p.auth.max_sessions, 2);
        assert_eq!(p.auth.duration, 31_536_000);
        assert!(!p.auth.methods.email_password && p.auth.methods.anonymous);
        assert!(p.auth.invalidate_sessions);
        assert_eq!(f.passwords.time_cost, 2);
    }

    #[test]
    fn unknown_keys_wrong_types_and_unknown_scopes_are_rejected_with_the_key_named() {
        let e = Config::parse_file("[[projects]]\nid = \"a\"\nname = \"A\"\ncolour = 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("colour"), "{e}");
        let e = Config::parse_file(
            "[[projects]]\nid = \"a\"\nname = \"A\"\n[projects.auth]\nlimit = \"x\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("limit"), "{e}");
        let e = Config::parse_file(
            "[[projects]]\nid = \"a\"\nname = \"A\"\n[[projects.keys]]\nid = \"k\"\nsecret = \"0123456789abcdef0\"\nscopes = [\"root\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown scope `root`"), "{e}");
    }
}
