//! A project as the request pipeline sees it: settings plus parsed keys and password policy.

use crate::config::ProjectConfig;
use crate::domain::passwords::PasswordPolicy;

/// A server API key of a project.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: String,
    pub secret: String,
    pub scopes: Vec<String>,
    /// Expiry in epoch milliseconds; `None` never expires.
    pub expire: Option<i64>,
}

/// A tenant project, immutable while the server runs.
#[derive(Debug, Clone)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub settings: ProjectConfig,
    pub keys: Vec<ApiKey>,
    pub password_policy: PasswordPolicy,
}

impl Project {
    /// Builds the runtime form of stored project settings.
    pub fn new(settings: ProjectConfig) -> Self {
        let keys = settings
            .keys
            .iter()
            .map(|k| ApiKey {
                id: k.id.clone(),
                secret: k.secret.clone(),
                scopes: k.scopes.clone(),
                expire: k
                    .expire
                    .as_deref()
                    .filter(|e| !e.is_empty())
                    .and_then(crate::domain::time::parse_iso_ms),
            })
            .collect();
        let password_policy = PasswordPolicy {
            strength: settings.auth.password_strength.clone(),
            dictionary: settings.auth.password_dictionary,
        };
        Project {
            id: settings.id.clone(),
            name: settings.name.clone(),
            settings,
            keys,
            password_policy,
        }
    }

    /// The project `serve` creates on an empty store without a config file.
    pub fn default_settings() -> ProjectConfig {
        ProjectConfig {
            id: "default".into(),
            name: "Default".into(),
            url: None,
            platforms: vec![crate::config::PlatformConfig {
                kind: "web".into(),
                name: Some("localhost".into()),
                hostname: Some("localhost".into()),
                key: None,
            }],
            auth: Default::default(),
            keys: vec![],
            smtp: None,
            sms: None,
            oauth2: Default::default(),
        }
    }

    /// The key whose secret equals `secret`, compared in constant time.
    pub fn find_key(&self, secret: &str) -> Option<&ApiKey> {
        self.keys
            .iter()
            .find(|k| crate::domain::ids::secrets_equal(&k.secret, secret))
    }
}
