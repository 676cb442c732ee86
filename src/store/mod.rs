//! Persistence behind narrow traits: reads on [`Store`], writes only through a unit of work
//! ([`Store::begin`] → typed [`Tx`] methods → [`Tx::commit`]), so the rows of one request land
//! together or not at all. Both backends run the same SQL through sqlx's `Any` driver
//! (`sql/`); `sqlite.rs` and `postgres.rs` hold what differs: connecting, pools, locks and the
//! migration files. This layer depends on nothing but [`crate::error`] and [`crate::secret`].

mod backup;
mod postgres;
mod query;
mod rows;
pub mod sql;
mod sqlite;
pub use backup::{BackupFacts, backup as backup_sqlite, check_backup};
#[cfg(test)]
mod suite;

use std::sync::Arc;

use async_trait::async_trait;

use crate::secret::Secret;

pub use query::{Cursor, DEFAULT_LIMIT, Filter, FilterOp, FilterValue, ListQuery, Page};
pub use rows::{
    AuditRow, AuthenticatorRow, ChallengeRow, IdentityRow, JwtKeyRow, KeyRow, OutboxCounts,
    OutboxRow, PasskeyChallengeRow, PasskeyRow, ProjectRow, RefreshTokenRow, SessionRow, TargetRow,
    TokenRow, UserAgentInfo, UserRow,
};

/// A failure of the database itself; `Conflict` is a unique index saying no.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint violated: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A list's cursor names no row the list may see.
    #[error("the cursor row does not exist")]
    CursorNotFound,
}

impl StoreError {
    /// The Appwrite error a unique-index conflict means at this call site; other failures
    /// stay server errors.
    pub fn conflict_as(self, ty: crate::error::ErrorType) -> crate::error::Error {
        match self {
            StoreError::Conflict(_) => ty.into(),
            other => other.into(),
        }
    }
}

impl From<StoreError> for crate::error::Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::CursorNotFound => crate::error::ErrorType::GeneralCursorNotFound.into(),
            other => crate::error::Error::internal(other),
        }
    }
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// Everything the server reads, plus the door to writing: [`Store::begin`].
pub trait Store:
    Transactional
    + ProjectStore
    + UserStore
    + SessionStore
    + TargetStore
    + IdentityStore
    + LogStore
    + TokenStore
    + OutboxStore
    + MfaStore
    + JwtStore
    + PasskeyStore
{
}

impl<T> Store for T where
    T: Transactional
        + ProjectStore
        + UserStore
        + SessionStore
        + TargetStore
        + IdentityStore
        + LogStore
        + TokenStore
        + OutboxStore
        + MfaStore
        + JwtStore
        + PasskeyStore
{
}

