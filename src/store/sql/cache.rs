//! A node-local cache of the three reads every signed-in request makes (its session by secret
//! hash, its user, the user's targets), so validating a session costs no database round trip.
//!
//! It can never serve what a write of this process has changed. Every write bumps a tick: a
//! write whose unit of work names the users it touched (sign-in, logout: [`Touched::Users`])
//! records the tick for those users, any other write for everyone. Each entry belongs to one
//! user and keeps the tick taken *before* its read; it is used only if no write for its user or
//! for everyone has a later tick (a read racing a commit carries the older tick, so it is never
//! used). So a storm of sign-ins of one user does not send every other user's next request to
//! the database, while logout, delete-all, password change, block, eviction, MFA changes and
//! user deletion still take effect on the next request. Writes by another process (the CLI,
//! another node) take effect within `ttl_ms`, after which an entry is read again; expiry is
//! checked by the caller on every request against the session row, so an expired session is
//! refused at once.
//!
//! Nodes sharing a database can also tell each other what they wrote ([`ReadCache::link_peers`],
//! carried by `crate::fanout` over Redis pub/sub): a peer's write then kills entries as this
//! node's own writes do, within the broadcast's delay instead of `ttl_ms`. While the broadcast
//! is not known to work both ways, the cache serves and keeps nothing, so no peer's write can
//! be missed; when it works again every entry read before is dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::domain::time::Clock;
use crate::store::{SessionRow, TargetRow, UserRow};

/// Entries per kind before the kind is emptied.
const CAPACITY: usize = 10_000;
/// Users whose prefs are larger are not kept (prefs may reach 64 KB): with this, an entry is
/// a few KB and a full cache a few tens of MB.
const MAX_PREFS_BYTES: usize = 4096;

/// The default bound on how stale a read may be after another process wrote (`readCacheMs`).
pub const DEFAULT_TTL_MS: u64 = 2_000;
/// Users one broadcast names before it becomes a write for everyone (keeps messages small).
const MAX_PEER_USERS: usize = 256;

struct Cached<T> {
    /// Shared, so a hit clones the row after the lock is released.
    value: Arc<T>,
    /// The user the row belongs to (the key holds the project).
    user: String,
    /// The tick taken before the read.
    tick: u64,
    at: i64,
}

/// The users a unit of work wrote for, as far as the cache is concerned.
#[derive(Debug, Default)]
pub enum Touched {
    /// No statement ran.
    #[default]
    Nothing,
    /// Rows of these users `(project, user)` only, besides rows the cache never holds (logs,
    /// the outbox); the list may be empty.
    Users(Vec<(String, String)>),
    /// Anything: the default of every statement not known to be about one user.
    Everything,
}

impl Touched {
    /// Adds a user, unless the unit is already about everyone.
    pub fn user(&mut self, project: &str, user: &str) {
        match self {
            Touched::Nothing => *self = Touched::Users(vec![(project.into(), user.into())]),
            Touched::Users(users) => {
                if !users.iter().any(|(p, u)| p == project && u == user) {
                    users.push((project.into(), user.into()));
                }
            }
            Touched::Everything => {}
        }
    }

    /// A statement that may touch rows of any user.
    pub fn everything(&mut self) {
        *self = Touched::Everything;
    }

    /// A statement that changes no row the cache holds (a read; logs, the outbox).
    pub fn cache_safe(&mut self) {
        if let Touched::Nothing = self {
            *self = Touched::Users(Vec::new());
        }
    }

    /// Whether a commit of this unit may have changed a row some cache holds.
    pub fn matters(&self) -> bool {
        match self {
            Touched::Nothing => false,
            Touched::Users(users) => !users.is_empty(),
            Touched::Everything => true,
        }
    }

    /// Adds what `other` touched; past [`MAX_PEER_USERS`] users, everything.
    pub fn merge(&mut self, other: &Touched) {
        match other {
            Touched::Nothing => {}
            Touched::Users(users) if users.is_empty() => self.cache_safe(),
            Touched::Users(users) => {
                for (project, user) in users {
                    self.user(project, user);
                }
                if matches!(self, Touched::Users(u) if u.len() > MAX_PEER_USERS) {
                    self.everything();
                }
            }
            Touched::Everything => self.everything(),
        }
    }
}

/// The link to the caches of other nodes on the same database: this node's writes waiting to
/// be broadcast, and whether the broadcast is known to work both ways now.
#[derive(Default)]
struct Peers {
    outgoing: Mutex<Touched>,
    ready: tokio::sync::Notify,
    linked: AtomicBool,
}

