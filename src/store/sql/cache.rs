//! A node-local cache of the three reads every signed-in request makes (its session by secret
//! hash, its user, the user's targets), so validating a session costs no database round trip.
//!
//! It can never serve what a write of this process has changed: every committed unit of work
//! and every write outside one bumps one generation, an entry is used only if it was read in
//! the current generation, and the generation is taken *before* the read it guards (a read
//! racing a commit is stored under the old generation and never used). Logout, delete-all,
//! password change, block, eviction, MFA changes and user deletion all commit, so they take
//! effect on the next request. Writes by another process (the CLI, another node) take effect
//! within `ttl_ms`, after which an entry is read again; expiry is checked by the caller on
//! every request against the session row, so an expired session is refused at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::domain::time::Clock;
use crate::store::{SessionRow, TargetRow, UserRow};

/// Entries per kind before the kind is emptied.
const CAPACITY: usize = 10_000;
/// Users whose prefs are larger are not kept (prefs may reach 64 KB): with this, an entry is
/// a few KB and a full cache a few tens of MB.
const MAX_PREFS_BYTES: usize = 4096;

/// The default bound on how stale a read may be after another process wrote (`readCacheMs`).
pub const DEFAULT_TTL_MS: u64 = 2_000;

struct Cached<T> {
    /// Shared, so a hit clones the row after the lock is released.
    value: Arc<T>,
    generation: u64,
    at: i64,
}

type Map<T> = Mutex<HashMap<(String, String), Cached<T>>>;

/// See the module documentation. Shared by the store and its units of work.
pub struct ReadCache {
    generation: AtomicU64,
    /// `None`: caching off (`readCacheMs = 0`, the store tests' second process), every read
    /// goes to the database.
    clock: Option<Arc<dyn Clock>>,
    ttl_ms: i64,
    sessions: Map<SessionRow>,
    users: Map<UserRow>,
    targets: Map<Vec<TargetRow>>,
}

/// Which reads a [`ReadCache`] holds.
pub enum Kind {
    Session,
    User,
    Targets,
}

impl ReadCache {
    pub fn new(clock: Arc<dyn Clock>, ttl_ms: u64) -> Self {
        let on = ttl_ms > 0;
        ReadCache {
            clock: on.then_some(clock),
            ttl_ms: i64::try_from(ttl_ms).unwrap_or(i64::MAX),
            ..Self::off()
        }
    }

    pub fn off() -> Self {
        ReadCache {
            generation: AtomicU64::new(0),
            clock: None,
            ttl_ms: 0,
            sessions: Mutex::default(),
            users: Mutex::default(),
            targets: Mutex::default(),
        }
    }

    /// Taken before a read whose result may be stored with [`ReadCache::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// After any write: every entry read before it is dead.
    pub fn wrote(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn now(&self) -> Option<i64> {
        self.clock.as_ref().map(|c| c.now_ms())
    }

    fn fresh<T: Clone>(&self, map: &Map<T>, key: (String, String)) -> Option<T> {
        let now = self.now()?;
        let generation = self.generation();
        let hit = {
            let mut map = map.lock().ok()?;
            let e = map.get(&key)?;
            // An entry from the future (the clock was set back) is dropped, not kept until
            // the clock catches up with it.
            if now < e.at {
                map.remove(&key);
                return None;
            }
            let young = now - e.at < self.ttl_ms;
            (e.generation == generation && young).then(|| e.value.clone())
        };
        hit.map(|row| T::clone(&row))
    }

    fn store<T>(&self, map: &Map<T>, key: (String, String), value: T, generation: u64) {
        let Some(now) = self.now() else { return };
        if generation != self.generation() {
            return;
        }
        if let Ok(mut map) = map.lock() {
            if map.len() >= CAPACITY {
                map.clear();
            }
            map.insert(
                key,
                Cached {
                    value: Arc::new(value),
                    generation,
                    at: now,
                },
            );
        }
    }

    pub fn session(&self, project: &str, secret_hash: &str) -> Option<SessionRow> {
        self.fresh(&self.sessions, (project.into(), secret_hash.into()))
    }

    pub fn user(&self, project: &str, id: &str) -> Option<UserRow> {
        self.fresh(&self.users, (project.into(), id.into()))
    }

    pub fn targets(&self, project: &str, user: &str) -> Option<Vec<TargetRow>> {
        self.fresh(&self.targets, (project.into(), user.into()))
    }

    pub fn put_session(&self, project: &str, secret_hash: &str, row: SessionRow, generation: u64) {
        let key = (project.into(), secret_hash.into());
        self.store(&self.sessions, key, row, generation);
    }

    pub fn put_user(&self, project: &str, row: UserRow, generation: u64) {
        if row.prefs.len() > MAX_PREFS_BYTES {
            return;
        }
        let key = (project.into(), row.id.clone());
        self.store(&self.users, key, row, generation);
    }

    pub fn put_targets(&self, project: &str, user: &str, rows: Vec<TargetRow>, generation: u64) {
        self.store(
            &self.targets,
            (project.into(), user.into()),
            rows,
            generation,
        );
    }

    /// Entries held now, by kind (for tests and metrics).
    pub fn len(&self, kind: Kind) -> usize {
        match kind {
            Kind::Session => self.sessions.lock().map_or(0, |m| m.len()),
            Kind::User => self.users.lock().map_or(0, |m| m.len()),
            Kind::Targets => self.targets.lock().map_or(0, |m| m.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::ManualClock;

    fn user(id: &str, name: &str) -> UserRow {
        UserRow {
            id: id.into(),
            name: Some(name.into()),
            ..UserRow::default()
        }
    }

    #[test]
    fn a_read_is_served_until_a_write_or_the_bound_passes() {
        let clock = Arc::new(ManualClock::starting_now());
        let cache = ReadCache::new(clock.clone(), 1000);
        let g = cache.generation();
        cache.put_user("p", user("u", "Ann"), g);
        assert_eq!(
            cache.user("p", "u").map(|u| u.name),
            Some(Some("Ann".into()))
        );
        assert!(cache.user("q", "u").is_none(), "keys include the project");
        clock.advance(999);
        assert!(cache.user("p", "u").is_some());
        clock.advance(1);
        assert!(cache.user("p", "u").is_none(), "the bound passed");
        cache.put_user("p", user("u", "Ann"), cache.generation());
        cache.wrote();
        assert!(
            cache.user("p", "u").is_none(),
            "a write kills what was read before it"
        );
    }

    #[test]
    fn a_read_that_raced_a_write_is_never_stored() {
        let cache = ReadCache::new(Arc::new(ManualClock::starting_now()), 1000);
        // Generation taken, then a unit of work commits, then the (old) row arrives.
        let g = cache.generation();
        cache.wrote();
        cache.put_user("p", user("u", "Old"), g);
        assert!(cache.user("p", "u").is_none());
        assert_eq!(cache.len(Kind::User), 0);
    }

    #[test]
    fn off_caches_nothing_and_a_full_kind_is_emptied() {
        let off = ReadCache::off();
        off.put_user("p", user("u", "Ann"), off.generation());
        assert!(off.user("p", "u").is_none());
        let cache = ReadCache::new(Arc::new(ManualClock::starting_now()), 1000);
        for i in 0..CAPACITY {
            cache.put_user("p", user(&i.to_string(), "x"), 0);
        }
        assert_eq!(cache.len(Kind::User), CAPACITY);
        cache.put_user("p", user("one-more", "x"), 0);
        assert_eq!(
            cache.len(Kind::User),
            1,
            "bounded: emptied, then the new entry"
        );
    }
}