/// Opens units of work.
#[async_trait]
pub trait Transactional: Send + Sync {
    /// Starts a unit of work on the writer. Dropping it without [`Tx::commit`] rolls it back.
    async fn begin(&self) -> StoreResult<Box<dyn Tx>>;
    /// Checks that the database answers a read (health checks); the engine's name.
    async fn ping(&self) -> StoreResult<&'static str>;
    /// Each connection pool's name, open connections and idle ones (metrics).
    fn pools(&self) -> Vec<(&'static str, u32, usize)>;
}

/// Projects (a record of the configured ones; the config file is the source of truth).
#[async_trait]
pub trait ProjectStore: Send + Sync {
    async fn list_projects(&self) -> StoreResult<Vec<ProjectRow>>;
    /// Creates or replaces the record of a configured project.
    async fn upsert_project(&self, project: &ProjectRow, now: i64) -> StoreResult<()>;
    /// The project's stored API keys (not the config file's), oldest first.
    async fn list_keys(&self, project: &str) -> StoreResult<Vec<KeyRow>>;
    async fn find_key_by_secret_hash(&self, secret_hash: &str) -> StoreResult<Option<KeyRow>>;
    /// One statement, so no unit of work; `Conflict` on a taken id.
    async fn insert_key(&self, key: &KeyRow) -> StoreResult<()>;
    /// Whether the key existed.
    async fn delete_key(&self, project: &str, id: &str) -> StoreResult<bool>;
}

/// Reads of users, and the one write that needs no unit of work.
#[async_trait]
pub trait UserStore: Send + Sync {
    async fn count_users(&self, project: &str) -> StoreResult<i64>;
    async fn find_user(&self, project: &str, id: &str) -> StoreResult<Option<UserRow>>;
    async fn find_user_by_email(&self, project: &str, email: &str) -> StoreResult<Option<UserRow>>;
    async fn find_user_by_phone(&self, project: &str, phone: &str) -> StoreResult<Option<UserRow>>;
    /// Users matching the query, and how many match in all.
    async fn list_users(&self, project: &str, query: &ListQuery) -> StoreResult<Page<UserRow>>;
    /// Records the last access time (at most daily, decided by the caller).
    async fn touch_user(&self, project: &str, id: &str, accessed_at: i64) -> StoreResult<()>;
}

/// Reads of sessions; only hashes of their secrets are stored.
#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn find_session_by_secret_hash(
        &self,
        project: &str,
        secret_hash: &str,
    ) -> StoreResult<Option<SessionRow>>;
    async fn find_session(
        &self,
        project: &str,
        user: &str,
        id: &str,
    ) -> StoreResult<Option<SessionRow>>;
    /// Sessions of a user, oldest first, at most `limit` of them, and how many there are.
    async fn list_sessions(
        &self,
        project: &str,
        user: &str,
        limit: i64,
    ) -> StoreResult<Page<SessionRow>>;
}

/// Reads of messaging targets.
#[async_trait]
pub trait TargetStore: Send + Sync {
    async fn target_identifier_taken(&self, project: &str, identifier: &str) -> StoreResult<bool>;
    /// Targets of a user, oldest first.
    async fn list_targets(&self, project: &str, user: &str) -> StoreResult<Vec<TargetRow>>;
    /// Targets of a user matching the query, and how many match in all.
    async fn list_targets_page(
        &self,
        project: &str,
        user: &str,
        query: &ListQuery,
    ) -> StoreResult<Page<TargetRow>>;
    async fn find_target(&self, project: &str, id: &str) -> StoreResult<Option<TargetRow>>;
}

/// Reads of OAuth2 identities.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Whether an identity of another user (than `except_user`) has this provider email.
    async fn identity_email_taken(
        &self,
        project: &str,
        email: &str,
        except_user: Option<&str>,
    ) -> StoreResult<bool>;
    /// Identities of a user (or of every user) matching the query, and how many match in all.
    async fn list_identities(
        &self,
        project: &str,
        user: Option<&str>,
        query: &ListQuery,
    ) -> StoreResult<Page<IdentityRow>>;
    async fn find_identity(&self, project: &str, id: &str) -> StoreResult<Option<IdentityRow>>;
    async fn find_identity_by_provider(
        &self,
        project: &str,
        provider: &str,
        uid: &str,
    ) -> StoreResult<Option<IdentityRow>>;
    /// The user's identity at `provider`.
    async fn find_user_identity(
        &self,
        project: &str,
        user: &str,
        provider: &str,
    ) -> StoreResult<Option<IdentityRow>>;
}

/// Reads of security audit records.
#[async_trait]
pub trait LogStore: Send + Sync {
    /// A user's audit records, newest first, and their count.
    async fn list_logs(
        &self,
        project: &str,
        user: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<AuditRow>>;
}

/// Reads of tokens.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Deletes tokens that expired before `before`; how many went.
    async fn prune_tokens(&self, before: i64) -> StoreResult<u64>;
    /// The user's tokens whose secret has this hash (any type, expired ones too).
    async fn find_tokens_by_secret_hash(
        &self,
        project: &str,
        user: &str,
        secret_hash: &str,
    ) -> StoreResult<Vec<TokenRow>>;
}

