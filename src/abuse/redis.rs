//! The shared limiter for several nodes: counters in Redis (or Valkey), each hit one atomic
//! Lua script (read, increment if under the limit, set the expiry on the first hit), so
//! parallel requests on different nodes never overshoot.
//!
//! While Redis does not answer (a command gives up after [`REDIS_TIMEOUT`]), the node counts
//! in its own memory instead of refusing every limited route: a limit then holds per node, so
//! across N nodes up to N times the limit gets through until Redis is back. Counts made
//! meanwhile are not carried over in either direction; resets (a successful login) are applied
//! in Redis once it answers. During an outage Redis is tried again once per [`RETRY_AFTER`],
//! and each command is bounded as a whole, so requests do not each wait for a dead server.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::aio::ConnectionManager;

use super::{Limiter, MemoryLimiter};

const HIT: &str = r"
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count < tonumber(ARGV[1]) then
  redis.call('INCR', KEYS[1])
  if count == 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
  return {count, 1}
end
return {count, 0}
";

/// Gives back one hit (never below zero, never creating the key).
const RELEASE: &str = r"
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 0
";

/// How long one Redis command, or a connection to Redis, may take.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(500);
/// How long after a failed command Redis is left alone.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// Counters kept to clear in Redis once it answers again.
const MAX_PENDING_RESETS: usize = 10_000;

/// A client and a multiplexed connection to Redis at `url` (`redis://HOST:PORT/DB`;
/// `rediss://…` is refused: no TLS build), reconnecting by itself, each
/// command and connection attempt bounded by [`REDIS_TIMEOUT`] and a reconnection tried once
/// per command (the crate's default retries six times with backoff, which a request would
/// wait through).
pub async fn connect(url: &str) -> anyhow::Result<(redis::Client, ConnectionManager)> {
    // Only the scheme in errors: the URL may carry a password.
    let scheme = url.split(':').next().unwrap_or_default().to_owned();
    let client =
        redis::Client::open(url).map_err(|e| anyhow::anyhow!("--redis-url ({scheme}:…): {e}"))?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_number_of_retries(1)
        .set_connection_timeout(Some(REDIS_TIMEOUT))
        .set_response_timeout(Some(REDIS_TIMEOUT));
    let conn = ConnectionManager::new_with_config(client.clone(), config)
        .await
        .map_err(|e| anyhow::anyhow!("--redis-url ({scheme}:…): cannot connect: {e}"))?;
    Ok((client, conn))
}

/// `command` within [`REDIS_TIMEOUT`] in all: the client's own timeout covers sending and
/// answering, not the wait for a reconnection another command started.
async fn bounded<T>(command: impl Future<Output = redis::RedisResult<T>>) -> redis::RedisResult<T> {
    tokio::time::timeout(REDIS_TIMEOUT, command)
        .await
        .unwrap_or_else(|_| {
            Err(redis::RedisError::from(std::io::Error::from(
                std::io::ErrorKind::TimedOut,
            )))
        })
}

/// Counters in Redis; the connection reconnects by itself.
pub struct RedisLimiter {
    conn: ConnectionManager,
    hit: redis::Script,
    release: redis::Script,
    /// Where counting goes while Redis does not answer.
    local: MemoryLimiter,
    /// Whether the last command failed (one warning per outage).
    degraded: AtomicBool,
    started: Instant,
    /// While degraded, milliseconds after `started` before which Redis is not tried.
    retry_at_ms: AtomicU64,
    /// Counters a successful login cleared while Redis did not answer: cleared there too once
    /// it does, or the failures counted before the outage would outlive the login.
    pending_resets: Mutex<HashSet<String>>,
}

