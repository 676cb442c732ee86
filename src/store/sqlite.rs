//! Embedded SQLite: one file in the data folder, WAL journal.

use std::str::FromStr;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, Executor};

use super::sql::SqlStore;

const MIGRATIONS: &[(&str, &str)] = &[(
    "0001_init",
    include_str!("../../migrations/sqlite/0001_init.sql"),
)];

/// Opens (creating if needed) the database file. One connection serialises every
/// statement: SQLite allows one writer anyway, and a single connection rules out the
/// `SQLITE_BUSY` upgrade failures of concurrent read-then-write transactions.
pub async fn connect(url: &str) -> anyhow::Result<SqlStore> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let memory = path.is_empty() || path.starts_with(":memory:");
    if !memory
        && let Some(dir) = std::path::Path::new(path.split('?').next().unwrap_or(path)).parent()
    {
        std::fs::create_dir_all(dir)?;
    }
    let full = if url.contains('?') {
        url.to_owned()
    } else if memory {
        "sqlite::memory:".to_owned()
    } else {
        format!("sqlite://{path}?mode=rwc")
    };
    let options = sqlx::any::AnyConnectOptions::from_str(&full)?;
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .after_connect(|conn: &mut AnyConnection, _| {
            Box::pin(async move {
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                )
                .await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    Ok(SqlStore {
        pool,
        migrations: MIGRATIONS,
    })
}