/// Reads of MFA authenticators, challenges and recovery codes.
#[async_trait]
pub trait MfaStore: Send + Sync {
    /// The user's authenticator of `kind` (`totp`), verified or not.
    async fn find_authenticator(
        &self,
        project: &str,
        user: &str,
        kind: &str,
    ) -> StoreResult<Option<AuthenticatorRow>>;
    async fn find_challenge(&self, project: &str, id: &str) -> StoreResult<Option<ChallengeRow>>;
    /// The user's sealed recovery codes, if any were generated.
    async fn find_recovery_codes(&self, project: &str, user: &str) -> StoreResult<Option<Secret>>;
    /// Deletes challenges that expired before `before`; how many went.
    async fn prune_challenges(&self, before: i64) -> StoreResult<u64>;
}

/// The outbox as the delivery worker sees it: each call is one statement, so no unit of work.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Pending messages due at `now`, oldest first, at most `limit`.
    async fn due_messages(&self, now: i64, limit: i64) -> StoreResult<Vec<OutboxRow>>;
    /// Claims up to `limit` messages due at `now`, oldest first, in one statement: leases each
    /// until `until` and counts the attempt, and returns them as claimed (`attempts` includes
    /// this one, `next_attempt_at` is `until`, which then identifies the lease: the outcome
    /// is recorded only while it holds). Nodes claiming at once get disjoint messages: on
    /// PostgreSQL the rows are taken `FOR UPDATE SKIP LOCKED`, so a node passes over what
    /// another is claiming instead of waiting for it; SQLite has one writer.
    async fn claim_messages(&self, now: i64, until: i64, limit: i64)
    -> StoreResult<Vec<OutboxRow>>;
    /// Marks a leased message delivered and drops its payload.
    /// Each `mark_*` answers whether the lease still held (else another node has the message).
    async fn mark_sent(&self, id: &str, lease: i64, now: i64) -> StoreResult<bool>;
    /// Records why a leased attempt failed and when to try again.
    async fn mark_retry(&self, id: &str, lease: i64, next: i64, error: &str) -> StoreResult<bool>;
    /// Gives up on a leased message and drops its payload.
    async fn mark_failed(&self, id: &str, lease: i64, now: i64, error: &str) -> StoreResult<bool>;
    /// Deletes sent and failed messages finished before `before`; how many went.
    async fn prune_messages(&self, before: i64) -> StoreResult<u64>;
    async fn count_messages(&self) -> StoreResult<OutboxCounts>;
    /// One message by id (tests and tools).
    async fn find_message(&self, id: &str) -> StoreResult<Option<OutboxRow>>;
}

/// JWT signing keys and refresh tokens.
#[async_trait]
pub trait JwtStore: Send + Sync {
    /// The project's signing keys, newest first (retired ones too).
    async fn list_jwt_keys(&self, project: &str) -> StoreResult<Vec<JwtKeyRow>>;
    /// Deletes refresh tokens that expired before `before`; how many went.
    async fn prune_refresh_tokens(&self, before: i64) -> StoreResult<u64>;
    /// Deletes signing keys retired before `before` (they verify nothing any more).
    async fn prune_jwt_keys(&self, before: i64) -> StoreResult<u64>;
    /// A refresh token by its secret's hash, without a lock.
    async fn find_refresh_token(
        &self,
        project: &str,
        secret_hash: &str,
    ) -> StoreResult<Option<RefreshTokenRow>>;
}

