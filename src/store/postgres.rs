//! PostgreSQL for many stateless nodes sharing one database.

use sqlx::any::AnyPoolOptions;

use super::sql::{Dialect, SqlStore};

const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_init",
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        "0002_audit_user_agent",
        include_str!("../../migrations/postgres/0002_audit_user_agent.sql"),
    ),
    (
        "0003_tokens_outbox",
        include_str!("../../migrations/postgres/0003_tokens_outbox.sql"),
    ),
    (
        "0004_mfa",
        include_str!("../../migrations/postgres/0004_mfa.sql"),
    ),
    (
        "0005_oauth2",
        include_str!("../../migrations/postgres/0005_oauth2.sql"),
    ),
    (
        "0006_users_api",
        include_str!("../../migrations/postgres/0006_users_api.sql"),
    ),
];

/// Connects a pool to `url`; reads and writes share it (PostgreSQL runs them concurrently).
pub async fn connect(url: &str) -> anyhow::Result<SqlStore> {
    let pool = AnyPoolOptions::new()
        .max_connections(16)
        .connect(url)
        .await?;
    Ok(SqlStore {
        write: pool.clone(),
        read: pool,
        dialect: Dialect::Postgres,
        migrations: MIGRATIONS,
        cache: std::sync::Arc::new(crate::store::sql::cache::ReadCache::off()),
    })
}
