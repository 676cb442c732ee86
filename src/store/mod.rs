//! Persistence behind one narrow trait. Both backends run the same SQL through sqlx's `Any`
//! driver (`sql.rs`); `sqlite.rs` and `postgres.rs` hold what differs: connecting, pragmas
//! and the migration files.

mod postgres;
mod sql;
mod sqlite;
#[cfg(test)]
mod suite;

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::queries::ListQuery;
use crate::domain::useragent::UserAgentInfo;

/// A failure of the database itself; `Conflict` is a unique index saying no.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint violated: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
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

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// A project and its settings (a serialized `ProjectConfig`).
#[derive(Debug, Clone)]
pub struct ProjectRow {
    pub id: String,
    pub name: String,
    pub settings: String,
}

/// A user as stored. Datetimes are epoch milliseconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserRow {
    pub id: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// PHC string of the password hash.
    pub password: Option<String>,
    pub hash: Option<String>,
    pub hash_options: Option<String>,
    /// JSON array of earlier PHC strings.
    pub password_history: String,
    pub password_update: Option<i64>,
    pub registration: i64,
    pub status: bool,
    pub labels: String,
    pub email_verification: bool,
    pub phone_verification: bool,
    pub mfa: bool,
    /// JSON object.
    pub prefs: String,
    pub accessed_at: i64,
    pub email_canonical: Option<String>,
    pub email_is_free: Option<bool>,
    pub email_is_disposable: Option<bool>,
    pub email_is_corporate: Option<bool>,
    pub email_is_canonical: Option<bool>,
}

/// A session as stored; only the SHA-256 of its secret is kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub expire: i64,
    pub provider: String,
    pub provider_uid: String,
    pub provider_access_token: String,
    pub provider_access_token_expiry: Option<i64>,
    pub provider_refresh_token: String,
    pub secret_hash: String,
    pub ip: String,
    pub user_agent: String,
    pub ua: UserAgentInfo,
    pub country_code: String,
    /// JSON array of factor names.
    pub factors: String,
    pub mfa_updated_at: Option<i64>,
}

/// A messaging target (email, sms or push) of a user.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetRow {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub name: String,
    pub provider_id: Option<String>,
    pub provider_type: String,
    pub identifier: String,
    pub expired: bool,
    pub session_id: Option<String>,
}

/// An OAuth2 identity linked to a user.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentityRow {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub provider: String,
    pub provider_uid: String,
    pub provider_email: String,
    pub provider_access_token: String,
    pub provider_access_token_expiry: Option<i64>,
    pub provider_refresh_token: String,
}

/// A security audit record of an account event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditRow {
    pub user_id: String,
    pub event: String,
    pub resource: String,
    pub user_email: String,
    pub user_name: String,
    pub mode: String,
    pub user_type: String,
    pub ip: String,
    pub user_agent: String,
    pub country_code: String,
    pub time: i64,
}

/// How a password change treats the user's sessions.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionPurge {
    Keep,
    /// Delete every session but this one (the caller's).
    AllBut(String),
    All,
}

/// Every query the server makes, one trait per resource. Each method is one unit of work: the
/// rows it writes (including the audit record) commit together or not at all. All take the
/// project id. Their methods are all callable on an `Arc<dyn Store>`.
pub trait Store:
    ProjectStore + UserStore + SessionStore + TargetStore + IdentityStore + LogStore
{
}

impl<T> Store for T where
    T: ProjectStore + UserStore + SessionStore + TargetStore + IdentityStore + LogStore
{
}

/// Projects and the schema.
#[async_trait]
pub trait ProjectStore: Send + Sync {
    /// Applies pending migrations.
    async fn migrate(&self) -> StoreResult<()>;
    async fn list_projects(&self) -> StoreResult<Vec<ProjectRow>>;
    async fn upsert_project(&self, project: &ProjectRow) -> StoreResult<()>;
}