/// Passkeys and their ceremonies.
#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// A user's verified passkeys matching the query (pending ones are never listed).
    async fn list_passkeys(
        &self,
        project: &str,
        user: &str,
        query: &ListQuery,
    ) -> StoreResult<Page<PasskeyRow>>;
    /// A passkey by id, pending or not, whoever's it is.
    async fn find_passkey(&self, project: &str, id: &str) -> StoreResult<Option<PasskeyRow>>;
    /// A verified passkey by its credential id.
    async fn find_passkey_by_credential(
        &self,
        project: &str,
        credential_id: &str,
    ) -> StoreResult<Option<PasskeyRow>>;
    /// How many passkeys the user has: verified ones and those pending since `pending_since`.
    async fn count_passkeys(
        &self,
        project: &str,
        user: &str,
        pending_since: i64,
    ) -> StoreResult<i64>;
    /// Deletes ceremonies that expired before `before`, and passkeys still pending then.
    async fn prune_passkey_challenges(&self, before: i64) -> StoreResult<u64>;
}

/// A unit of work: typed writes (and the reads its decisions need) on one transaction.
/// SQLite runs it as `BEGIN IMMEDIATE` on the single writer; PostgreSQL as a transaction in
/// which [`UserTx::lock_user`] and [`UserTx::lock_project`] take row locks.
#[async_trait]
pub trait Tx:
    UserTx
    + SessionTx
    + TargetTx
    + IdentityTx
    + AuditTx
    + TokenTx
    + OutboxTx
    + MfaTx
    + JwtTx
    + PasskeyTx
    + Send
{
    /// Makes every write of the unit durable at once.
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}

/// User writes.
#[async_trait]
pub trait UserTx: Send {
    /// Serialises the units of work of a project that must see each other's users (sign-ups
    /// against the user limit) until this one ends.
    async fn lock_project(&mut self, project: &str) -> StoreResult<()>;
    async fn count_users(&mut self, project: &str) -> StoreResult<i64>;
    /// Reads the user and locks its row until the unit ends, so that a decision made on its
    /// password or status cannot be overtaken by a concurrent change.
    async fn lock_user(&mut self, project: &str, id: &str) -> StoreResult<Option<UserRow>>;
    /// Reads inside the unit of work (an in-memory SQLite reads on the writer, so a rule
    /// must not read through the store while it holds one).
    async fn find_user_by_email(
        &mut self,
        project: &str,
        email: &str,
    ) -> StoreResult<Option<UserRow>>;
    async fn find_user_by_phone(
        &mut self,
        project: &str,
        phone: &str,
    ) -> StoreResult<Option<UserRow>>;
    /// `Conflict` on a taken id, email or phone.
    async fn insert_user(&mut self, project: &str, user: &UserRow) -> StoreResult<()>;
    /// Many users in few statements (`latchkey users seed`); `Conflict` as above.
    async fn insert_users(&mut self, project: &str, users: &[UserRow]) -> StoreResult<()>;
    /// Overwrites every column of the user; `Conflict` on a taken email or phone.
    async fn update_user(&mut self, project: &str, user: &UserRow) -> StoreResult<()>;
    /// Deletes the user with its sessions, targets, identities, tokens, MFA records and queued
    /// messages (its audit trail stays); whether the user existed.
    async fn delete_user(&mut self, project: &str, id: &str) -> StoreResult<bool>;
}

