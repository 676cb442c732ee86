//! The in-process limiter: one node's counters in a map, pruned as windows end.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::Limiter;

/// Counters of one process; correct for a single node only.
#[derive(Default)]
pub struct MemoryLimiter {
    counters: Mutex<HashMap<String, (u64, Instant)>>,
}

impl MemoryLimiter {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, (u64, Instant)>) -> T) -> T {
        let mut map = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if map.len() > 10_000 {
            map.retain(|_, (_, expires)| *expires > now);
        }
        f(&mut map)
    }
}

#[async_trait]
impl Limiter for MemoryLimiter {
    async fn hit(&self, key: &str, limit: u64, ttl_s: u64) -> anyhow::Result<(u64, bool)> {
        let now = Instant::now();
        Ok(self.with(|map| {
            let entry = map
                .entry(key.to_owned())
                .or_insert((0, now + Duration::from_secs(ttl_s)));
            if entry.1 <= now {
                *entry = (0, now + Duration::from_secs(ttl_s));
            }
            let before = entry.0;
            if before < limit {
                entry.0 += 1;
                (before, true)
            } else {
                (before, false)
            }
        }))
    }

    async fn release(&self, key: &str) -> anyhow::Result<()> {
        self.with(|map| {
            if let Some(entry) = map.get_mut(key) {
                entry.0 = entry.0.saturating_sub(1);
            }
        });
        Ok(())
    }

    async fn count(&self, key: &str) -> anyhow::Result<u64> {
        let now = Instant::now();
        Ok(self.with(|map| match map.get(key) {
            Some((n, expires)) if *expires > now => *n,
            _ => 0,
        }))
    }

    async fn reset(&self, keys: &[String]) -> anyhow::Result<()> {
        self.with(|map| {
            for k in keys {
                map.remove(k);
            }
        });
        Ok(())
    }

    async fn ping(&self) -> anyhow::Result<&'static str> {
        Ok("memory")
    }
}