impl RedisLimiter {
    /// Counts on `conn` (from [`connect`]).
    pub fn new(conn: ConnectionManager) -> Self {
        RedisLimiter {
            conn,
            hit: redis::Script::new(HIT),
            release: redis::Script::new(RELEASE),
            local: MemoryLimiter::default(),
            degraded: AtomicBool::new(false),
            started: Instant::now(),
            retry_at_ms: AtomicU64::new(0),
            pending_resets: Mutex::new(HashSet::new()),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.pending_resets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Clears in Redis the counters reset during an outage, once it answers (bounded: past
    /// [`MAX_PENDING_RESETS`] further ones are forgotten).
    async fn clear_pending(&self) {
        let keys: Vec<String> = self.pending().drain().collect();
        if keys.is_empty() {
            return;
        }
        let mut conn = self.conn.clone();
        let result: redis::RedisResult<i64> =
            bounded(redis::cmd("DEL").arg(&keys).query_async(&mut conn)).await;
        if !self.answered(&result) {
            self.remember_resets(keys);
        }
    }

    fn remember_resets(&self, keys: Vec<String>) {
        let mut pending = self.pending();
        for key in keys {
            if pending.len() >= MAX_PENDING_RESETS {
                break;
            }
            pending.insert(key);
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether to send this command to Redis: yes unless it failed less than
    /// [`RETRY_AFTER`] ago.
    fn worth_trying(&self) -> bool {
        !self.degraded.load(Ordering::Relaxed)
            || self.elapsed_ms() >= self.retry_at_ms.load(Ordering::Relaxed)
    }

    /// Whether Redis answered `result`; says so once each time that changes.
    fn answered<T>(&self, result: &redis::RedisResult<T>) -> bool {
        match result {
            Ok(_) => {
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!("Redis answers again: rate limits are shared by the nodes");
                }
                true
            }
            Err(e) => {
                let retry = self
                    .elapsed_ms()
                    .saturating_add(RETRY_AFTER.as_millis() as u64);
                self.retry_at_ms.store(retry, Ordering::Relaxed);
                if !self.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "Redis does not answer: rate limits count in this node's memory until it does");
                }
                false
            }
        }
    }
}

#[async_trait]
impl Limiter for RedisLimiter {
    async fn hit(&self, key: &str, limit: u64, ttl_s: u64) -> anyhow::Result<(u64, bool)> {
        // Before counting: a command the frozen Redis received may have landed when it woke.
        if self.worth_trying() {
            self.clear_pending().await;
        }
        if self.worth_trying() {
            let mut conn = self.conn.clone();
            let result: redis::RedisResult<(u64, u8)> = bounded(
                self.hit
                    .key(key)
                    .arg(limit)
                    .arg(ttl_s.max(1))
                    .invoke_async(&mut conn),
            )
            .await;
            if self.answered(&result)
                && let Ok((before, counted)) = result
            {
                return Ok((before, counted == 1));
            }
        }
        self.local.hit(key, limit, ttl_s).await
    }

    async fn release(&self, key: &str) -> anyhow::Result<()> {
        if self.worth_trying() {
            let mut conn = self.conn.clone();
            let result: redis::RedisResult<i64> =
                bounded(self.release.key(key).invoke_async(&mut conn)).await;
            if self.answered(&result) {
                return Ok(());
            }
        }
        self.local.release(key).await
    }

    async fn count(&self, key: &str) -> anyhow::Result<u64> {
        if self.worth_trying() {
            let mut conn = self.conn.clone();
            let result: redis::RedisResult<Option<u64>> =
                bounded(redis::cmd("GET").arg(key).query_async(&mut conn)).await;
            if self.answered(&result)
                && let Ok(n) = result
            {
                return Ok(n.unwrap_or(0));
            }
        }
        self.local.count(key).await
    }

    async fn reset(&self, keys: &[String]) -> anyhow::Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        // Both: counts made locally during an outage must not outlive a successful login.
        self.local.reset(keys).await?;
        if self.worth_trying() {
            let mut conn = self.conn.clone();
            let result: redis::RedisResult<i64> =
                bounded(redis::cmd("DEL").arg(keys).query_async(&mut conn)).await;
            if self.answered(&result) {
                self.clear_pending().await;
                return Ok(());
            }
        }
        self.remember_resets(keys.to_vec());
        Ok(())
    }

    /// Redis itself, not the fallback: health checks report the outage.
    async fn ping(&self) -> anyhow::Result<&'static str> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok("redis")
    }
}
