//! Per-account lockout, beyond Appwrite (off by default): after `attempts` wrong passwords
//! for one email within a window of `duration` seconds, that email cannot sign in with a
//! password, not even the right one, until the window ends. Appwrite's own limit (10 per
//! hour per URL and email) is cleared by any success; this one is not, so a guessing script
//! cannot reset it by signing in to an account it owns. Counters live in the same limiter
//! (in the process, or shared through Redis) under a hash of the email.

use serde::{Deserialize, Serialize};

use super::Limiter;
use crate::secret::sha256_hex;

/// `[lockout]` of the config file.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Lockout {
    /// Wrong passwords that lock the account; 0 turns lockout off.
    #[serde(default)]
    pub attempts: u64,
    /// Length of the counting window in seconds (the lock ends with it).
    #[serde(default = "default_duration")]
    pub duration: u64,
}

fn default_duration() -> u64 {
    900
}

impl Default for Lockout {
    fn default() -> Self {
        Lockout {
            attempts: 0,
            duration: default_duration(),
        }
    }
}

impl Lockout {
    pub fn enabled(&self) -> bool {
        self.attempts > 0
    }

    fn key(&self, project: &str, email: &str, now_s: i64) -> (String, i64) {
        let period = i64::try_from(self.duration.max(1)).unwrap_or(i64::MAX);
        let start = now_s - now_s.rem_euclid(period);
        let who = sha256_hex(&email.to_lowercase());
        (
            format!("{project}:lockout__{who}__{start}"),
            start.saturating_add(period),
        )
    }

    /// When the lock on `email` ends (epoch seconds), if it is locked now.
    pub async fn locked_until(
        &self,
        limiter: &dyn Limiter,
        project: &str,
        email: &str,
        now_s: i64,
    ) -> anyhow::Result<Option<i64>> {
        if !self.enabled() {
            return Ok(None);
        }
        let (key, ends) = self.key(project, email, now_s);
        Ok((limiter.count(&key).await? >= self.attempts).then_some(ends))
    }

    /// Counts one wrong password for `email`.
    pub async fn failed(
        &self,
        limiter: &dyn Limiter,
        project: &str,
        email: &str,
        now_s: i64,
    ) -> anyhow::Result<()> {
        if self.enabled() {
            let (key, _) = self.key(project, email, now_s);
            limiter.hit(&key, u64::MAX, self.duration).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abuse::memory::MemoryLimiter;

    #[tokio::test]
    async fn the_lock_closes_after_n_failures_and_opens_with_the_next_window() {
        let limiter = MemoryLimiter::default();
        let l = Lockout {
            attempts: 3,
            duration: 900,
        };
        let t = 9_000;
        for _ in 0..3 {
            assert_eq!(
                l.locked_until(&limiter, "p", "A@x.io", t).await.unwrap(),
                None
            );
            l.failed(&limiter, "p", "A@x.io", t).await.unwrap();
        }
        // Case does not matter, the project does.
        assert_eq!(
            l.locked_until(&limiter, "p", "a@X.io", t + 10)
                .await
                .unwrap(),
            Some(9_900)
        );
        assert_eq!(
            l.locked_until(&limiter, "q", "a@x.io", t).await.unwrap(),
            None
        );
        assert_eq!(
            l.locked_until(&limiter, "p", "a@x.io", 9_900)
                .await
                .unwrap(),
            None
        );
        let off = Lockout::default();
        off.failed(&limiter, "p", "b@x.io", t).await.unwrap();
        assert_eq!(
            off.locked_until(&limiter, "p", "b@x.io", t).await.unwrap(),
            None
        );
    }
}
