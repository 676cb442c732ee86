//! What a rule asks to be sent: an email or SMS written to the outbox in the rule's own unit of
//! work, sealed, and delivered later by the delivery worker. A rule decides *what* (template,
//! recipient, variables); rendering and transport are the delivery layer's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::Env;
use crate::domain::ids::unique_id;
use crate::error::{Error, ErrorType, Result};
use crate::secret::Secret;
use crate::store::{OutboxRow, Tx};

/// The message templates (Appwrite's template names, plus the 2.x OTP ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Template {
    Verification,
    VerificationOtp,
    MagicSession,
    OtpSession,
    Recovery,
    RecoveryOtp,
    SessionAlert,
    MfaChallenge,
    /// A text message carrying a code.
    Sms,
}

impl Template {
    /// The template's name, as in template folders and logs.
    pub fn name(self) -> &'static str {
        match self {
            Template::Verification => "verification",
            Template::VerificationOtp => "verificationOtp",
            Template::MagicSession => "magicSession",
            Template::OtpSession => "otpSession",
            Template::Recovery => "recovery",
            Template::RecoveryOtp => "recoveryOtp",
            Template::SessionAlert => "sessionAlert",
            Template::MfaChallenge => "mfaChallenge",
            Template::Sms => "sms",
        }
    }

    /// Every email template.
    pub const EMAILS: &'static [Template] = &[
        Template::Verification,
        Template::VerificationOtp,
        Template::MagicSession,
        Template::OtpSession,
        Template::Recovery,
        Template::RecoveryOtp,
        Template::SessionAlert,
        Template::MfaChallenge,
    ];
}

/// One message: recipient, template, locale and the template's variables (which hold the live
/// link or code, hence the sealing).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub template: Template,
    pub locale: String,
    /// An email address or an E.164 number.
    pub to: String,
    pub to_name: String,
    pub project_id: String,
    pub vars: BTreeMap<String, String>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("template", &self.template)
            .field("locale", &self.locale)
            .field("vars", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl Message {
    /// The channel it goes by.
    pub fn channel(&self) -> &'static str {
        match self.template {
            Template::Sms => "sms",
            _ => "email",
        }
    }
}

/// Where rules queue messages, implemented by the delivery layer: it seals a payload for the
/// store and is told when a unit of work that queued one has committed.
pub trait Postbox: Send + Sync {
    /// The sealed form of `plain`, bound to the outbox row `id`.
    fn seal(&self, id: &str, plain: &[u8]) -> String;
    /// Something was committed to the outbox.
    fn notify(&self);
}

impl Env<'_> {
    /// 503 `general_smtp_disabled` unless the project can send email.
    pub fn require_email(&self) -> Result<()> {
        if self.project.email_enabled {
            Ok(())
        } else {
            Err(Error::from(ErrorType::GeneralSmtpDisabled).with_message("SMTP disabled"))
        }
    }

    /// 503 `general_phone_disabled` unless the project can send SMS.
    pub fn require_sms(&self) -> Result<()> {
        if self.project.sms_enabled {
            Ok(())
        } else {
            Err(Error::from(ErrorType::GeneralPhoneDisabled)
                .with_message("Phone provider not configured"))
        }
    }

    /// Writes `message` about user `user_id` in the unit of work, due now; `expires_at` is when the token it
    /// carries stops working (the message is given up on then). [`Env::commit`] then wakes
    /// the delivery worker.
    pub async fn enqueue(
        &self,
        tx: &mut Box<dyn Tx>,
        user_id: &str,
        message: &Message,
        expires_at: Option<i64>,
    ) -> Result<()> {
        let id = unique_id();
        let plain = serde_json::to_vec(message).map_err(Error::internal)?;
        let now = self.now();
        let row = OutboxRow {
            payload: Some(Secret::new(self.postbox.seal(&id, &plain))),
            id,
            project_id: message.project_id.clone(),
            channel: message.channel().into(),
            kind: message.template.name().into(),
            created_at: now,
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: now,
            last_error: String::new(),
            done_at: None,
            expires_at,
            user_id: Some(user_id.to_owned()),
        };
        tx.enqueue_message(&row).await?;
        self.queued
            .store(true, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// A message of `template` to `to` in the client's locale, with the variables every
    /// template gets (`project`, `user`) and the client's agent where the template shows it.
    pub fn message(&self, template: Template, to: &str, to_name: &str) -> Message {
        let mut vars = BTreeMap::new();
        vars.insert("project".to_owned(), self.project.name.clone());
        vars.insert("user".to_owned(), to_name.to_owned());
        let ua = self.client.ua();
        let or_unknown = |s: &str| {
            if s.is_empty() {
                "UNKNOWN".to_owned()
            } else {
                s.to_owned()
            }
        };
        vars.insert("agentDevice".into(), or_unknown(&ua.device_brand));
        vars.insert("agentClient".into(), or_unknown(&ua.client_name));
        vars.insert("agentOs".into(), or_unknown(&ua.os_name));
        Message {
            template,
            locale: self.client.locale.clone(),
            to: to.to_owned(),
            to_name: to_name.to_owned(),
            project_id: self.project.id.clone(),
            vars,
        }
    }
}