/// Session writes.
#[async_trait]
pub trait SessionTx: Send {
    /// How many sessions the user has, as this unit of work sees them.
    async fn count_sessions(&mut self, project: &str, user: &str) -> StoreResult<i64>;
    async fn insert_session(&mut self, project: &str, session: &SessionRow) -> StoreResult<()>;
    /// Many sessions in few statements (`latchkey users seed`).
    async fn insert_sessions(&mut self, project: &str, sessions: &[SessionRow]) -> StoreResult<()>;
    /// Deletes the user's oldest sessions so that at most `keep` remain (0 = no limit).
    async fn evict_sessions(&mut self, project: &str, user: &str, keep: u64) -> StoreResult<()>;
    /// Sets a session's expiry; whether it existed.
    async fn update_session_expire(
        &mut self,
        project: &str,
        user: &str,
        id: &str,
        expire: i64,
        now: i64,
    ) -> StoreResult<bool>;
    /// Sets a session's provider tokens and expiry from `session` (a refresh); whether it
    /// existed.
    async fn update_session_provider_tokens(
        &mut self,
        project: &str,
        session: &SessionRow,
        now: i64,
    ) -> StoreResult<bool>;
    /// Reads one session of the user and locks it until the unit ends.
    async fn lock_session(
        &mut self,
        project: &str,
        user: &str,
        id: &str,
    ) -> StoreResult<Option<SessionRow>>;
    /// Sets a session's MFA factors (a JSON array) and when a challenge last completed on it;
    /// whether it existed.
    async fn update_session_factors(
        &mut self,
        project: &str,
        user: &str,
        id: &str,
        factors: &str,
        mfa_updated_at: Option<i64>,
        now: i64,
    ) -> StoreResult<bool>;
    /// Deletes one session of the user; whether it existed.
    async fn delete_session(&mut self, project: &str, user: &str, id: &str) -> StoreResult<bool>;
    /// Deletes every session of the user but `except`; how many went.
    async fn delete_sessions(
        &mut self,
        project: &str,
        user: &str,
        except: Option<&str>,
    ) -> StoreResult<u64>;
}

