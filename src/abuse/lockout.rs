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
        let (start, end) = super::window(now_s, self.duration);
        let who = sha256_hex(&email.to_lowercase());
        (format!("{project}:lockout__{who}__{start}"), end)
    }

    /// Reserves one attempt for `email` before its password is checked, atomically, so
    /// parallel guesses cannot all pass a check made before any of them failed. `Err(ends)`
    /// when the account is locked (until `ends`, epoch seconds); `Ok(None)` when lockout is
    /// off; `Ok(Some(slot))` to hand to [`Lockout::succeeded`] if the password was right.
    pub async fn reserve(
        &self,
        limiter: &dyn Limiter,
        project: &str,
        email: &str,
        now_s: i64,
    ) -> anyhow::Result<Result<Option<String>, i64>> {
        if !self.enabled() {
            return Ok(Ok(None));
        }
        let (key, ends) = self.key(project, email, now_s);
        let (_, counted) = limiter.hit(&key, self.attempts, self.duration).await?;
        Ok(if counted { Ok(Some(key)) } else { Err(ends) })
    }

    /// A right password: the reserved attempt is given back (only wrong ones count).
    pub async fn succeeded(
        &self,
        limiter: &dyn Limiter,
        slot: Option<String>,
    ) -> anyhow::Result<()> {
        match slot {
            Some(key) => limiter.release(&key).await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abuse::memory::MemoryLimiter;

    #[tokio::test]
    async fn wrong_passwords_lock_right_ones_do_not_count_and_the_next_window_opens() {
        let limiter = MemoryLimiter::default();
        let l = Lockout {
            attempts: 3,
            duration: 900,
        };
        let t = 9_000;
        let right = l
            .reserve(&limiter, "p", "A@x.io", t)
            .await
            .unwrap()
            .unwrap();
        l.succeeded(&limiter, right).await.unwrap();
        for _ in 0..3 {
            // Wrong passwords keep their reserved slot.
            assert!(l.reserve(&limiter, "p", "A@x.io", t).await.unwrap().is_ok());
        }
        // Case does not matter, the project does.
        assert_eq!(
            l.reserve(&limiter, "p", "a@X.io", t + 10).await.unwrap(),
            Err(9_900)
        );
        assert!(l.reserve(&limiter, "q", "a@x.io", t).await.unwrap().is_ok());
        assert!(
            l.reserve(&limiter, "p", "a@x.io", 9_900)
                .await
                .unwrap()
                .is_ok()
        );
        let off = Lockout::default();
        assert_eq!(
            off.reserve(&limiter, "p", "b@x.io", t).await.unwrap(),
            Ok(None)
        );
    }
}
