//! PostgreSQL for many stateless nodes sharing one database.

use sqlx::any::AnyPoolOptions;

use super::sql::SqlStore;

const MIGRATIONS: &[(&str, &str)] = &[(
    "0001_init",
    include_str!("../../migrations/postgres/0001_init.sql"),
)];

/// Connects a pool to `url`.
pub async fn connect(url: &str) -> anyhow::Result<SqlStore> {
    let pool = AnyPoolOptions::new()
        .max_connections(16)
        .connect(url)
        .await?;
    Ok(SqlStore {
        pool,
        migrations: MIGRATIONS,
    })
}