/// The write clock: the last tick handed out, the last write for everyone, the last write for
/// each user (by project). One lock, so a write's tick and its users' ticks change together.
#[derive(Default)]
struct Ticks {
    now: u64,
    everyone: u64,
    users: HashMap<String, HashMap<String, u64>>,
    /// Users in `users`, all projects together.
    count: usize,
}

impl Ticks {
    /// Whether a read for `user` that took `tick` before it still holds.
    fn holds(&self, project: &str, user: &str, tick: u64) -> bool {
        self.everyone <= tick
            && self
                .users
                .get(project)
                .and_then(|m| m.get(user))
                .is_none_or(|t| *t <= tick)
    }

    fn write(&mut self, touched: &Touched) {
        match touched {
            Touched::Nothing => {}
            Touched::Users(users) if users.is_empty() => {}
            Touched::Users(users) => {
                self.now += 1;
                for (project, user) in users {
                    let map = self.users.entry(project.clone()).or_default();
                    if map.insert(user.clone(), self.now).is_none() {
                        self.count += 1;
                    }
                }
                // Bounded: forgetting the users is a write for everyone at this tick.
                if self.count > CAPACITY {
                    self.users.clear();
                    self.count = 0;
                    self.everyone = self.now;
                }
            }
            Touched::Everything => {
                self.now += 1;
                self.everyone = self.now;
            }
        }
    }
}

type Map<T> = Mutex<HashMap<(String, String), Cached<T>>>;

