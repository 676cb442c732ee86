//! Online backups of the embedded SQLite store (`latchkey backup`/`restore`): a consistent
//! copy taken while a server writes, and the checks a copy must pass before it is restored.

use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::sqlite::MIGRATIONS;

/// Opens one read-only connection on the SQLite file `path` (never creating it).
async fn open_file(path: &Path) -> anyhow::Result<sqlx::SqliteConnection> {
    use sqlx::ConnectOptions;
    Ok(sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await?)
}

/// Writes a consistent copy of the store `db` into `into`, which must not exist: SQLite's
/// `VACUUM INTO` copies one read transaction's snapshot, so a running server goes on writing
/// (its WAL included) and the copy is compact. The file is made 0600 before a byte is written.
pub async fn backup(db: &Path, into: &Path) -> anyhow::Result<()> {
    // VACUUM INTO accepts an existing empty file: create it with the mode it must keep.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(into)?;
    let mut conn = open_file(db).await?;
    sqlx::query("VACUUM INTO $1")
        .bind(into.display().to_string())
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// What a backup file holds, checked: SQLite's integrity check passes and every migration it
/// records is one this binary knows (a newer latchkey's store is refused).
pub struct BackupFacts {
    pub users: i64,
    pub migrations: usize,
}

pub async fn check_backup(file: &Path) -> anyhow::Result<BackupFacts> {
    let mut conn = open_file(file)
        .await
        .map_err(|e| anyhow::anyhow!("{} is not a SQLite database: {e}", file.display()))?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| anyhow::anyhow!("{} is not a SQLite database: {e}", file.display()))?;
    anyhow::ensure!(
        integrity == "ok",
        "{} fails SQLite's integrity check: {integrity}",
        file.display()
    );
    let applied: Vec<String> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut conn)
        .await
        .map_err(|_| anyhow::anyhow!("{} is not a latchkey store", file.display()))?;
    if let Some(unknown) = applied
        .iter()
        .find(|v| !MIGRATIONS.iter().any(|(known, _)| known == v))
    {
        anyhow::bail!(
            "{} was written by a newer latchkey (migration {unknown}); restore it with that version",
            file.display()
        );
    }
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut conn)
        .await?;
    Ok(BackupFacts {
        users,
        migrations: applied.len(),
    })
}
