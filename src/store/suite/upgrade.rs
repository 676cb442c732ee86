//! Upgrading a store: the Users API migration (0006) must index the users it finds, and later
//! writes must keep the index sound; nodes starting together on PostgreSQL migrate once.

use super::*;

/// An SQLite store on `url` migrated only up to (not including) migration `upto`.
async fn sqlite_before(url: &str, upto: &str) -> sql::SqlStore {
    sqlx::any::install_default_drivers();
    let mut store = sqlite::connect(url, Synchronous::Normal).await.unwrap();
    let all = store.migrations;
    let at = all.iter().position(|(v, _)| *v == upto).unwrap();
    store.migrations = &all[..at];
    store
        .migrate(crate::domain::useragent::parse)
        .await
        .unwrap();
    store.migrations = all;
    store
}

fn searched(q: &str) -> ListQuery {
    ListQuery {
        search: Some(q.into()),
        ..ListQuery::default()
    }
}

#[tokio::test]
async fn users_from_before_the_users_api_are_found_by_search_after_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let old = sqlite_before(&url, "0006_users_api").await;
    // Rows as the previous version wrote them (no `search` column yet).
    for (id, email, name) in [
        ("old1", "ann.lee@example.com", "Ann Lee"),
        ("old2", "bob@example.com", "Bob"),
    ] {
        sqlx::query(
            "INSERT INTO users (project_id, id, created_at, updated_at, name, email, registration, \
             status, email_verification, phone_verification, mfa, accessed_at) \
             VALUES ('p', $1, 1, 1, $2, $3, 1, 1, 0, 0, 0, 1)",
        )
        .bind(id)
        .bind(name)
        .bind(email)
        .execute(&old.write)
        .await
        .unwrap();
    }
    old.migrate(crate::domain::useragent::parse).await.unwrap();
    let ids = |p: Page<UserRow>| p.rows.into_iter().map(|u| u.id).collect::<Vec<_>>();
    assert_eq!(
        ids(old.list_users("p", &searched("ann")).await.unwrap()),
        ["old1"]
    );
    assert_eq!(
        ids(old.list_users("p", &searched("example")).await.unwrap()),
        ["old1", "old2"]
    );
    // Changing and deleting an upgraded user keeps the index sound (FTS5 reports a corrupt
    // index as an error on the next write or match).
    let mut bob = old.find_user("p", "old2").await.unwrap().unwrap();
    bob.name = Some("Annabel".into());
    let mut tx = old.begin().await.unwrap();
    tx.update_user("p", &bob).await.unwrap();
    tx.delete_user("p", "old1").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        ids(old.list_users("p", &searched("ann")).await.unwrap()),
        ["old2"]
    );
    sqlx::query("INSERT INTO users_fts (users_fts) VALUES ('integrity-check')")
        .execute(&old.write)
        .await
        .unwrap();
}

/// PostgreSQL only: nodes starting together on one empty database migrate it once. A node
/// that finds the migration lock held waits for it, then finds every migration applied.
#[tokio::test]
async fn a_node_starting_while_another_migrates_waits_then_finds_nothing_to_do() {
    use sqlx::Connection;
    let Some(url) = postgres_database().await else {
        return;
    };
    let mut other = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql("SELECT pg_advisory_lock(7809651199139603833)")
        .execute(&mut other)
        .await
        .unwrap();
    let opening = tokio::spawn({
        let url = url.clone();
        async move { open_node(&url).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!opening.is_finished(), "it waits while the lock is held");
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'users'",
    )
    .fetch_one(&mut other)
    .await
    .unwrap();
    assert_eq!(tables, 0, "and has migrated nothing meanwhile");
    // The other node migrates, as `open` would, and lets go.
    let first = open_node(&url);
    sqlx::raw_sql("SELECT pg_advisory_unlock(7809651199139603833)")
        .execute(&mut other)
        .await
        .unwrap();
    first.await.unwrap();
    let second = tokio::time::timeout(std::time::Duration::from_secs(10), opening)
        .await
        .expect("it went on once the lock was free")
        .unwrap();
    second.expect("it found the database migrated");
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations")
        .fetch_one(&mut other)
        .await
        .unwrap();
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    assert_eq!(applied as usize, files, "each migration recorded once");
}
