//! Appwrite's abuse limits (spec §2.8): fixed windows per route and rendered key, counted in a
//! [`Limiter`] (in process for one node; a shared one for several).

pub mod lockout;
mod memory;
mod redis;

use async_trait::async_trait;

pub use memory::MemoryLimiter;
pub use redis::{RedisLimiter, connect as connect_redis};

/// A counter store for fixed windows.
#[async_trait]
pub trait Limiter: Send + Sync {
    /// Counts one request against `key` if it has fewer than `limit`, atomically; the count
    /// before, and whether this request was counted. `ttl_s` is how long the counter lives.
    async fn hit(&self, key: &str, limit: u64, ttl_s: u64) -> anyhow::Result<(u64, bool)>;
    /// Gives back one hit counted against `key` (a lockout slot reserved by a login that
    /// then succeeded).
    async fn release(&self, key: &str) -> anyhow::Result<()>;
    /// The current count of `key` (headers when limits are not enforced).
    async fn count(&self, key: &str) -> anyhow::Result<u64>;
    /// Sets the counters to zero (a successful login clears its failures).
    async fn reset(&self, keys: &[String]) -> anyhow::Result<()>;
    /// Checks the counter store answers (health checks); its name.
    async fn ping(&self) -> anyhow::Result<&'static str>;
}

/// What the limit headers say: the key with the least room left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub limit: u64,
    pub remaining: u64,
    /// End of the window, in epoch seconds.
    pub reset: i64,
    /// Whether a key was over its limit.
    pub exceeded: bool,
    /// The counter keys of this request (reset on success).
    pub counters: Vec<String>,
}

/// The fixed window of `period` seconds holding `now_s`: its start and its end.
pub fn window(now_s: i64, period: u64) -> (i64, i64) {
    let period = i64::try_from(period.max(1)).unwrap_or(i64::MAX);
    let start = now_s - now_s.rem_euclid(period);
    (start, start.saturating_add(period))
}

/// `abuse__<key>__<windowStart>`, as Appwrite names its counters, under the project's id
/// (Appwrite keeps each project's counters in that project's database).
pub fn counter_key(project: &str, rendered: &str, window_start: i64) -> String {
    format!("{project}:abuse__{rendered}__{window_start}")
}

/// Checks (and, when `enforce`, counts) a request whose keys rendered to `keys` against a
/// limit of `limit` per `period` seconds at `now_s`.
pub async fn check(
    limiter: &dyn Limiter,
    project: &str,
    keys: &[String],
    limit: u64,
    period: u64,
    now_s: i64,
    enforce: bool,
) -> anyhow::Result<Verdict> {
    let (window_start, window_end) = window(now_s, period);
    let mut verdict = Verdict {
        limit,
        remaining: limit,
        reset: window_end,
        exceeded: false,
        counters: vec![],
    };
    for key in keys {
        let counter = counter_key(project, key, window_start);
        let (before, counted) = if enforce {
            limiter.hit(&counter, limit, period).await?
        } else {
            (limiter.count(&counter).await?, true)
        };
        if !counted {
            verdict.exceeded = true;
        }
        verdict.remaining = verdict.remaining.min(limit.saturating_sub(before + 1));
        verdict.counters.push(counter);
    }
    Ok(verdict)
}

/// What a rendered key may read from the request.
pub struct KeyInputs<'a> {
    pub url: &'a str,
    pub ip: &'a str,
    pub user_id: &'a str,
    pub method: &'a str,
    pub project_id: &'a str,
    pub user_agent: &'a str,
    /// A request param's value as Appwrite renders it (arrays and objects JSON-encoded), or
    /// `None` when missing or empty (the placeholder then stays as written).
    pub param: &'a dyn Fn(&str) -> Option<String>,
}

/// Fills a key template's placeholders (`{url}`, `{ip}`, `{userId}`, `{method}`,
/// `{projectId}`, `{userAgent}`, `{param-<name>}`).
pub fn render(template: &str, i: &KeyInputs<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &rest[open + 1..open + close];
        let value = match name {
            "url" => Some(i.url.to_owned()),
            "ip" => Some(i.ip.to_owned()),
            "userId" => Some(i.user_id.to_owned()),
            "method" => Some(i.method.to_owned()),
            "projectId" => Some(i.project_id.to_owned()),
            "userAgent" => Some(i.user_agent.to_owned()),
            other => other.strip_prefix("param-").and_then(|p| (i.param)(p)),
        };
        match value {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[open..=open + close]),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs<'a>(param: &'a dyn Fn(&str) -> Option<String>) -> KeyInputs<'a> {
        KeyInputs {
            url: "localhost/v1/account/sessions/email",
            ip: "203.0.113.7",
            user_id: "",
            method: "POST",
            project_id: "p",
            user_agent: "ua",
            param,
        }
    }

    #[test]
    fn keys_render_placeholders_and_keep_empty_params_literal() {
        let param = |n: &str| (n == "email").then(|| "a@b.co".to_owned());
        let i = inputs(&param);
        assert_eq!(
            render("url:{url},email:{param-email}", &i),
            "url:localhost/v1/account/sessions/email,email:a@b.co"
        );
        assert_eq!(
            render("ip:{ip},userId:{userId}", &i),
            "ip:203.0.113.7,userId:"
        );
        assert_eq!(render("userId:{param-userId}", &i), "userId:{param-userId}");
        assert_eq!(render("m:{method} {projectId}", &i), "m:POST p");
    }

    #[tokio::test]
    async fn a_window_allows_its_limit_then_refuses_and_resets_on_success() {
        let l = MemoryLimiter::default();
        let keys = vec!["ip:1".to_owned()];
        for n in 0..3u64 {
            let v = check(&l, "p", &keys, 3, 3600, 7200 + 5, true)
                .await
                .unwrap();
            assert!(!v.exceeded);
            assert_eq!((v.remaining, v.reset), (2 - n, 10800));
        }
        let v = check(&l, "p", &keys, 3, 3600, 7300, true).await.unwrap();
        assert!(v.exceeded && v.remaining == 0);
        // The next window starts fresh.
        assert!(
            !check(&l, "p", &keys, 3, 3600, 10800, true)
                .await
                .unwrap()
                .exceeded
        );
        l.reset(&v.counters).await.unwrap();
        assert_eq!(
            check(&l, "p", &keys, 3, 3600, 7300, false)
                .await
                .unwrap()
                .remaining,
            2
        );
    }

    #[tokio::test]
    async fn several_keys_report_the_closest_and_any_one_blocks() {
        let l = MemoryLimiter::default();
        let a = vec!["email:x".to_owned()];
        check(&l, "p", &a, 2, 60, 0, true).await.unwrap();
        let both = vec!["email:x".to_owned(), "ip:1".to_owned()];
        let v = check(&l, "p", &both, 2, 60, 1, true).await.unwrap();
        assert_eq!((v.remaining, v.exceeded), (0, false));
        let v = check(&l, "p", &both, 2, 60, 2, true).await.unwrap();
        assert!(v.exceeded, "email:x is over while ip:1 is not");
        // Another project has its own counters.
        assert!(
            !check(&l, "q", &both, 2, 60, 3, true)
                .await
                .unwrap()
                .exceeded
        );
    }
}
