//! Delivery of what the rules put in the outbox: a background worker leases due messages,
//! renders them, hands them to SMTP or an SMS provider and records the outcome. Promise: at
//! least once, never lost. A message is in the store before the request that asked for it is
//! answered; it leaves the outbox only once sent or given up on after
//! [`OutboxSettings::max_attempts`]. A crash between a provider accepting it and the worker
//! marking it sent resends it once, with the same `Message-ID`.

pub mod outbox;
pub mod sms;
pub mod smtp;
pub mod templates;

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::domain::project::{ProjectSettings, SmsSettings, SmtpSettings};
use sms::Sms;
use smtp::Smtp;
use templates::Templates;

/// Why a send failed: worth retrying, or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The server or provider may accept it later (network, 4xx SMTP, 5xx HTTP, throttling).
    Transient(String),
    /// It will never be accepted (bad address, refused credentials, 5xx SMTP).
    Permanent(String),
}

/// `[outbox]` of the config file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct OutboxSettings {
    /// Attempts before a message is given up on (the waits between them double from 1 s up
    /// to an hour).
    pub max_attempts: u32,
    /// Seconds sent and failed messages are kept (without their content) before they are
    /// deleted.
    pub retention: u64,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        OutboxSettings {
            max_attempts: 12,
            retention: 7 * 24 * 3600,
        }
    }
}

/// Whether SMTP settings name a server.
pub fn smtp_configured(s: &SmtpSettings) -> bool {
    s.host.as_deref().is_some_and(|h| !h.is_empty())
}

/// Whether SMS settings name a provider.
pub fn sms_configured(s: &SmsSettings) -> bool {
    s.provider.as_deref().is_some_and(|p| !p.is_empty())
}

/// The transports of every project (its own, or the instance's) and the templates.
pub struct Delivery {
    email: HashMap<String, Arc<Smtp>>,
    sms: HashMap<String, Arc<Sms>>,
    pub templates: Templates,
    pub settings: OutboxSettings,
}

impl Delivery {
    /// Builds transports from the instance settings and each project's; a project without its
    /// own uses the instance's.
    pub fn build(
        instance_smtp: Option<&SmtpSettings>,
        instance_sms: Option<&SmsSettings>,
        projects: &[ProjectSettings],
        settings: OutboxSettings,
    ) -> anyhow::Result<Self> {
        let fallback = instance_smtp.cloned().unwrap_or_default();
        let shared_smtp = match instance_smtp.filter(|s| smtp_configured(s)) {
            Some(s) => Some(Arc::new(Smtp::new(s, &fallback)?)),
            None => None,
        };
        let shared_sms = match instance_sms.filter(|s| sms_configured(s)) {
            Some(s) => Some(Arc::new(Sms::new(s)?)),
            None => None,
        };
        let mut email = HashMap::new();
        let mut sms = HashMap::new();
        for p in projects {
            let own_smtp = match p.smtp.as_ref().filter(|s| smtp_configured(s)) {
                Some(s) => Some(Arc::new(
                    Smtp::new(s, &fallback)
                        .map_err(|e| anyhow::anyhow!("project {}: {e}", p.id))?,
                )),
                None => shared_smtp.clone(),
            };
            if let Some(t) = own_smtp {
                email.insert(p.id.clone(), t);
            }
            let own_sms = match p.sms.as_ref().filter(|s| sms_configured(s)) {
                Some(s) => Some(Arc::new(
                    Sms::new(s).map_err(|e| anyhow::anyhow!("project {}: {e}", p.id))?,
                )),
                None => shared_sms.clone(),
            };
            if let Some(t) = own_sms {
                sms.insert(p.id.clone(), t);
            }
        }
        Ok(Delivery {
            email,
            sms,
            templates: Templates::load(projects)?,
            settings,
        })
    }

    /// The SMTP server of `project`.
    pub fn email_for(&self, project: &str) -> Option<&Smtp> {
        self.email.get(project).map(|t| &**t)
    }

    /// The SMS provider of `project`.
    pub fn sms_for(&self, project: &str) -> Option<&Sms> {
        self.sms.get(project).map(|t| &**t)
    }

    /// Whether `project` can send email.
    pub fn has_email(&self, project: &str) -> bool {
        self.email.contains_key(project)
    }

    /// Whether `project` can send SMS.
    pub fn has_sms(&self, project: &str) -> bool {
        self.sms.contains_key(project)
    }
}
