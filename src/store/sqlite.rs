//! Embedded SQLite: one file in the data folder, WAL journal, one writer connection and a pool
//! of read-only connections, so reads never queue behind a write.

use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, Executor};

use super::Synchronous;
use super::sql::{Dialect, SqlStore};

pub(super) const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
    ),
    (
        "0002_audit_user_agent",
        include_str!("../../migrations/sqlite/0002_audit_user_agent.sql"),
    ),
    (
        "0003_tokens_outbox",
        include_str!("../../migrations/sqlite/0003_tokens_outbox.sql"),
    ),
    (
        "0004_mfa",
        include_str!("../../migrations/sqlite/0004_mfa.sql"),
    ),
    (
        "0005_oauth2",
        include_str!("../../migrations/sqlite/0005_oauth2.sql"),
    ),
    (
        "0006_users_api",
        include_str!("../../migrations/sqlite/0006_users_api.sql"),
    ),
    (
        "0007_jwt_keys",
        include_str!("../../migrations/sqlite/0007_jwt_keys.sql"),
    ),
    (
        "0008_password_pwned",
        include_str!("../../migrations/sqlite/0008_password_pwned.sql"),
    ),
    (
        "0009_passkeys",
        include_str!("../../migrations/sqlite/0009_passkeys.sql"),
    ),
];

/// `secure_delete` zeroes what a write frees, so a deleted session hash or a replaced row
/// (the plaintext key secrets an older version recorded) does not linger in free pages.
const PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                       PRAGMA busy_timeout = 5000; PRAGMA secure_delete = ON;";

/// Read connections: SQLite reads are CPU-bound, so about one per core, at least two.
fn reader_count() -> u32 {
    std::thread::available_parallelism().map_or(2, |n| n.get().max(2) as u32)
}

/// Creates the database file mode 0600 before SQLite does (SQLite gives its `-wal` and `-shm`
/// files the database file's mode), and tightens files an older version left readable.
fn prepare_files(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    for suffix in ["", "-wal", "-shm"] {
        let f = format!("{}{suffix}", path.display());
        if let Ok(meta) = std::fs::metadata(&f)
            && meta.permissions().mode() & 0o077 != 0
        {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

/// Opens (creating if needed) the database.
pub async fn connect(url: &str, synchronous: Synchronous) -> anyhow::Result<SqlStore> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = rest.split('?').next().unwrap_or(rest);
    let memory = path.is_empty() || path.starts_with(":memory:");
    let full = if memory {
        "sqlite::memory:".to_owned()
    } else {
        prepare_files(Path::new(path))?;
        if url.contains('?') {
            url.to_owned()
        } else {
            format!("sqlite://{path}?mode=rwc")
        }
    };
    let options = AnyConnectOptions::from_str(&full)?;
    let pool = |n: u32, read_only: bool| {
        AnyPoolOptions::new()
            .max_connections(n)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .after_connect(move |conn: &mut AnyConnection, _| {
                Box::pin(async move {
                    conn.execute(PRAGMAS).await?;
                    conn.execute(synchronous.pragma()).await?;
                    if read_only {
                        conn.execute("PRAGMA query_only = ON;").await?;
                    }
                    Ok(())
                })
            })
    };
    // Every write runs on this one connection, so no unit of work ever waits for a lock
    // another connection holds.
    let write = pool(1, false).connect_with(options.clone()).await?;
    // An in-memory database exists once per connection, so it reads on the writer too.
    let read = if memory {
        write.clone()
    } else {
        pool(reader_count(), true).connect_with(options).await?
    };
    Ok(SqlStore {
        write,
        read,
        dialect: Dialect::Sqlite,
        migrations: MIGRATIONS,
        cache: std::sync::Arc::new(crate::store::sql::cache::ReadCache::off()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_synchronous_reaches_every_connection() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        for (setting, expected) in [(Synchronous::Normal, 1i64), (Synchronous::Full, 2)] {
            let url = format!("sqlite://{}", dir.path().join("s.db").display());
            let store = connect(&url, setting).await.unwrap();
            for pool in [&store.write, &store.read] {
                let got: i64 = sqlx::query_scalar("PRAGMA synchronous")
                    .fetch_one(pool)
                    .await
                    .unwrap();
                assert_eq!(got, expected, "{setting:?}");
            }
        }
    }
}
