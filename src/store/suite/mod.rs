//! Store tests that run on in-memory SQLite, on an SQLite file (which has the separate read
//! pool), and on PostgreSQL too when `LATCHKEY_TEST_POSTGRES_URL` names a server (each run
//! gets its own database). Every store method has a case here.

mod jwt;
mod lists;
mod mfa;
mod oauth2;
mod passkeys;
mod sessions;
mod targets;
mod tokens;
mod upgrade;
mod users;

use std::sync::Arc;

use super::*;

/// The backends under test, each with a name for assertion messages. The temporary folder
/// of the file database lives as long as the returned guard.
pub(super) async fn stores() -> (Vec<(&'static str, Arc<dyn Store>)>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let parse = crate::domain::useragent::parse;
    // The read cache on, with a bound no test reaches: every read-after-write of the suite
    // then also shows that writes invalidate it.
    let cache = || {
        let clock = Arc::new(crate::domain::time::ManualClock::starting_now());
        Arc::new(sql::cache::ReadCache::new(clock, 60_000))
    };
    let file = format!("sqlite://{}", dir.path().join("suite.db").display());
    let mut out: Vec<(&'static str, Arc<dyn Store>)> = vec![
        (
            "sqlite-memory",
            open(
                "sqlite::memory:",
                Synchronous::Normal,
                parse,
                cache(),
                false,
            )
            .await
            .expect("sqlite"),
        ),
        (
            "sqlite-file",
            // The file store syncs every commit, so both settings run the suite.
            open(&file, Synchronous::Full, parse, cache(), false)
                .await
                .expect("sqlite file"),
        ),
    ];
    if let Some(url) = postgres_database().await {
        out.push((
            "postgres",
            open(&url, Synchronous::Normal, parse, cache(), false)
                .await
                .expect("postgres"),
        ));
    }
    (out, dir)
}

/// A new, empty database on the server of `LATCHKEY_TEST_POSTGRES_URL`, if it is set; its URL.
pub(super) async fn postgres_database() -> Option<String> {
    use sqlx::Connection;
    let base = std::env::var("LATCHKEY_TEST_POSTGRES_URL").ok()?;
    let name = format!("s_{}", crate::domain::ids::random_hex(8));
    let mut conn = sqlx::PgConnection::connect(&base).await.expect("postgres");
    // An ICU collation orders text unlike bytes ("github" < "GitHub"), so the tests show
    // that every comparison the store makes is byte-wise whatever the server's locale.
    let icu =
        format!("CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'");
    if sqlx::raw_sql(sqlx::AssertSqlSafe(icu))
        .execute(&mut conn)
        .await
        .is_err()
    {
        eprintln!("no ICU collation on this server: text order is checked in its own locale only");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create database");
    }
    let (prefix, _) = base.rsplit_once('/').expect("database in url");
    Some(format!("{prefix}/{name}"))
}

/// Opens (and migrates) the PostgreSQL store at `url` as one node would, without a read cache.
pub(super) async fn open_node(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let cache = Arc::new(sql::cache::ReadCache::off());
    open(
        url,
        Synchronous::Normal,
        crate::domain::useragent::parse,
        cache,
        false,
    )
    .await
}

pub(super) fn user(id: &str, email: &str) -> UserRow {
    let mut u = crate::domain::accounts::new_user(id.into(), 1);
    u.email = Some(email.into());
    u
}

pub(super) fn audit(user: &str, event: &str, time: i64) -> AuditRow {
    AuditRow {
        user_id: user.into(),
        event: event.into(),
        time,
        ua: UserAgentInfo {
            client_name: "Chrome".into(),
            ..UserAgentInfo::default()
        },
        ..AuditRow::default()
    }
}

pub(super) fn session(id: &str, user: &str, created_at: i64) -> SessionRow {
    SessionRow {
        id: id.into(),
        user_id: user.into(),
        created_at,
        expire: created_at + 1000,
        secret_hash: crate::secret::Secret::new(format!("hash-{id}")),
        factors: "[]".into(),
        ..SessionRow::default()
    }
}

/// Inserts users in one committed unit.
pub(super) async fn seed_users(s: &Arc<dyn Store>, users: &[UserRow]) {
    let mut tx = s.begin().await.unwrap();
    for u in users {
        tx.insert_user("p", u).await.unwrap();
    }
    tx.commit().await.unwrap();
}

#[test]
fn both_backends_have_migrations_with_identical_names() {
    let names = |dir: &str| {
        let mut v: Vec<String> =
            std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"));
    assert!(names("sqlite").len() >= 2);
}

#[tokio::test]
async fn projects_are_recorded_and_replaced() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        let row = |settings: &str| ProjectRow {
            id: "p".into(),
            name: "P".into(),
            settings: settings.into(),
        };
        s.upsert_project(&row("{}"), 1).await.unwrap();
        s.upsert_project(&row("{\"a\":1}"), 2).await.unwrap();
        assert_eq!(
            s.list_projects().await.unwrap(),
            vec![row("{\"a\":1}")],
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_unit_of_work_dropped_without_commit_writes_nothing() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        {
            let mut tx = s.begin().await.unwrap();
            tx.insert_user("p", &user("u", "u@example.com"))
                .await
                .unwrap();
            tx.insert_audit("p", &audit("u", "user.create", 1))
                .await
                .unwrap();
        }
        assert!(s.find_user("p", "u").await.unwrap().is_none(), "{name}");
        assert_eq!(
            s.list_logs("p", "u", 25, 0).await.unwrap().total,
            0,
            "{name}"
        );
        // The writer is free again afterwards.
        seed_users(&s, &[user("u", "u@example.com")]).await;
        assert!(s.find_user("p", "u").await.unwrap().is_some(), "{name}");
    }
}

#[tokio::test]
async fn audit_records_keep_their_parsed_client_fields_newest_first_and_paged() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        let mut tx = s.begin().await.unwrap();
        for (i, event) in ["a", "b", "c"].iter().enumerate() {
            tx.insert_audit("p", &audit("u", event, i as i64))
                .await
                .unwrap();
        }
        tx.insert_audit("p", &audit("other", "x", 9)).await.unwrap();
        tx.commit().await.unwrap();
        let page = s.list_logs("p", "u", 2, 0).await.unwrap();
        assert_eq!(page.total, 3, "{name}");
        let events: Vec<&str> = page.rows.iter().map(|a| a.event.as_str()).collect();
        assert_eq!(events, ["c", "b"], "{name}");
        assert_eq!(page.rows[0].ua.client_name, "Chrome", "{name}");
        let rest = s.list_logs("p", "u", 2, 2).await.unwrap();
        assert_eq!(rest.rows.len(), 1, "{name}");
        assert_eq!(rest.rows[0].event, "a", "{name}");
    }
}
