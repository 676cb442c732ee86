//! Real delivery peers for the black-box tests: the Python `aiosmtpd` SMTP server
//! (`tests/support/smtp_sink.py`, parsing every message with Python's MIME parser) and
//! provider-shaped HTTP endpoints that record every SMS request.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use latchkey::Config;
use latchkey::domain::project::{SmsSettings, SmtpSettings};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

/// How long a test waits for a message to arrive before failing.
const ARRIVAL: Duration = Duration::from_secs(20);

fn python() -> String {
    std::env::var("LATCHKEY_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// A free loopback port (bound and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn not_started(said: &str) -> String {
    format!(
        "the SMTP sink did not start (said {said:?}): is aiosmtpd installed for `{}`? scripts/test.sh sets LATCHKEY_TEST_PYTHON",
        python()
    )
}

/// One received email, as Python's parser read it.
#[derive(Debug, Clone)]
pub struct Mail(pub Value);

impl Mail {
    pub fn field(&self, k: &str) -> &str {
        self.0[k].as_str().unwrap_or_default()
    }
    pub fn subject(&self) -> &str {
        self.field("subject")
    }
    pub fn text(&self) -> &str {
        self.field("text")
    }
    pub fn html(&self) -> &str {
        self.field("html")
    }
    /// The first http(s) link of the plain-text part.
    pub fn link(&self) -> String {
        let t = self.text();
        let start = t.find("http").expect("a link in the email");
        t[start..].split_whitespace().next().unwrap().to_owned()
    }
    /// The query parameter `name` of the link.
    pub fn link_param(&self, name: &str) -> String {
        let u = url::Url::parse(&self.link()).unwrap();
        u.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no {name} in {}", self.link()))
    }
    /// The six-digit code of the plain-text part.
    pub fn code(&self) -> String {
        let t = self.text();
        t.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .expect("a six-digit code in the email")
            .to_owned()
    }
}

/// A running `aiosmtpd` server writing what it receives to a folder.
pub struct MailSink {
    pub port: u16,
    dir: PathBuf,
    _tmp: Arc<tempfile::TempDir>,
    child: Option<tokio::process::Child>,
}

impl MailSink {
    /// Starts a sink on a free port. The port is found by binding and releasing it, so
    /// another test's listener can take it before Python binds it: on a refusal the sink
    /// tries again on a fresh port (CI once lost a run to exactly this race).
    pub async fn start() -> MailSink {
        let tmp = Arc::new(tempfile::tempdir().unwrap());
        let mut sink = MailSink {
            port: free_port(),
            dir: tmp.path().join("mail"),
            _tmp: tmp,
            child: None,
        };
        let mut last = String::new();
        for _ in 0..5 {
            match sink.try_resume(None).await {
                Ok(()) => return sink,
                Err(said) => last = said,
            }
            sink.port = free_port();
        }
        panic!("{}", not_started(&last));
    }

    /// Starts a sink that refuses every message with `code`.
    pub async fn refusing(code: u16) -> MailSink {
        let mut s = MailSink::start().await;
        s.stop().await;
        s.resume(Some(code)).await;
        s
    }

    /// (Re)starts the server on the same port and folder.
    pub async fn resume(&mut self, reject: Option<u16>) {
        // The port was ours a moment ago; a short retry covers the old process still
        // letting go of it.
        let mut last = String::new();
        for _ in 0..5 {
            match self.try_resume(reject).await {
                Ok(()) => return,
                Err(said) => last = said,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{}", not_started(&last));
    }

    /// One attempt to start the server; `Err` carries what it said instead of READY.
    async fn try_resume(&mut self, reject: Option<u16>) -> Result<(), String> {
        let mut cmd = tokio::process::Command::new(python());
        cmd.arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/smtp_sink.py"
        ))
        .arg(self.port.to_string())
        .arg(&self.dir);
        if let Some(code) = reject {
            cmd.arg("--reject").arg(code.to_string());
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect(
                "python3 with aiosmtpd (set LATCHKEY_TEST_PYTHON; scripts/test.sh installs it)",
            );
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(ARRIVAL, lines.next_line())
            .await
            .expect("smtp sink start")
            .unwrap()
            .unwrap_or_default();
        if !ready.starts_with("READY") {
            return Err(ready);
        }
        self.child = Some(child);
        Ok(())
    }

    /// Kills the server (an SMTP outage).
    pub async fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill().await;
        }
    }

    /// Every message received so far, in order.
    pub fn all(&self) -> Vec<Mail> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return vec![];
        };
        let mut names: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| Mail(serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()))
            .collect()
    }

    /// Messages to `to`.
    pub fn to(&self, to: &str) -> Vec<Mail> {
        self.all()
            .into_iter()
            .filter(|m| m.0["rcpt_tos"].as_array().unwrap().iter().any(|r| r == to))
            .collect()
    }

    /// Waits until `n` messages to `to` have arrived and returns them.
    pub async fn wait_for_n(&self, to: &str, n: usize) -> Vec<Mail> {
        let deadline = tokio::time::Instant::now() + ARRIVAL;
        loop {
            let got = self.to(to);
            if got.len() >= n {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{n} message(s) to {to} did not arrive; got {got:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits for the first message to `to`.
    pub async fn wait_for(&self, to: &str) -> Mail {
        self.wait_for_n(to, 1).await.remove(0)
    }

    /// Instance SMTP settings that point at this sink.
    pub fn settings(&self) -> SmtpSettings {
        SmtpSettings {
            host: Some("127.0.0.1".into()),
            port: Some(self.port),
            sender: Some("auth@latchkey.test".into()),
            sender_name: Some("Latchkey Tests".into()),
            ..SmtpSettings::default()
        }
    }

    /// A config change that sends the instance's mail here.
    pub fn configure(&self) -> impl FnOnce(&mut Config) + use<> {
        let s = self.settings();
        move |c: &mut Config| c.file.smtp = Some(s)
    }
}

/// One request an SMS endpoint received.
#[derive(Debug, Clone)]
pub struct Captured {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Captured {
    /// The form fields of the body.
    pub fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
    pub fn form_field(&self, k: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v)
    }
    pub fn header(&self, k: &str) -> &str {
        self.headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

#[derive(Clone)]
struct Provider {
    seen: Arc<Mutex<Vec<Captured>>>,
    answer: Arc<Mutex<(u16, String)>>,
}

/// A provider-shaped HTTP endpoint: records every request and answers with a set status and
/// JSON body.
pub struct SmsEndpoint {
    pub base: String,
    state: Provider,
}

async fn capture(
    State(p): State<Provider>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    p.seen.lock().unwrap().push(Captured {
        method: method.to_string(),
        path: uri.path().to_owned(),
        headers,
        body,
    });
    let (status, body) = p.answer.lock().unwrap().clone();
    (StatusCode::from_u16(status).unwrap(), body)
}

impl SmsEndpoint {
    pub async fn start(status: u16, body: Value) -> SmsEndpoint {
        let state = Provider {
            seen: Arc::default(),
            answer: Arc::new(Mutex::new((status, body.to_string()))),
        };
        let app = axum::Router::new()
            .fallback(capture)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        SmsEndpoint { base, state }
    }

    /// Changes what the endpoint answers from now on.
    pub fn answer(&self, status: u16, body: Value) {
        *self.state.answer.lock().unwrap() = (status, body.to_string());
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.state.seen.lock().unwrap().clone()
    }

    /// Waits for the `n`th request.
    pub async fn wait_for_n(&self, n: usize) -> Vec<Captured> {
        let deadline = tokio::time::Instant::now() + ARRIVAL;
        loop {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{n} SMS request(s) did not arrive"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Instance SMS settings for `provider` pointing here.
    pub fn settings(&self, provider: &str) -> SmsSettings {
        SmsSettings {
            provider: Some(provider.into()),
            from: Some("+15550001111".into()),
            username: Some("ACtestaccount".into()),
            password: Some(latchkey::secret::Secret::new("provider-secret")),
            endpoint: Some(self.base.clone()),
            template_id: Some("tmpl-42".into()),
        }
    }
}

/// Waits until the outbox has nothing pending: every accepted message was handed over.
pub async fn drained(app: &crate::harness::TestApp) {
    for _ in 0..800 {
        if app.state.store.count_messages().await.unwrap().pending == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the outbox did not drain");
}