/// Users.
#[async_trait]
pub trait UserStore: Send + Sync {
    async fn count_users(&self, project: &str) -> StoreResult<i64>;
    async fn find_user(&self, project: &str, id: &str) -> StoreResult<Option<UserRow>>;
    async fn find_user_by_email(&self, project: &str, email: &str) -> StoreResult<Option<UserRow>>;
    /// Inserts a user with optional first target and first session; `Conflict` on a taken id,
    /// email, phone or target identifier.
    async fn create_user(
        &self,
        project: &str,
        user: &UserRow,
        target: Option<&TargetRow>,
        session: Option<&SessionRow>,
        audits: &[AuditRow],
    ) -> StoreResult<()>;
    /// Overwrites the user's columns; renames a target whose identifier was `rename_target.0`
    /// to `rename_target.1`; purges sessions as asked.
    async fn update_user(
        &self,
        project: &str,
        user: &UserRow,
        rename_target: Option<(&str, &str)>,
        purge: SessionPurge,
        audit: Option<&AuditRow>,
    ) -> StoreResult<()>;
    /// Records the last access time (at most daily, decided by the caller).
    async fn touch_user(&self, project: &str, id: &str, accessed_at: i64) -> StoreResult<()>;
    /// Deletes the user and everything that belongs to it.
    async fn delete_user(&self, project: &str, id: &str, audit: &AuditRow) -> StoreResult<()>;
}

/// Sessions; only hashes of their secrets are stored.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Inserts a session, then deletes the user's oldest sessions beyond `max_sessions`
    /// (0 = unlimited) so the new one always survives.
    async fn create_session(
        &self,
        project: &str,
        session: &SessionRow,
        max_sessions: u64,
        audit: &AuditRow,
    ) -> StoreResult<()>;
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
    /// Sessions of a user, oldest first.
    async fn list_sessions(&self, project: &str, user: &str) -> StoreResult<Vec<SessionRow>>;
    async fn update_session_expire(
        &self,
        project: &str,
        user: &str,
        id: &str,
        expire: i64,
        audit: &AuditRow,
    ) -> StoreResult<bool>;
    async fn delete_session(
        &self,
        project: &str,
        user: &str,
        id: &str,
        audit: &AuditRow,
    ) -> StoreResult<bool>;
    async fn delete_sessions(&self, project: &str, user: &str, audit: &AuditRow)
    -> StoreResult<()>;
}

/// Messaging targets.
#[async_trait]
pub trait TargetStore: Send + Sync {
    async fn target_identifier_taken(&self, project: &str, identifier: &str) -> StoreResult<bool>;
    async fn list_targets(&self, project: &str, user: &str) -> StoreResult<Vec<TargetRow>>;
    async fn find_target(&self, project: &str, id: &str) -> StoreResult<Option<TargetRow>>;
    async fn create_target(
        &self,
        project: &str,
        target: &TargetRow,
        audit: &AuditRow,
    ) -> StoreResult<()>;
    async fn update_target(
        &self,
        project: &str,
        target: &TargetRow,
        audit: &AuditRow,
    ) -> StoreResult<()>;
    async fn delete_target(&self, project: &str, id: &str, audit: &AuditRow) -> StoreResult<()>;
}

/// OAuth2 identities.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    async fn identity_email_taken(
        &self,
        project: &str,
        email: &str,
        except_user: Option<&str>,
    ) -> StoreResult<bool>;
    /// Identities of a user matching the query, and how many match in all.
    async fn list_identities(
        &self,
        project: &str,
        user: &str,
        query: &ListQuery,
    ) -> StoreResult<(Vec<IdentityRow>, i64)>;
    async fn find_identity(&self, project: &str, id: &str) -> StoreResult<Option<IdentityRow>>;
    async fn create_identity(&self, project: &str, identity: &IdentityRow) -> StoreResult<()>;
    async fn delete_identity(&self, project: &str, id: &str, audit: &AuditRow) -> StoreResult<()>;
}

/// Security audit records.
#[async_trait]
pub trait LogStore: Send + Sync {
    /// A user's audit records, newest first, and their count.
    async fn list_logs(
        &self,
        project: &str,
        user: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<AuditRow>, i64)>;
}

/// Opens the database named by `url` (`sqlite://…` or `postgres://…`) and migrates it.
pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    sqlx::any::install_default_drivers();
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        Arc::new(sqlite::connect(url).await?)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Arc::new(postgres::connect(url).await?)
    } else {
        anyhow::bail!("--database-url: expected sqlite://PATH or postgres://…, got `{url}`");
    };
    store.migrate().await?;
    Ok(store)
}