/// See the module documentation. Shared by the store and its units of work.
pub struct ReadCache {
    ticks: Mutex<Ticks>,
    /// `ticks.now`, readable without the lock: an entry whose tick is the latest has seen no
    /// write since, which is every hit when nothing is being written (with the lock on every
    /// hit, W1 c=64 ran at 18,752 req/s; with this, 22,049, in the runs just before and after).
    latest: AtomicU64,
    /// `None`: caching off (`readCacheMs = 0`, the store tests' second process), every read
    /// goes to the database.
    clock: Option<Arc<dyn Clock>>,
    ttl_ms: i64,
    sessions: Map<SessionRow>,
    users: Map<UserRow>,
    targets: Map<Vec<TargetRow>>,
    /// Set once when other nodes share the database and a broadcast reaches them.
    peers: OnceLock<Peers>,
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
            ticks: Mutex::default(),
            latest: AtomicU64::new(0),
            clock: None,
            ttl_ms: 0,
            sessions: Mutex::default(),
            users: Mutex::default(),
            targets: Mutex::default(),
            peers: OnceLock::new(),
        }
    }

    fn ticks(&self) -> std::sync::MutexGuard<'_, Ticks> {
        // Nothing panics while holding it; if something did, the ticks are still only ever
        // moved forward, so they stay safe to use.
        self.ticks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Taken before a read whose result may be stored with a `put_*`.
    pub fn tick(&self) -> u64 {
        self.latest.load(Ordering::Acquire)
    }

    /// After a write that may have changed anything: every entry read before it is dead.
    pub fn wrote(&self) {
        self.wrote_for(&Touched::Everything);
    }

    /// After a write: the entries of the users it touched, read before it, are dead, here
    /// and (once broadcast) on the linked peers.
    pub fn wrote_for(&self, touched: &Touched) {
        self.apply(touched);
        if touched.matters() {
            self.broadcast_again(touched);
        }
    }

    /// A peer's write, as it broadcast it: kills entries as a write of this node would.
    pub fn peer_wrote(&self, touched: &Touched) {
        self.apply(touched);
    }

    fn apply(&self, touched: &Touched) {
        let mut ticks = self.ticks();
        ticks.write(touched);
        // Before the lock is released and before the commit returns: the next request sees it.
        self.latest.store(ticks.now, Ordering::Release);
    }

    /// From now on other nodes share the database: nothing is served or kept until
    /// [`ReadCache::set_linked`] says their writes reach this node. Once per cache; whether
    /// this call was the one that linked it.
    pub fn link_peers(&self) -> bool {
        self.peers.set(Peers::default()).is_ok()
    }

    /// Whether the broadcast works both ways now. Going up drops every entry read before, as
    /// peers' writes may have been missed while it was down.
    pub fn set_linked(&self, up: bool) {
        let Some(peers) = self.peers.get() else {
            return;
        };
        if up && !peers.linked.load(Ordering::Acquire) {
            self.apply(&Touched::Everything);
        }
        peers.linked.store(up, Ordering::Release);
    }

    /// Whether the link to other nodes is up; `None` without peers.
    pub fn peers_linked(&self) -> Option<bool> {
        self.peers.get().map(|p| p.linked.load(Ordering::Acquire))
    }

    /// Whether entries may be served and kept: always without peers, else while linked.
    pub fn serving(&self) -> bool {
        self.peers_linked().unwrap_or(true)
    }

    /// Queues `touched` for the peers (also a broadcast that could not be sent, to go out with
    /// the next one).
    pub fn broadcast_again(&self, touched: &Touched) {
        if let Some(peers) = self.peers.get() {
            peers
                .outgoing
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .merge(touched);
            peers.ready.notify_one();
        }
    }

    /// Waits until this node has written something its peers must hear of, and takes it
    /// (what several commits wrote meanwhile comes merged). `None` without peers.
    pub async fn next_broadcast(&self) -> Option<Touched> {
        let peers = self.peers.get()?;
        loop {
            let taken =
                std::mem::take(&mut *peers.outgoing.lock().unwrap_or_else(|e| e.into_inner()));
            if taken.matters() {
                return Some(taken);
            }
            peers.ready.notified().await;
        }
    }

    fn holds(&self, project: &str, user: &str, tick: u64) -> bool {
        tick >= self.latest.load(Ordering::Acquire) || self.ticks().holds(project, user, tick)
    }

    fn now(&self) -> Option<i64> {
        self.clock.as_ref().map(|c| c.now_ms())
    }

    fn fresh<T: Clone>(&self, map: &Map<T>, key: (String, String)) -> Option<T> {
        let now = self.now()?;
        if !self.serving() {
            return None;
        }
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
            (young && self.holds(&key.0, &e.user, e.tick)).then(|| e.value.clone())
        };
        hit.map(|row| T::clone(&row))
    }

    fn store<T>(&self, map: &Map<T>, key: (String, String), user: &str, value: T, tick: u64) {
        let Some(now) = self.now() else { return };
        // Already dead: not worth a slot (a write after this check is caught on use).
        if !self.serving() || !self.holds(&key.0, user, tick) {
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
                    user: user.to_owned(),
                    tick,
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

    pub fn put_session(&self, project: &str, secret_hash: &str, row: SessionRow, tick: u64) {
        let key = (project.into(), secret_hash.into());
        let user = row.user_id.clone();
        self.store(&self.sessions, key, &user, row, tick);
    }

    pub fn put_user(&self, project: &str, row: UserRow, tick: u64) {
        if row.prefs.len() > MAX_PREFS_BYTES {
            return;
        }
        let key = (project.into(), row.id.clone());
        let user = row.id.clone();
        self.store(&self.users, key, &user, row, tick);
    }

    pub fn put_targets(&self, project: &str, user: &str, rows: Vec<TargetRow>, tick: u64) {
        let key = (project.into(), user.into());
        self.store(&self.targets, key, user, rows, tick);
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
        let g = cache.tick();
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
        cache.put_user("p", user("u", "Ann"), cache.tick());
        cache.wrote();
        assert!(
            cache.user("p", "u").is_none(),
            "a write kills what was read before it"
        );
    }

    #[test]
    fn a_read_that_raced_a_write_is_never_stored() {
        let cache = ReadCache::new(Arc::new(ManualClock::starting_now()), 1000);
        // Tick taken, then a unit of work commits, then the (old) row arrives.
        let g = cache.tick();
        cache.wrote();
        cache.put_user("p", user("u", "Old"), g);
        assert!(cache.user("p", "u").is_none());
        assert_eq!(cache.len(Kind::User), 0);
        // The same race with a write for that very user.
        let g = cache.tick();
        cache.wrote_for(&touched(&[("p", "u")]));
        cache.put_user("p", user("u", "Old"), g);
        assert!(cache.user("p", "u").is_none());
    }

    fn touched(users: &[(&str, &str)]) -> Touched {
        let mut t = Touched::default();
        for (p, u) in users {
            t.user(p, u);
        }
        t
    }

    fn session(user: &str) -> SessionRow {
        SessionRow {
            user_id: user.into(),
            ..SessionRow::default()
        }
    }

    #[test]
    fn a_write_for_one_user_kills_only_that_users_reads() {
        let cache = ReadCache::new(Arc::new(ManualClock::starting_now()), 1000);
        let g = cache.tick();
        cache.put_user("p", user("ann", "Ann"), g);
        cache.put_user("p", user("bob", "Bob"), g);
        cache.put_user("q", user("ann", "Other Ann"), g);
        cache.put_session("p", "ann-secret", session("ann"), g);
        cache.put_session("p", "bob-secret", session("bob"), g);
        cache.put_targets("p", "ann", vec![], g);
        // Ann signs in (or out) in project p.
        cache.wrote_for(&touched(&[("p", "ann")]));
        assert!(cache.user("p", "ann").is_none());
        assert!(
            cache.session("p", "ann-secret").is_none(),
            "a session is its user's"
        );
        assert!(cache.targets("p", "ann").is_none());
        assert!(cache.user("p", "bob").is_some());
        assert!(cache.session("p", "bob-secret").is_some());
        assert!(cache.user("q", "ann").is_some(), "users are per project");
        // A unit that touched only uncached tables, or ran nothing, kills nothing.
        let mut logs = Touched::default();
        logs.cache_safe();
        cache.wrote_for(&logs);
        cache.wrote_for(&Touched::default());
        assert!(cache.user("p", "bob").is_some());
        // Reads of Ann after her write are good again.
        cache.put_user("p", user("ann", "Ann"), cache.tick());
        assert!(cache.user("p", "ann").is_some());
        // A unit that also ran a statement of unknown reach kills everyone's.
        let mut both = touched(&[("p", "ann")]);
        both.everything();
        both.user("p", "carl");
        cache.wrote_for(&both);
        assert!(cache.user("p", "bob").is_none());
        assert!(cache.user("q", "ann").is_none());
    }

    #[test]
    fn forgetting_many_written_users_kills_every_read() {
        let cache = ReadCache::new(Arc::new(ManualClock::starting_now()), 1000);
        cache.put_user("p", user("bob", "Bob"), cache.tick());
        for i in 0..CAPACITY {
            cache.wrote_for(&touched(&[("p", &format!("u{i}"))]));
        }
        assert!(
            cache.user("p", "bob").is_some(),
            "at the bound, still per user"
        );
        cache.wrote_for(&touched(&[("p", "one-more")]));
        assert!(
            cache.user("p", "bob").is_none(),
            "past the bound the users are forgotten, as a write for everyone"
        );
        cache.put_user("p", user("u1", "x"), cache.tick());
        assert!(cache.user("p", "u1").is_some());
    }

    #[test]
    fn with_peers_nothing_is_served_until_linked_and_a_relink_drops_older_reads() {
        let cache = ReadCache::new(Arc::new(ManualClock::starting_now()), 1000);
        cache.put_user("p", user("ann", "Ann"), cache.tick());
        assert!(cache.link_peers());
        assert!(!cache.link_peers(), "once");
        assert!(!cache.serving());
        assert!(cache.user("p", "ann").is_none(), "unlinked: not served");
        cache.put_user("p", user("bob", "Bob"), cache.tick());
        assert_eq!(cache.len(Kind::User), 1, "unlinked: not kept");
        cache.set_linked(true);
        assert!(
            cache.user("p", "ann").is_none(),
            "read before the link came up: a peer's write may have been missed"
        );
        cache.put_user("p", user("ann", "Ann"), cache.tick());
        assert!(cache.user("p", "ann").is_some());
        cache.set_linked(false);
        assert!(cache.user("p", "ann").is_none(), "link lost: not served");
        cache.set_linked(true);
        assert!(cache.user("p", "ann").is_none(), "and dropped on relink");
    }

    #[test]
    fn a_peers_write_kills_what_it_touched_and_own_writes_wait_merged_for_broadcast() {
        let cache = ReadCache::new(Arc::new(ManualClock::starting_now()), 1000);
        cache.link_peers();
        cache.set_linked(true);
        let g = cache.tick();
        cache.put_user("p", user("ann", "Ann"), g);
        cache.put_user("p", user("bob", "Bob"), g);
        cache.peer_wrote(&touched(&[("p", "ann")]));
        assert!(cache.user("p", "ann").is_none());
        assert!(cache.user("p", "bob").is_some());
        // A peer's write is not sent back out.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let waited = |c: &ReadCache| {
            rt.block_on(async {
                tokio::time::timeout(std::time::Duration::from_millis(20), c.next_broadcast())
                    .await
                    .ok()
                    .flatten()
            })
        };
        assert!(waited(&cache).is_none());
        // Two commits of this node before the broadcaster wakes go out as one message;
        // a commit that touched only uncached rows goes nowhere.
        cache.wrote_for(&touched(&[("p", "ann")]));
        let mut logs = Touched::default();
        logs.cache_safe();
        cache.wrote_for(&logs);
        cache.wrote_for(&touched(&[("p", "carl"), ("p", "ann")]));
        match waited(&cache) {
            Some(Touched::Users(u)) => {
                assert_eq!(u, [("p".into(), "ann".into()), ("p".into(), "carl".into())])
            }
            other => panic!("expected two users, got {other:?}"),
        }
        assert!(waited(&cache).is_none(), "taken");
        // Too many users for one message: everything.
        for i in 0..=MAX_PEER_USERS {
            cache.wrote_for(&touched(&[("p", &format!("u{i}"))]));
        }
        assert!(matches!(waited(&cache), Some(Touched::Everything)));
    }

    #[test]
    fn off_caches_nothing_and_a_full_kind_is_emptied() {
        let off = ReadCache::off();
        off.put_user("p", user("u", "Ann"), off.tick());
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
