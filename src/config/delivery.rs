//! Appwrite's environment names (SMTP, SMS, `_APP_OPTIONS_ABUSE`), and the checks of the
//! `[smtp]` and `[sms]` tables (instance and per project).

use super::FileConfig;
use crate::domain::project::{SmsSettings, SmtpSettings};
use crate::secret::Secret;

pub(super) fn check_smtp(at: &str, s: Option<&SmtpSettings>) -> anyhow::Result<()> {
    let Some(s) = s else { return Ok(()) };
    let secure = s.secure.as_deref().unwrap_or_default();
    anyhow::ensure!(
        ["", "tls", "ssl"].contains(&secure),
        "{at}.secure: expected \"\", \"tls\" (STARTTLS) or \"ssl\" (implicit TLS), got `{secure}`"
    );
    Ok(())
}

pub(super) fn check_sms(at: &str, s: Option<&SmsSettings>) -> anyhow::Result<()> {
    let Some(provider) = s
        .and_then(|s| s.provider.as_deref())
        .filter(|p| !p.is_empty())
    else {
        return Ok(());
    };
    let providers = crate::delivery::sms::PROVIDERS;
    anyhow::ensure!(
        providers.contains(&provider),
        "{at}.provider: expected one of {}, got `{provider}`",
        providers.join(", ")
    );
    Ok(())
}

impl FileConfig {
    /// Fills the instance `[smtp]` and `[sms]` from Appwrite's environment names where the file
    /// sets none (OPERATOR-CONTRACT.md): `_APP_SMTP_*`, `_APP_SYSTEM_EMAIL_*`,
    /// `_APP_SMS_PROVIDER` (`sms://USER:SECRET@PROVIDER`) and `_APP_SMS_FROM`.
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        let get = |k: &str| env(k).filter(|v| !v.is_empty());
        if self.rate_limits.is_none() && get("_APP_OPTIONS_ABUSE").as_deref() == Some("disabled") {
            self.rate_limits = Some(false);
        }
        if self.smtp.is_none()
            && let Some(host) = get("_APP_SMTP_HOST")
        {
            let port =
                match get("_APP_SMTP_PORT") {
                    Some(p) => Some(p.parse().map_err(|_| {
                        anyhow::anyhow!("_APP_SMTP_PORT: expected a port, got `{p}`")
                    })?),
                    None => None,
                };
            self.smtp = Some(SmtpSettings {
                host: Some(host),
                port,
                secure: get("_APP_SMTP_SECURE"),
                username: get("_APP_SMTP_USERNAME"),
                password: get("_APP_SMTP_PASSWORD").map(Secret::new),
                ..SmtpSettings::default()
            });
        }
        if let Some(smtp) = &mut self.smtp {
            if smtp.sender.is_none() {
                smtp.sender = get("_APP_SYSTEM_EMAIL_ADDRESS");
            }
            if smtp.sender_name.is_none() {
                smtp.sender_name = get("_APP_SYSTEM_EMAIL_NAME").map(|n| {
                    percent_encoding::percent_decode_str(&n)
                        .decode_utf8_lossy()
                        .into_owned()
                });
            }
        }
        if self.sms.is_none()
            && let Some(dsn) = get("_APP_SMS_PROVIDER")
        {
            // Only the scheme and host in errors: the DSN carries the provider secret.
            let u = url::Url::parse(&dsn).map_err(|_| {
                anyhow::anyhow!("_APP_SMS_PROVIDER: expected sms://USER:SECRET@PROVIDER")
            })?;
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            let template_id = u
                .query_pairs()
                .find(|(k, _)| k == "templateId")
                .map(|(_, v)| v.into_owned());
            self.sms = Some(SmsSettings {
                provider: u.host_str().map(str::to_ascii_lowercase),
                from: get("_APP_SMS_FROM"),
                username: Some(decode(u.username())),
                password: u.password().map(|p| Secret::new(decode(p))),
                endpoint: None,
                template_id: template_id.or_else(|| get("_APP_SMS_FROM")),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn appwrite_environment_names_configure_smtp_and_sms_unless_the_file_does() {
        let env = |k: &str| {
            Some(
                match k {
                    "_APP_SMTP_HOST" => "smtp.example.com",
                    "_APP_SMTP_PORT" => "587",
                    "_APP_SMTP_SECURE" => "tls",
                    "_APP_SMTP_USERNAME" => "mailer",
                    "_APP_SMTP_PASSWORD" => "mail-pass",
                    "_APP_SYSTEM_EMAIL_ADDRESS" => "team@example.com",
                    "_APP_SYSTEM_EMAIL_NAME" => "Example%20Team",
                    "_APP_SMS_PROVIDER" => "sms://AC123:tok%2Fen@Twilio",
                    "_APP_SMS_FROM" => "+15550001111",
                    _ => return None,
                }
                .to_owned(),
            )
        };
        let mut f = FileConfig::default();
        f.apply_env(env).unwrap();
        let smtp = f.smtp.clone().unwrap();
        assert_eq!(
            (smtp.host.as_deref(), smtp.port, smtp.secure.as_deref()),
            (Some("smtp.example.com"), Some(587), Some("tls"))
        );
        assert_eq!(smtp.password.unwrap().expose(), "mail-pass");
        assert_eq!(smtp.sender_name.as_deref(), Some("Example Team"));
        let sms = f.sms.clone().unwrap();
        assert_eq!(
            (sms.provider.as_deref(), sms.username.as_deref()),
            (Some("twilio"), Some("AC123"))
        );
        assert_eq!(sms.password.unwrap().expose(), "tok/en");
        assert_eq!(sms.from.as_deref(), Some("+15550001111"));
        f.validate().unwrap();

        let mut from_file = Config::parse_file("[smtp]\nhost = \"file.example.com\"\n").unwrap();
        from_file.apply_env(env).unwrap();
        assert_eq!(
            from_file.smtp.unwrap().host.as_deref(),
            Some("file.example.com"),
            "the file wins"
        );
        let bad = Config::parse_file("[smtp]\nhost = \"h\"\nsecure = \"starttls\"\n").unwrap_err();
        assert!(bad.to_string().contains("smtp.secure"), "{bad}");
        let bad = Config::parse_file("[sms]\nprovider = \"nexmo\"\n").unwrap_err();
        assert!(bad.to_string().contains("sms.provider"), "{bad}");
    }
}
