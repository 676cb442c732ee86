//! Instance configuration: CLI flags and env (see OPERATOR-CONTRACT.md) plus the TOML file.
//! The file's project tables are `domain::project::ProjectSettings`; this module reads,
//! checks (Appwrite's ranges included) and hands them on.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

mod delivery;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::domain::hashing::{HashParams, MAX_VERIFY_MEMORY_KIB};
use crate::domain::project::{ProjectSettings, SmsSettings, SmtpSettings};
use crate::secret::Secret;

/// Everything `serve` needs, built once at start.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://…` (it may carry a password); `None` means
    /// `sqlite://<data>/latchkey.db`.
    pub database_url: Option<Secret>,
    /// `_APP_OPENSSL_KEY_V1`; when `None` a key is generated once and kept in the data folder.
    pub instance_key: Option<Secret>,
    /// `redis://…` of the shared rate-limit counters (several nodes); `None` keeps them in
    /// the process.
    pub redis_url: Option<Secret>,
    /// `LATCHKEY_METRICS_TOKEN`: the bearer token `GET /metrics` asks for; `None` leaves the
    /// route unserved (404) and records nothing.
    pub metrics_token: Option<Secret>,
    pub file: FileConfig,
    /// Whether a config file was given (it is then the only source of projects; otherwise
    /// the server runs project `default`).
    pub has_config_file: bool,
    /// Whether starting records the config's projects in the store (`serve`); the admin
    /// commands read the store without changing what it records.
    pub record_projects: bool,
    /// Whether a PostgreSQL pool opens all its connections at start and keeps them (`serve`);
    /// the admin commands and tests open them as needed.
    pub warm_pool: bool,
}

/// A `--listen` value as an address: `:PORT` means loopback.
pub fn listen_address(listen: &str) -> String {
    if listen.starts_with(':') {
        format!("127.0.0.1{listen}")
    } else {
        listen.to_owned()
    }
}

impl Config {
    /// A config with defaults for everything, for tests and embedding.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            listen: "127.0.0.1:0".into(),
            data_dir: data_dir.into(),
            database_url: None,
            instance_key: None,
            redis_url: None,
            metrics_token: None,
            file: FileConfig::default(),
            has_config_file: false,
            record_projects: true,
            warm_pool: false,
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

    /// The projects the server runs: the file's, or `default` without a config file.
    pub fn projects(&self) -> Vec<ProjectSettings> {
        if self.has_config_file {
            self.file.projects.clone()
        } else {
            vec![ProjectSettings::default_project()]
        }
    }
}

/// The TOML file (OPERATOR-CONTRACT.md "Config file"). Unknown keys are rejected.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileConfig {
    /// Peers whose `X-Forwarded-For` / `-Proto` are believed; default loopback.
    pub trusted_proxies: Option<Vec<String>>,
    pub public_url: Option<String>,
    #[serde(default)]
    pub passwords: HashParams,
    pub smtp: Option<SmtpSettings>,
    pub sms: Option<SmsSettings>,
    #[serde(default)]
    pub outbox: crate::delivery::OutboxSettings,
    /// Whether Appwrite's rate limits are enforced (default yes; `_APP_OPTIONS_ABUSE=disabled`
    /// turns them off too). Off only for tests.
    #[serde(default)]
    pub rate_limits: Option<bool>,
    /// SQLite's `synchronous` (`normal` by default, or `full`).
    pub sqlite_synchronous: Option<crate::store::Synchronous>,
    /// Per-account lockout after wrong passwords (off unless `attempts` is set).
    #[serde(default)]
    pub lockout: crate::abuse::lockout::Lockout,
    /// Seconds a client may take to send its request headers, and again its body (default 10).
    pub read_timeout: Option<u64>,
    /// How long, in ms, a node may serve a session, user or targets it read before reading
    /// them again (default 2000; 0 turns the cache off): the bound on how late a write by
    /// another process (the CLI, another node) is seen. This process's own writes are seen
    /// at once whatever it is.
    pub read_cache_ms: Option<u64>,
    /// Where the `passwordPwned` policy looks passwords up, and what it does when it cannot.
    #[serde(default)]
    pub breached_passwords: crate::breach::BreachSettings,
    #[serde(default)]
    pub projects: Vec<ProjectSettings>,
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

/// Fails unless `value` is within Appwrite's range for the key.
fn in_range(at: &str, key: &str, value: u64, min: u64, max: u64) -> anyhow::Result<()> {
    anyhow::ensure!(
        (min..=max).contains(&value),
        "{at}.{key}: expected a value between {min} and {max}, got {value}"
    );
    Ok(())
}

/// Appwrite's limit on list-like project settings (`APP_LIMIT_COUNT`).
const LIMIT_COUNT: u64 = 5000;

