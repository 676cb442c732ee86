//! Email over SMTP with `lettre`: plain, STARTTLS (`secure = "tls"`) or implicit TLS
//! (`secure = "ssl"`), pooled connections, `multipart/alternative` text + HTML. The
//! `Message-ID` is the outbox row's, so a message sent twice after a crash is one message to
//! the recipient's mail client.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::delivery::SendError;
use crate::delivery::templates::Rendered;
use crate::domain::project::SmtpSettings;

/// Sender address and name when neither the project nor the instance names one.
pub const DEFAULT_SENDER: &str = "noreply@localhost";

/// One SMTP server and the sender it sends as.
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
}

impl Smtp {
    /// A pooled transport for `s`; `fallback` supplies the sender the settings leave out.
    pub fn new(s: &SmtpSettings, fallback: &SmtpSettings) -> anyhow::Result<Self> {
        let host = s.host.as_deref().unwrap_or_default();
        let builder = match s.secure.as_deref().unwrap_or_default() {
            "ssl" => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
            _ => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        };
        let mut builder = builder.timeout(Some(Duration::from_secs(10)));
        let loopback = matches!(host, "localhost" | "127.0.0.1" | "::1");
        if s.secure.as_deref().unwrap_or_default().is_empty()
            && s.username.as_deref().is_some_and(|u| !u.is_empty())
            && !loopback
        {
            tracing::warn!(
                host,
                "SMTP credentials go to this server unencrypted: set `secure = \"tls\"` or `\"ssl\"`"
            );
        }
        if let Some(port) = s.port {
            builder = builder.port(port);
        }
        if let (Some(user), Some(pass)) = (
            s.username.as_deref().filter(|u| !u.is_empty()),
            s.password.as_ref().filter(|p| !p.is_empty()),
        ) {
            builder =
                builder.credentials(Credentials::new(user.to_owned(), pass.expose().to_owned()));
        }
        let address = s
            .sender
            .as_deref()
            .or(fallback.sender.as_deref())
            .filter(|a| !a.is_empty())
            .unwrap_or(DEFAULT_SENDER);
        let name = s
            .sender_name
            .as_deref()
            .or(fallback.sender_name.as_deref())
            .filter(|n| !n.is_empty());
        let from = Mailbox::new(
            name.map(str::to_owned),
            address
                .parse()
                .map_err(|e| anyhow::anyhow!("smtp sender `{address}`: {e}"))?,
        );
        let reply_to = match s.reply_to.as_deref().filter(|r| !r.is_empty()) {
            Some(r) => Some(Mailbox::new(
                None,
                r.parse()
                    .map_err(|e| anyhow::anyhow!("smtp replyTo `{r}`: {e}"))?,
            )),
            None => None,
        };
        Ok(Smtp {
            transport: builder.build(),
            from,
            reply_to,
        })
    }

    /// Sends one rendered email.
    pub async fn send(
        &self,
        message_id: &str,
        to: &str,
        to_name: &str,
        r: &Rendered,
    ) -> Result<(), SendError> {
        let address = to
            .parse()
            .map_err(|e| SendError::Permanent(format!("recipient: {e}")))?;
        let name = (!to_name.is_empty()).then(|| to_name.to_owned());
        let mut b = lettre::Message::builder()
            .message_id(Some(format!("<{message_id}@latchkey>")))
            .from(self.from.clone())
            .to(Mailbox::new(name, address))
            .subject(r.subject.clone());
        if let Some(reply) = &self.reply_to {
            b = b.reply_to(reply.clone());
        }
        let email = b
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(r.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(r.html.clone()),
                    ),
            )
            .map_err(|e| SendError::Permanent(format!("message: {e}")))?;
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(format!("smtp: {e}"))),
            Err(e) => Err(SendError::Transient(format!("smtp: {e}"))),
        }
    }
}
