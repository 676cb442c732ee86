//! SMS over each provider's HTTP API, speaking its real request shape (as Appwrite's
//! utopia-php/messaging adapters do). `endpoint` replaces the provider's public base URL
//! (tests, regional hosts, proxies).

mod msg91;
mod telesign;
mod textmagic;
mod twilio;
mod vonage;

use std::time::Duration;

use crate::delivery::SendError;
use crate::domain::project::SmsSettings;
use crate::secret::Secret;

/// The providers we speak.
pub const PROVIDERS: &[&str] = &["twilio", "vonage", "textmagic", "telesign", "msg91"];

/// A configured SMS provider.
pub struct Sms {
    provider: String,
    from: String,
    user: String,
    secret: Secret,
    endpoint: Option<String>,
    template_id: String,
    client: reqwest::Client,
}

/// How an adapter reads its provider's answer.
type Check = fn(u16, &serde_json::Value) -> Result<(), Failure>;

/// A provider's refusal: its error text, and whether trying again can help (`None`: judge by
/// the HTTP status).
pub(crate) struct Failure {
    pub text: String,
    pub permanent: Option<bool>,
}

impl From<String> for Failure {
    fn from(text: String) -> Self {
        Failure {
            text,
            permanent: None,
        }
    }
}

/// What a provider adapter needs to build its request.
pub(crate) struct Request<'a> {
    pub base: &'a str,
    pub from: &'a str,
    pub user: &'a str,
    pub secret: &'a str,
    pub template_id: &'a str,
    pub to: &'a str,
    pub body: &'a str,
}

impl Sms {
    /// A provider from settings; unknown providers are refused at start.
    pub fn new(s: &SmsSettings) -> anyhow::Result<Self> {
        let provider = s
            .provider
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        anyhow::ensure!(
            PROVIDERS.contains(&provider.as_str()),
            "sms provider `{provider}`: expected one of {}",
            PROVIDERS.join(", ")
        );
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .user_agent("latchkey")
            .build()?;
        Ok(Sms {
            provider,
            from: s.from.clone().unwrap_or_default(),
            user: s.username.clone().unwrap_or_default(),
            secret: s.password.clone().unwrap_or_default(),
            endpoint: s
                .endpoint
                .as_deref()
                .filter(|e| !e.is_empty())
                .map(|e| e.trim_end_matches('/').to_owned()),
            template_id: s.template_id.clone().unwrap_or_default(),
            client,
        })
    }

    /// Sends `body` to the E.164 number `to`.
    pub async fn send(&self, to: &str, body: &str) -> Result<(), SendError> {
        let base = |public: &'static str| self.endpoint.as_deref().unwrap_or(public);
        let req = |public| Request {
            base: base(public),
            from: &self.from,
            user: &self.user,
            secret: self.secret.expose(),
            template_id: &self.template_id,
            to,
            body,
        };
        let (builder, check): (reqwest::RequestBuilder, Check) = match self.provider.as_str() {
            "twilio" => (
                twilio::request(&self.client, &req(twilio::BASE)),
                twilio::check,
            ),
            "vonage" => (
                vonage::request(&self.client, &req(vonage::BASE)),
                vonage::check,
            ),
            "textmagic" => (
                textmagic::request(&self.client, &req(textmagic::BASE)),
                textmagic::check,
            ),
            "telesign" => (
                telesign::request(&self.client, &req(telesign::BASE)),
                telesign::check,
            ),
            _ => (
                msg91::request(&self.client, &req(msg91::BASE)),
                msg91::check,
            ),
        };
        let response = builder
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("{}: {e}", self.provider)))?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let json: serde_json::Value =
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        check(status, &json).map_err(|f| {
            let e = format!("{} {status}: {}", self.provider, f.text);
            // A refused request (bad number, bad credentials) will be refused again; a
            // throttled or failing provider may recover.
            let permanent = f
                .permanent
                .unwrap_or((400..500).contains(&status) && status != 429 && status != 408);
            if permanent {
                SendError::Permanent(e)
            } else {
                SendError::Transient(e)
            }
        })
    }
}

/// The error text of a JSON body's `field`, or a fallback.
pub(crate) fn error_text(json: &serde_json::Value, pointer: &str) -> String {
    json.pointer(pointer)
        .and_then(|v| v.as_str())
        .unwrap_or("Unknown error")
        .to_owned()
}