impl FileConfig {
    /// Checks what serde cannot: ids, scope names, platform types, dates, CIDRs and the
    /// ranges Appwrite 1.9.6 enforces on project settings (its `Policies` routes).
    pub fn validate(&self) -> anyhow::Result<()> {
        parse_trusted_proxies(self.trusted_proxies.as_deref())?;
        let p = self.passwords;
        crate::domain::hashing::PasswordHasher::check_params(p)?;
        in_range(
            "passwords",
            "memoryCost",
            p.memory_cost.into(),
            8,
            MAX_VERIFY_MEMORY_KIB.into(),
        )?;
        in_range("passwords", "timeCost", p.time_cost.into(), 1, 20)?;
        in_range("passwords", "parallelism", p.parallelism.into(), 1, 16)?;
        if let Some(u) = self.public_url.as_deref().filter(|u| !u.is_empty()) {
            url::Url::parse(u)
                .map_err(|e| anyhow::anyhow!("publicUrl: expected an absolute URL ({e})"))?;
        }
        delivery::check_smtp("smtp", self.smtp.as_ref())?;
        delivery::check_sms("sms", self.sms.as_ref())?;
        in_range(
            "outbox",
            "maxAttempts",
            self.outbox.max_attempts.into(),
            1,
            100,
        )?;
        in_range("lockout", "attempts", self.lockout.attempts, 0, 1000)?;
        in_range("lockout", "duration", self.lockout.duration, 1, 7 * 86_400)?;
        if let Some(t) = self.read_timeout {
            anyhow::ensure!(
                (1..=300).contains(&t),
                "readTimeout: expected seconds between 1 and 300, got {t}"
            );
        }
        let b = &self.breached_passwords;
        if !b.endpoint.is_empty() {
            let u = url::Url::parse(&b.endpoint).map_err(|e| {
                anyhow::anyhow!("breachedPasswords.endpoint: expected an absolute URL ({e})")
            })?;
            anyhow::ensure!(
                matches!(u.scheme(), "http" | "https"),
                "breachedPasswords.endpoint: expected an http or https URL, got {}",
                u.scheme()
            );
        }
        in_range("breachedPasswords", "timeoutMs", b.timeout_ms, 1, 60_000)?;
        in_range(
            "breachedPasswords",
            "cacheSeconds",
            b.cache_seconds,
            0,
            30 * 86_400,
        )?;
        if let Some(ms) = self.read_cache_ms {
            anyhow::ensure!(
                ms <= 60_000,
                "readCacheMs: expected milliseconds between 0 (off) and 60000, got {ms}"
            );
        }
        let mut ids = HashSet::new();
        for (i, p) in self.projects.iter().enumerate() {
            let at = format!("projects[{i}]");
            delivery::check_smtp(&format!("{at}.smtp"), p.smtp.as_ref())?;
            delivery::check_sms(&format!("{at}.sms"), p.sms.as_ref())?;
            crate::domain::validate::uid(&p.id)
                .map_err(|d| anyhow::anyhow!("{at}.id: expected a project id ({d})"))?;
            anyhow::ensure!(
                ids.insert(&p.id),
                "{at}.id: project `{}` is listed twice",
                p.id
            );
            anyhow::ensure!(!p.name.is_empty(), "{at}.name: expected a non-empty name");
            if let Some(u) = p.url.as_deref().filter(|u| !u.is_empty()) {
                url::Url::parse(u)
                    .map_err(|e| anyhow::anyhow!("{at}.url: expected an absolute URL ({e})"))?;
            }
            for (j, pl) in p.platforms.iter().enumerate() {
                anyhow::ensure!(
                    PLATFORM_TYPES.contains(&pl.kind.as_str()),
                    "{at}.platforms[{j}].type: expected one of {}, got `{}`",
                    PLATFORM_TYPES.join(", "),
                    pl.kind
                );
            }
            let auth = &p.auth;
            let at_auth = format!("{at}.auth");
            let rp = auth.passkey.rp_id.trim();
            if !rp.is_empty() {
                // Browsers compare the id as ASCII; a wildcard or a Unicode name never matches.
                anyhow::ensure!(
                    matches!(url::Host::parse(rp), Ok(url::Host::Domain(_)))
                        && rp
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
                    "{at_auth}.passkey.rpId: expected a domain such as `example.com` (no scheme, \
                     port or path), got `{rp}`"
                );
            }
            in_range(&at_auth, "duration", auth.duration, 5, 31_536_000)?;
            in_range(&at_auth, "maxSessions", auth.max_sessions, 0, LIMIT_COUNT)?;
            in_range(&at_auth, "limit", auth.limit, 0, LIMIT_COUNT)?;
            in_range(
                &at_auth,
                "passwordHistory",
                auth.password_history,
                0,
                LIMIT_COUNT,
            )?;
            in_range(
                &at_auth,
                "passwordStrength.min",
                auth.password_strength.min as u64,
                8,
                256,
            )?;
            anyhow::ensure!(
                auth.mock_numbers.len() <= 10,
                "{at_auth}.mockNumbers: expected at most 10 numbers"
            );
            let mut phones = HashSet::new();
            for (j, m) in auth.mock_numbers.iter().enumerate() {
                crate::domain::validate::phone(&m.phone)
                    .map_err(|d| anyhow::anyhow!("{at_auth}.mockNumbers[{j}].phone: {d}"))?;
                anyhow::ensure!(
                    phones.insert(&m.phone),
                    "{at_auth}.mockNumbers[{j}].phone: `{}` is listed twice",
                    m.phone
                );
                let otp = m.otp.expose();
                anyhow::ensure!(
                    otp.len() == 6 && otp.bytes().all(|b| b.is_ascii_digit()),
                    "{at_auth}.mockNumbers[{j}].otp: expected 6 digits"
                );
            }
            let mut secrets = HashSet::new();
            for (j, k) in p.keys.iter().enumerate() {
                anyhow::ensure!(
                    k.secret.expose().len() >= 16,
                    "{at}.keys[{j}].secret: expected at least 16 characters"
                );
                anyhow::ensure!(
                    secrets.insert(k.secret.expose()),
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
        }
        Ok(())
    }
}

/// The trusted proxy list as networks; loopback when not configured. IPv4-mapped IPv6 ranges
/// (`::ffff:10.0.0.0/104`) become IPv4 ones, as peers are compared in their IPv4 form.
pub fn parse_trusted_proxies(list: Option<&[String]>) -> anyhow::Result<Vec<IpNet>> {
    let default = ["127.0.0.0/8".to_string(), "::1".to_string()];
    list.unwrap_or(&default)
        .iter()
        .map(|s| {
            let net = s
                .parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    anyhow::anyhow!("trustedProxies: expected an address or CIDR, got `{s}`")
                })?;
            Ok(match net {
                IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
                    Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                        .map(IpNet::V4)
                        .unwrap_or(net),
                    None => net,
                },
                other => other,
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

    #[test]
    fn ipv4_mapped_proxy_ranges_are_read_as_ipv4() {
        let nets =
            parse_trusted_proxies(Some(&["::ffff:10.0.0.0/104".into(), "::1".into()])).unwrap();
        assert_eq!(nets[0], "10.0.0.0/8".parse::<IpNet>().unwrap());
        assert_eq!(nets[1], "::1/128".parse::<IpNet>().unwrap());
    }

    #[test]
    fn project_settings_outside_appwrites_ranges_are_rejected_at_load() {
        let with_auth = |auth: &str| {
            Config::parse_file(&format!(
                "[[projects]]\nid = \"a\"\nname = \"A\"\n[projects.auth]\n{auth}\n"
            ))
        };
        for (auth, key) in [
            ("duration = 0", "duration"),
            ("duration = 31536001", "duration"),
            ("duration = 18446744073709551615", "duration"),
            ("maxSessions = 5001", "maxSessions"),
            ("limit = 5001", "limit"),
            ("passwordHistory = 5001", "passwordHistory"),
            ("passwordStrength = { min = 7 }", "passwordStrength.min"),
            (
                "mockNumbers = [{ phone = \"123\", otp = \"123456\" }]",
                "mockNumbers[0].phone",
            ),
            (
                "mockNumbers = [{ phone = \"+16505550101\", otp = \"12345\" }]",
                "mockNumbers[0].otp",
            ),
            (
                "passkey = { rpId = \"https://example.com\" }",
                "passkey.rpId",
            ),
            ("passkey = { rpId = \"example.com:443\" }", "passkey.rpId"),
            ("passkey = { rpId = \"127.0.0.1\" }", "passkey.rpId"),
            ("passkey = { rpId = \"*.example.com\" }", "passkey.rpId"),
            ("passkey = { rpId = \"bücher.example\" }", "passkey.rpId"),
        ] {
            let e = with_auth(auth).unwrap_err().to_string();
            assert!(e.contains(key), "{auth}: {e}");
        }
        for auth in [
            "duration = 5",
            "duration = 31536000",
            "maxSessions = 0",
            "maxSessions = 5000",
            "passkey = { rpId = \"example.com\" }",
            "passwordPwned = { users = true }",
        ] {
            assert!(with_auth(auth).is_ok(), "{auth}");
        }
        let e = Config::parse_file("[passwords]\nmemoryCost = 4194304\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("memoryCost"), "{e}");
    }
}
