//! Appwrite's account rules, free of HTTP, SQL and config: each rule takes an [`Env`], makes
//! its reads, and writes through one unit of work of the store.

pub mod accounts;
pub mod alerts;
pub mod breached;
pub mod email_meta;
pub mod email_policy;
pub mod geo;
pub mod hashing;
pub mod identities;
pub mod ids;
pub mod jwt;
pub mod jwt_keys;
pub mod jwt_refresh;
pub mod locale;
pub mod logs;
pub mod messages;
pub mod mfa;
pub mod oauth2;
pub mod passkeys;
pub mod passwordless;
pub mod passwords;
pub mod project;
pub mod queries;
pub mod recovery;
pub mod sessions;
pub mod targets;
pub mod time;
pub mod tokens;
pub mod useragent;
pub mod users;
pub mod validate;

use std::sync::OnceLock;

use crate::domain::hashing::PasswordHasher;
use crate::domain::messages::Postbox;
use crate::domain::passwords::BreachedPasswords;
use crate::domain::project::Project;
use crate::domain::time::Clock;
use crate::error::Result;
use crate::store::{AuditRow, Store, Tx, UserAgentInfo, UserRow};

/// Who made the request, for the audit trail and new sessions. The user agent is parsed at
/// most once per request, when a record first needs it.
#[derive(Debug, Default)]
pub struct ClientInfo {
    pub ip: String,
    /// Already cut to [`useragent::MAX_USER_AGENT_BYTES`].
    pub user_agent: String,
    /// Appwrite's log `userType`: `user`, `guest` or `keyProject`.
    pub user_type: &'static str,
    /// The language of emails and country names (`X-Appwrite-Locale`), `en` by default.
    pub locale: String,
    parsed: OnceLock<UserAgentInfo>,
    country: OnceLock<String>,
}

impl ClientInfo {
    /// A client; `user_agent` is cut to the stored length here.
    pub fn new(ip: String, user_agent: &str, user_type: &'static str) -> Self {
        ClientInfo {
            ip,
            user_agent: useragent::truncate(user_agent).to_owned(),
            user_type,
            locale: "en".into(),
            parsed: OnceLock::new(),
            country: OnceLock::new(),
        }
    }

    /// Sets the locale of emails and country names.
    pub fn with_locale(mut self, locale: Option<&str>) -> Self {
        if let Some(l) = locale.filter(|l| !l.is_empty()) {
            self.locale = l.to_owned();
        }
        self
    }

    /// The parsed user agent (computed on first use).
    pub fn ua(&self) -> &UserAgentInfo {
        self.parsed.get_or_init(|| {
            useragent::parse(if self.user_agent.is_empty() {
                "UNKNOWN"
            } else {
                &self.user_agent
            })
        })
    }

    /// The lower-case country code of the client's address (computed on first use).
    pub fn country_code(&self) -> &str {
        self.country.get_or_init(|| geo::country_code(&self.ip))
    }
}

/// What every rule needs: the store, the hasher, the project, the client, the clock and the
/// outbox.
pub struct Env<'a> {
    pub store: &'a dyn Store,
    pub postbox: &'a dyn Postbox,
    /// Set when the unit of work queued a message, so [`Env::commit`] wakes the worker only
    /// then.
    pub queued: std::sync::atomic::AtomicBool,
    pub hasher: &'a PasswordHasher,
    /// Seals what must be read back later (MFA secrets, recovery codes, provider tokens).
    pub sealer: &'a crate::seal::Sealer,
    pub project: &'a Project,
    pub client: &'a ClientInfo,
    pub clock: &'a dyn Clock,
    /// Breached-password lookups (the project's `passwordPwned` policy).
    pub breaches: &'a dyn BreachedPasswords,
}

impl Env<'_> {
    /// Now, in epoch milliseconds.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The project id.
    pub fn pid(&self) -> &str {
        &self.project.id
    }

    /// Opens a unit of work. The client's user agent and country are worked out first, so
    /// that no regex or database lookup runs while the writer (or a row lock) is held.
    pub async fn begin(&self) -> Result<Box<dyn Tx>> {
        self.client.ua();
        self.client.country_code();
        Ok(self.store.begin().await?)
    }

    /// Records `event` for `user` in the unit of work and commits it: the audit record lands
    /// with the writes it describes, or neither does.
    pub async fn commit_audited(
        &self,
        mut tx: Box<dyn Tx>,
        user: &UserRow,
        event: &str,
        resource: String,
    ) -> Result<()> {
        tx.insert_audit(self.pid(), &self.audit(user, event, resource))
            .await?;
        self.commit(tx).await
    }

    /// Commits a unit of work, and wakes the delivery worker if it queued a message.
    pub async fn commit(&self, tx: Box<dyn Tx>) -> Result<()> {
        tx.commit().await?;
        if self
            .queued
            .swap(false, std::sync::atomic::Ordering::Relaxed)
        {
            self.postbox.notify();
        }
        Ok(())
    }

    /// An audit record of `event` acted out for `user`.
    pub fn audit(&self, user: &UserRow, event: &str, resource: String) -> AuditRow {
        AuditRow {
            user_id: user.id.clone(),
            event: event.into(),
            resource,
            user_email: user.email.clone().unwrap_or_default(),
            user_name: user.name.clone().unwrap_or_default(),
            mode: "default".into(),
            user_type: if self.client.user_type.is_empty() {
                "user".into()
            } else {
                self.client.user_type.into()
            },
            ip: self.client.ip.clone(),
            user_agent: self.client.user_agent.clone(),
            ua: self.client.ua().clone(),
            country_code: self.client.country_code().to_owned(),
            time: self.now(),
        }
    }
}
