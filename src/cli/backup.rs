//! `latchkey backup PATH` and `latchkey restore PATH`: the embedded SQLite store and its
//! instance key, copied consistently while a server runs, checked, and put back.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use super::table;
use super::{CliResult, Failure, Instance};
use crate::store::{backup_sqlite, check_backup};

const DB_FILE: &str = "latchkey.db";
const KEY_FILE: &str = "instance.key";

/// The store file of the instance; PostgreSQL is refused with where to look instead.
fn sqlite_file(instance: &Instance) -> Result<PathBuf, Failure> {
    match instance.database_url.as_deref() {
        Some(url) if url.starts_with("postgres") => Err(Failure::bad_input(
            "backup and restore copy the embedded SQLite store; on PostgreSQL use pg_dump and \
             pg_restore (README: \"Backups\"), and keep the instance key with the dump",
        )),
        Some(url) => {
            let rest = url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:");
            Ok(PathBuf::from(rest.split('?').next().unwrap_or(rest)))
        }
        None => Ok(instance.data.join(DB_FILE)),
    }
}

fn spinner(json: bool, message: &'static str) -> indicatif::ProgressBar {
    let bar = if json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Copies `from` to a new file `to` with mode 0600, synced to disk.
fn copy_private(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)?;
    std::io::copy(&mut std::fs::File::open(from)?, &mut out)?;
    out.sync_all()
}

fn print(json: bool, action: &str, path: &Path, facts: &crate::store::BackupFacts, key: bool) {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if json {
        println!(
            "{}",
            json!({"action": action, "path": path, "bytes": bytes, "users": facts.users,
                   "migrations": facts.migrations, "instanceKey": key})
        );
    } else {
        print!(
            "{}",
            table::render(
                &[
                    "ACTION",
                    "PATH",
                    "BYTES",
                    "USERS",
                    "MIGRATIONS",
                    "INSTANCE KEY"
                ],
                &[vec![
                    action.to_owned(),
                    path.display().to_string(),
                    bytes.to_string(),
                    facts.users.to_string(),
                    facts.migrations.to_string(),
                    if key {
                        "copied"
                    } else {
                        "none (set by _APP_OPENSSL_KEY_V1)"
                    }
                    .to_owned(),
                ]],
            )
        );
    }
}

/// `latchkey backup PATH`: a new folder (0700) with the store (0600) and the instance key.
pub async fn backup(instance: &Instance, path: &Path) -> CliResult {
    let db = sqlite_file(instance)?;
    if !db.is_file() {
        return Err(Failure::bad_input(format!(
            "no store at {}: pass the --data (or --database-url) the server uses",
            db.display()
        )));
    }
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(path)
        .map_err(|e| {
            Failure::bad_input(format!(
                "cannot create the backup folder {}: {e} (it must not exist yet)",
                path.display()
            ))
        })?;
    let file = path.join(DB_FILE);
    let bar = spinner(instance.json, "copying the store (VACUUM INTO)…");
    let copied = backup_sqlite(&db, &file).await;
    bar.finish_and_clear();
    let checked = match copied {
        Ok(()) => check_backup(&file)
            .await
            .map_err(|e| format!("the copy does not check out: {e:#}")),
        Err(e) => Err(format!("backup failed: {e:#}")),
    };
    // No half-written backup is left to be mistaken for a good one.
    let facts = checked.map_err(|e| {
        let _ = std::fs::remove_dir_all(path);
        Failure::failed(e)
    })?;
    let key = instance.data.join(KEY_FILE);
    let has_key = key.is_file();
    if has_key && let Err(e) = copy_private(&key, &path.join(KEY_FILE)) {
        let _ = std::fs::remove_dir_all(path);
        return Err(Failure::failed(format!("copying the instance key: {e}")));
    }
    print(instance.json, "backup", &file, &facts, has_key);
    Ok(())
}

/// The renames of a restore, done in order and undone in reverse if one fails, so a failed
/// restore leaves the instance as it was: its store, its WAL and its key.
#[derive(Default)]
struct Swap(Vec<(PathBuf, PathBuf)>);

