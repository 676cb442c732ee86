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
    (
        "0007_jwt_keys",
        include_str!("../../migrations/postgres/0007_jwt_keys.sql"),
    ),
    (
        "0008_password_pwned",
        include_str!("../../migrations/postgres/0008_password_pwned.sql"),
    ),
    (
        "0009_passkeys",
        include_str!("../../migrations/postgres/0009_passkeys.sql"),
    ),
];

/// Connections per node.
const POOL_SIZE: u32 = 16;

/// Connects a pool to `url`; reads and writes share it (PostgreSQL runs them concurrently).
/// With `warm`, every connection is opened up front and kept for the life of the process: a
/// connection opened on demand under load costs its request a SCRAM exchange whose 4,096
/// rounds sqlx spreads over 800 yields to the busy runtime (up to 2.9 s in the cluster test's
/// debug build on a saturated 2-core machine), and connections that all aged out together
/// would bring that back every 30 minutes.
pub async fn connect(url: &str, warm: bool) -> anyhow::Result<SqlStore> {
    let mut options = AnyPoolOptions::new().max_connections(POOL_SIZE);
    if warm {
        options = options
            .min_connections(POOL_SIZE)
            .max_lifetime(None)
            .idle_timeout(None);
    }
    let pool = options.connect(url).await?;
    Ok(SqlStore {
        write: pool.clone(),
        read: pool,
        dialect: Dialect::Postgres,
        migrations: MIGRATIONS,
        cache: std::sync::Arc::new(crate::store::sql::cache::ReadCache::off()),
    })
}