/// Target writes.
#[async_trait]
pub trait TargetTx: Send {
    async fn target_identifier_taken(
        &mut self,
        project: &str,
        identifier: &str,
    ) -> StoreResult<bool>;
    /// `Conflict` on a taken id or identifier.
    async fn insert_target(&mut self, project: &str, target: &TargetRow) -> StoreResult<()>;
    /// Many targets in few statements (`latchkey users seed`).
    async fn insert_targets(&mut self, project: &str, targets: &[TargetRow]) -> StoreResult<()>;
    /// Updates identifier, name, provider and expiry of a target; `Conflict` on a taken
    /// identifier.
    async fn update_target(&mut self, project: &str, target: &TargetRow) -> StoreResult<()>;
    /// Points the user's target with identifier `old` at `new`.
    async fn rename_target(
        &mut self,
        project: &str,
        user: &str,
        old: &str,
        new: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// Moves the user's push targets of session `old_session` to `new_session` (an OAuth2
    /// sign-in replaced it); how many moved.
    async fn repoint_push_targets(
        &mut self,
        project: &str,
        user: &str,
        old_session: &str,
        new_session: &str,
        now: i64,
    ) -> StoreResult<u64>;
    /// Deletes a target; whether it existed.
    async fn delete_target(&mut self, project: &str, id: &str) -> StoreResult<bool>;
    /// Deletes the user's target of `provider_type` with this identifier (an address the user
    /// no longer has); whether there was one.
    async fn delete_user_target(
        &mut self,
        project: &str,
        user: &str,
        identifier: &str,
        provider_type: &str,
    ) -> StoreResult<bool>;
}

/// Identity writes.
#[async_trait]
pub trait IdentityTx: Send {
    /// [`IdentityStore::identity_email_taken`] inside the unit of work.
    async fn identity_email_taken(
        &mut self,
        project: &str,
        email: &str,
        except_user: Option<&str>,
    ) -> StoreResult<bool>;
    /// `Conflict` on a taken id or provider uid.
    async fn insert_identity(&mut self, project: &str, identity: &IdentityRow) -> StoreResult<()>;
    /// Overwrites every column of the identity; `Conflict` on a taken provider uid.
    async fn update_identity(&mut self, project: &str, identity: &IdentityRow) -> StoreResult<()>;
    /// Deletes an identity; whether it existed.
    async fn delete_identity(&mut self, project: &str, id: &str) -> StoreResult<bool>;
}

/// Token writes.
#[async_trait]
pub trait TokenTx: Send {
    async fn insert_token(&mut self, project: &str, token: &TokenRow) -> StoreResult<()>;
    /// Deletes a token; whether it existed (a token consumed twice at once is consumed once).
    async fn delete_token(&mut self, project: &str, id: &str) -> StoreResult<bool>;
    /// [`TokenStore::find_tokens_by_secret_hash`] inside the unit of work.
    async fn find_tokens_by_secret_hash(
        &mut self,
        project: &str,
        user: &str,
        secret_hash: &str,
    ) -> StoreResult<Vec<TokenRow>>;
    /// Deletes the user's tokens of these types (their address changed); how many went.
    async fn delete_user_tokens(
        &mut self,
        project: &str,
        user: &str,
        kinds: &[i64],
    ) -> StoreResult<u64>;
    /// Counts a guess against the user's tokens of these types and deletes those that have
    /// had more than `max`, so a short code cannot be guessed at leisure. Counted before the
    /// guess is checked (and rolled back with the unit when it was right), so guesses sent in
    /// parallel queue on the counted rows and cannot overtake the limit.
    async fn record_failed_attempt(
        &mut self,
        project: &str,
        user: &str,
        kinds: &[i64],
        max: i64,
    ) -> StoreResult<()>;
}

/// MFA writes. The `lock_*` reads lock what they find until the unit ends, so two requests
/// cannot both spend one code.
#[async_trait]
pub trait MfaTx: Send {
    async fn lock_authenticator(
        &mut self,
        project: &str,
        user: &str,
        kind: &str,
    ) -> StoreResult<Option<AuthenticatorRow>>;
    /// `Conflict` when the user already has one of this kind.
    async fn insert_authenticator(
        &mut self,
        project: &str,
        a: &AuthenticatorRow,
    ) -> StoreResult<()>;
    /// Stores `verified`, `last_step` and `updated_at`.
    async fn update_authenticator(
        &mut self,
        project: &str,
        a: &AuthenticatorRow,
    ) -> StoreResult<()>;
    /// Deletes the user's authenticator of `kind`; whether there was one.
    async fn delete_authenticator(
        &mut self,
        project: &str,
        user: &str,
        kind: &str,
    ) -> StoreResult<bool>;
    async fn insert_challenge(&mut self, project: &str, c: &ChallengeRow) -> StoreResult<()>;
    async fn lock_challenge(
        &mut self,
        project: &str,
        id: &str,
    ) -> StoreResult<Option<ChallengeRow>>;
    /// Counts a wrong answer.
    async fn bump_challenge_attempts(&mut self, project: &str, id: &str) -> StoreResult<()>;
    /// Deletes a challenge; whether it existed.
    async fn delete_challenge(&mut self, project: &str, id: &str) -> StoreResult<bool>;
    async fn lock_recovery_codes(
        &mut self,
        project: &str,
        user: &str,
    ) -> StoreResult<Option<Secret>>;
    /// Stores the user's sealed recovery codes (replacing any).
    async fn put_recovery_codes(
        &mut self,
        project: &str,
        user: &str,
        codes: &Secret,
        now: i64,
    ) -> StoreResult<()>;
}

/// Passkey writes.
#[async_trait]
pub trait PasskeyTx: Send {
    /// Adds a pending passkey, or restarts the user's own pending one of the same id;
    /// `Conflict` when the id is taken otherwise.
    async fn put_pending_passkey(&mut self, project: &str, passkey: &PasskeyRow)
    -> StoreResult<()>;
    /// Saves a passkey's name, credential, counter and use; `Conflict` on a credential id
    /// another passkey holds.
    async fn update_passkey(&mut self, project: &str, passkey: &PasskeyRow) -> StoreResult<()>;
    /// Renames the user's passkey; whether it existed.
    async fn rename_passkey(
        &mut self,
        project: &str,
        user: &str,
        id: &str,
        name: &str,
        now: i64,
    ) -> StoreResult<bool>;
    /// Stores a sign-in's new credential state (counter) and time, if the credential is still
    /// `seen` (no other sign-in or deletion came first); whether it was.
    async fn record_passkey_use(
        &mut self,
        project: &str,
        id: &str,
        seen: &str,
        credential: &str,
        now: i64,
    ) -> StoreResult<bool>;
    /// Whether it existed.
    async fn delete_passkey(&mut self, project: &str, user: &str, id: &str) -> StoreResult<bool>;
    async fn insert_passkey_challenge(
        &mut self,
        project: &str,
        challenge: &PasskeyChallengeRow,
    ) -> StoreResult<()>;
    /// Reads a ceremony and deletes it: a challenge answers one attempt.
    async fn take_passkey_challenge(
        &mut self,
        project: &str,
        id: &str,
    ) -> StoreResult<Option<PasskeyChallengeRow>>;
}

/// JWT signing keys and refresh tokens.
#[async_trait]
pub trait JwtTx: Send {
    /// Adds a key; `Conflict` when the project already has a signing key (another node made
    /// one first).
    async fn insert_jwt_key(&mut self, project: &str, key: &JwtKeyRow) -> StoreResult<()>;
    /// Retires the project's signing key, if any; whether there was one.
    async fn retire_jwt_key(&mut self, project: &str, now: i64) -> StoreResult<bool>;
    async fn insert_refresh_token(
        &mut self,
        project: &str,
        token: &RefreshTokenRow,
    ) -> StoreResult<()>;
    /// Reads a refresh token by its secret's hash and locks it until the unit ends.
    async fn lock_refresh_token(
        &mut self,
        project: &str,
        secret_hash: &str,
    ) -> StoreResult<Option<RefreshTokenRow>>;
    /// Marks a token exchanged; false when it already was.
    async fn spend_refresh_token(&mut self, project: &str, id: &str, now: i64)
    -> StoreResult<bool>;
    /// Deletes every token of a family; how many went.
    async fn delete_refresh_family(&mut self, project: &str, family: &str) -> StoreResult<u64>;
    /// Deletes the family's spent tokens but `keep`.
    async fn trim_refresh_family(
        &mut self,
        project: &str,
        family: &str,
        keep: &str,
    ) -> StoreResult<u64>;
    /// Deletes the session's refresh-token families but its `keep` newest.
    async fn trim_refresh_families(
        &mut self,
        project: &str,
        session: &str,
        keep: i64,
    ) -> StoreResult<u64>;
}

/// Outbox writes inside a unit of work: a message lands with the token it carries.
#[async_trait]
pub trait OutboxTx: Send {
    async fn enqueue_message(&mut self, message: &OutboxRow) -> StoreResult<()>;
}

/// Audit writes.
#[async_trait]
pub trait AuditTx: Send {
    async fn insert_audit(&mut self, project: &str, audit: &AuditRow) -> StoreResult<()>;
}

pub use sql::ParseUserAgent;

/// When SQLite's commits reach the disk (`sqliteSynchronous`). In WAL mode `normal` survives
/// a process crash but may lose the last commits on power loss; `full` syncs every commit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    #[default]
    Normal,
    Full,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Normal => "PRAGMA synchronous = NORMAL;",
            Synchronous::Full => "PRAGMA synchronous = FULL;",
        }
    }
}

/// Opens the database named by `url` (`sqlite://…` or `postgres://…`) and migrates it;
/// `parse_ua` fills in the client fields of audit records written before they were stored.
pub async fn open(
    url: &str,
    synchronous: Synchronous,
    parse_ua: ParseUserAgent,
    cache: Arc<sql::cache::ReadCache>,
    warm_pool: bool,
) -> anyhow::Result<Arc<dyn Store>> {
    sqlx::any::install_default_drivers();
    let mut store = if url.starts_with("sqlite:") {
        sqlite::connect(url, synchronous).await?
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        postgres::connect(url, warm_pool).await?
    } else {
        // Only the scheme: a mistyped URL may still carry a password.
        let scheme = url.split(':').next().unwrap_or_default();
        anyhow::bail!("--database-url: expected sqlite://PATH or postgres://…, got `{scheme}:…`");
    };
    store.migrate(parse_ua).await?;
    store.cache = cache;
    Ok(Arc::new(store))
}