impl Swap {
    fn rename(&mut self, from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::rename(from, to)?;
        self.0.push((from.to_owned(), to.to_owned()));
        Ok(())
    }

    fn undo(self) {
        for (from, to) in self.0.into_iter().rev() {
            if let Err(e) = std::fs::rename(&to, &from) {
                eprintln!(
                    "could not move {} back to {}: {e}",
                    to.display(),
                    from.display()
                );
            }
        }
    }
}

/// Puts the staged store and key in place, the current ones moved aside under `kept` names
/// (with SQLite's `-wal`/`-shm`, which belong to the store they sit beside).
fn swap_in(
    staged_db: &Path,
    db: &Path,
    staged_key: Option<(&Path, &Path)>,
    kept: &str,
) -> std::io::Result<()> {
    let mut swap = Swap::default();
    let result = (|| {
        for suffix in ["", "-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{suffix}", db.display()));
            if from.exists() {
                swap.rename(
                    &from,
                    Path::new(&format!("{}.{kept}{suffix}", db.display())),
                )?;
            }
        }
        if let Some((staged, key)) = staged_key {
            if key.exists() {
                swap.rename(key, Path::new(&format!("{}.{kept}", key.display())))?;
            }
            swap.rename(staged, key)?;
        }
        swap.rename(staged_db, db)
    })();
    if result.is_err() {
        swap.undo();
    }
    result
}

/// `latchkey restore PATH`: checks the backup, then puts it in place of the instance's store
/// (an existing store only with `--force`, kept as `latchkey.db.before-restore-<unix time>`). The server
/// must be stopped: a running one would go on writing to the store it has open.
pub async fn restore(instance: &Instance, path: &Path, force: bool) -> CliResult {
    let db = sqlite_file(instance)?;
    let file = path.join(DB_FILE);
    if !file.is_file() {
        return Err(Failure::bad_input(format!(
            "{} holds no {DB_FILE}: name a folder `latchkey backup` wrote",
            path.display()
        )));
    }
    let facts = check_backup(&file)
        .await
        .map_err(|e| Failure::bad_input(format!("refusing to restore: {e:#}")))?;
    if db.exists() && !force {
        return Err(Failure::bad_input(format!(
            "a store already exists at {}: stop the server, then pass --force to replace it (it \
             is kept as {DB_FILE}.before-restore-<time>)",
            db.display()
        )));
    }
    let dir = db.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .recursive(true)
        .create(dir)
        .map_err(|e| Failure::failed(format!("creating {}: {e}", dir.display())))?;
    // Both copied next to their places first, then renamed: a failure before the renames
    // changes nothing, one during them is undone.
    let staged_db = dir.join(format!("{DB_FILE}.restoring"));
    let key = path.join(KEY_FILE);
    let has_key = key.is_file();
    let target_key = instance.data.join(KEY_FILE);
    let staged_key = instance.data.join(format!("{KEY_FILE}.restoring"));
    let staged = (|| {
        let _ = std::fs::remove_file(&staged_db);
        copy_private(&file, &staged_db)?;
        if has_key {
            let _ = std::fs::remove_file(&staged_key);
            copy_private(&key, &staged_key)?;
        }
        Ok::<_, std::io::Error>(())
    })();
    let cleanup = || {
        let _ = std::fs::remove_file(&staged_db);
        let _ = std::fs::remove_file(&staged_key);
    };
    if let Err(e) = staged {
        cleanup();
        return Err(Failure::failed(format!("copying the backup: {e}")));
    }
    // A name of its own per restore, so a second one never overwrites what the first kept.
    let kept = format!(
        "before-restore-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    );
    let key_pair = has_key.then_some((staged_key.as_path(), target_key.as_path()));
    if let Err(e) = swap_in(&staged_db, &db, key_pair, &kept) {
        cleanup();
        return Err(Failure::failed(format!(
            "putting the backup in place failed and was undone: {e}"
        )));
    }
    let _ = std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600));
    print(instance.json, "restore", &db, &facts, has_key);
    Ok(())
}
