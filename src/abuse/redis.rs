//! The shared limiter for several nodes: counters in Redis (or Valkey), each hit one atomic
//! Lua script (read, increment if under the limit, set the expiry on the first hit), so
//! parallel requests on different nodes never overshoot.

use async_trait::async_trait;
use redis::aio::ConnectionManager;

use super::Limiter;

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

/// Counters in Redis; the connection reconnects by itself.
pub struct RedisLimiter {
    conn: ConnectionManager,
    hit: redis::Script,
    release: redis::Script,
}

impl RedisLimiter {
    /// Connects to `url` (`redis://HOST:PORT/DB`, `rediss://…` is refused: no TLS build).
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        // Only the scheme in errors: the URL may carry a password.
        let scheme = url.split(':').next().unwrap_or_default().to_owned();
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("--redis-url ({scheme}:…): {e}"))?;
        let conn = ConnectionManager::new(client)
            .await
            .map_err(|e| anyhow::anyhow!("--redis-url ({scheme}:…): cannot connect: {e}"))?;
        Ok(RedisLimiter {
            conn,
            hit: redis::Script::new(HIT),
            release: redis::Script::new(RELEASE),
        })
    }
}

#[async_trait]
impl Limiter for RedisLimiter {
    async fn hit(&self, key: &str, limit: u64, ttl_s: u64) -> anyhow::Result<(u64, bool)> {
        let mut conn = self.conn.clone();
        let (before, counted): (u64, u8) = self
            .hit
            .key(key)
            .arg(limit)
            .arg(ttl_s.max(1))
            .invoke_async(&mut conn)
            .await?;
        Ok((before, counted == 1))
    }

    async fn release(&self, key: &str) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let _: i64 = self.release.key(key).invoke_async(&mut conn).await?;
        Ok(())
    }

    async fn count(&self, key: &str) -> anyhow::Result<u64> {
        let mut conn = self.conn.clone();
        let n: Option<u64> = redis::cmd("GET").arg(key).query_async(&mut conn).await?;
        Ok(n.unwrap_or(0))
    }

    async fn reset(&self, keys: &[String]) -> anyhow::Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        let _: i64 = redis::cmd("DEL").arg(keys).query_async(&mut conn).await?;
        Ok(())
    }

    async fn ping(&self) -> anyhow::Result<&'static str> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok("redis")
    }
}
