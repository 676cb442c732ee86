//! Breached-password lookups against a Have-I-Been-Pwned-style range API, by k-anonymity: only
//! the first 5 hex digits of the password's SHA-1 leave the process, and the service answers
//! every hash suffix it knows under that prefix (`SUFFIX:COUNT` lines, padded with zero-count
//! decoys when asked to). Answers are kept per prefix for a while, so a burst of sign-ups
//! costs one request per prefix; nothing derived from a password beyond the prefix is kept.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::domain::passwords::BreachedPasswords;
use crate::domain::time::Clock;

/// `[breachedPasswords]` of the config file: where and how the `passwordPwned` policy looks
/// passwords up.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct BreachSettings {
    /// The range API's base: the 5-digit prefix is appended (`…/range/` + `ABCDE`). Empty
    /// (the default): nothing is looked up, so no password check reaches the network unless
    /// the operator asks for it; `https://api.pwnedpasswords.com/range/` is Have I Been Pwned.
    pub endpoint: String,
    /// Refuse the password when the service cannot be asked (default: accept it).
    pub fail_closed: bool,
    /// How long an answer for a prefix is reused, in seconds.
    pub cache_seconds: u64,
    /// How long one lookup may take, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for BreachSettings {
    fn default() -> Self {
        BreachSettings {
            endpoint: String::new(),
            fail_closed: false,
            cache_seconds: 86_400,
            timeout_ms: 2_000,
        }
    }
}

/// Prefixes kept at most (each answer holds about a thousand 35-digit suffixes).
const MAX_PREFIXES: usize = 1_024;
/// The longest answer read (a real one is about 30 KB, 40 KB padded).
const MAX_BODY_BYTES: usize = 1 << 20;

struct Entry {
    at: i64,
    /// The upper-case hex suffixes with a count above zero.
    suffixes: HashSet<String>,
}

/// The range-API client with its per-prefix cache.
pub struct RangeApi {
    settings: BreachSettings,
    http: reqwest::Client,
    cache: Mutex<HashMap<String, Entry>>,
}

impl RangeApi {
    pub fn new(settings: BreachSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms.max(1)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("latchkey/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(RangeApi {
            settings,
            http,
            cache: Mutex::new(HashMap::new()),
        })
    }

    fn cached(&self, prefix: &str, suffix: &str, now: i64) -> Option<bool> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let e = cache.get(prefix)?;
        let fresh = now >= e.at && now - e.at < (self.settings.cache_seconds as i64) * 1000;
        fresh.then(|| e.suffixes.contains(suffix))
    }

    async fn fetch(&self, prefix: &str) -> anyhow::Result<HashSet<String>> {
        let url = format!("{}{prefix}", self.settings.endpoint);
        // Errors leave the URL out: it holds the prefix, which is the password's.
        let mut r = self
            .http
            .get(&url)
            .header("add-padding", "true")
            .send()
            .await
            .map_err(reqwest::Error::without_url)?;
        anyhow::ensure!(r.status().is_success(), "answered {}", r.status());
        let mut body = Vec::new();
        while let Some(chunk) = r.chunk().await.map_err(reqwest::Error::without_url)? {
            anyhow::ensure!(
                body.len() + chunk.len() <= MAX_BODY_BYTES,
                "answer larger than {MAX_BODY_BYTES} bytes"
            );
            body.extend_from_slice(&chunk);
        }
        let text = std::str::from_utf8(&body)?;
        let mut suffixes = HashSet::new();
        for line in text.lines() {
            let Some((suffix, count)) = line.trim().split_once(':') else {
                continue;
            };
            // Padding lines carry a count of 0: decoys, not breaches.
            if count.trim().parse::<u64>().is_ok_and(|c| c > 0) {
                suffixes.insert(suffix.trim().to_ascii_uppercase());
            }
        }
        Ok(suffixes)
    }
}

#[async_trait]
impl BreachedPasswords for RangeApi {
    async fn is_breached(&self, password: &str, clock: &dyn Clock) -> Option<bool> {
        let digest = hex::encode_upper(Sha1::digest(password.as_bytes()));
        let (prefix, suffix) = digest.split_at(5);
        let now = clock.now_ms();
        if let Some(hit) = self.cached(prefix, suffix, now) {
            return Some(hit);
        }
        match self.fetch(prefix).await {
            Ok(suffixes) => {
                let hit = suffixes.contains(suffix);
                let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
                if cache.len() >= MAX_PREFIXES {
                    cache.clear();
                }
                cache.insert(prefix.to_owned(), Entry { at: now, suffixes });
                Some(hit)
            }
            Err(e) => {
                // The prefix is public by design; the error never holds the password.
                tracing::warn!(error = %e, "breached-password lookup failed");
                None
            }
        }
    }

    fn fail_closed(&self) -> bool {
        self.settings.fail_closed
    }

    fn configured(&self) -> bool {
        !self.settings.endpoint.is_empty()
    }
}
