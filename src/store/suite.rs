//! Store tests that run on in-memory SQLite, and on PostgreSQL too when
//! `LATCHKEY_TEST_POSTGRES_URL` names a server (each run gets its own database).

use std::sync::Arc;

use super::*;

async fn stores() -> Vec<(&'static str, Arc<dyn Store>)> {
    let mut out: Vec<(&'static str, Arc<dyn Store>)> =
        vec![("sqlite", open("sqlite::memory:").await.expect("sqlite"))];
    if let Ok(base) = std::env::var("LATCHKEY_TEST_POSTGRES_URL") {
        use sqlx::Connection;
        let name = format!("s_{}", crate::domain::ids::random_hex(8));
        let mut conn = sqlx::PgConnection::connect(&base).await.expect("postgres");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create database");
        let (prefix, _) = base.rsplit_once('/').expect("database in url");
        out.push((
            "postgres",
            open(&format!("{prefix}/{name}")).await.expect("postgres"),
        ));
    }
    out
}

fn user(id: &str, email: &str) -> UserRow {
    let mut u = crate::domain::accounts::new_user(id.into(), 1);
    u.email = Some(email.into());
    u
}

fn audit() -> AuditRow {
    AuditRow {
        event: "test".into(),
        ..AuditRow::default()
    }
}

fn session(id: &str, user: &str, created_at: i64) -> SessionRow {
    SessionRow {
        id: id.into(),
        user_id: user.into(),
        created_at,
        secret_hash: format!("hash-{id}"),
        factors: "[]".into(),
        ..SessionRow::default()
    }
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
    assert!(!names("sqlite").is_empty());
}

#[tokio::test]
async fn users_round_trip_and_unique_email_is_a_conflict() {
    for (name, s) in stores().await {
        let mut u = user("u1", "a@example.com");
        u.prefs = r#"{"k":1}"#.into();
        u.email_is_free = Some(true);
        s.create_user("p", &u, None, None, &[audit()])
            .await
            .unwrap();
        assert_eq!(
            s.find_user("p", "u1").await.unwrap().as_ref(),
            Some(&u),
            "{name}"
        );
        assert_eq!(
            s.find_user("other", "u1").await.unwrap(),
            None,
            "{name}: projects are separate"
        );
        let dup = s
            .create_user("p", &user("u2", "a@example.com"), None, None, &[audit()])
            .await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{name}");
        // The failed insert left no audit record behind.
        assert_eq!(s.list_logs("p", "u2", 25, 0).await.unwrap().1, 0, "{name}");
        assert_eq!(s.count_users("p").await.unwrap(), 1, "{name}");
    }
}

#[tokio::test]
async fn creating_a_session_evicts_the_oldest_beyond_the_limit() {
    for (name, s) in stores().await {
        s.create_user("p", &user("u", "u@example.com"), None, None, &[])
            .await
            .unwrap();
        for (i, id) in ["s1", "s2", "s3"].iter().enumerate() {
            s.create_session("p", &session(id, "u", i as i64), 2, &audit())
                .await
                .unwrap();
        }
        let ids: Vec<String> = s
            .list_sessions("p", "u")
            .await
            .unwrap()
            .into_iter()
            .map(|x| x.id)
            .collect();
        assert_eq!(ids, vec!["s2", "s3"], "{name}");
        let found = s.find_session_by_secret_hash("p", "hash-s3").await.unwrap();
        assert_eq!(found.map(|x| x.id), Some("s3".into()), "{name}");
    }
}

#[tokio::test]
async fn deleting_a_user_removes_its_sessions_and_targets() {
    for (name, s) in stores().await {
        let target = TargetRow {
            id: "t".into(),
            user_id: "u".into(),
            provider_type: "email".into(),
            identifier: "u@example.com".into(),
            ..TargetRow::default()
        };
        s.create_user(
            "p",
            &user("u", "u@example.com"),
            Some(&target),
            Some(&session("s", "u", 1)),
            &[],
        )
        .await
        .unwrap();
        s.delete_user("p", "u", &audit()).await.unwrap();
        assert!(s.find_user("p", "u").await.unwrap().is_none(), "{name}");
        assert!(
            s.find_session_by_secret_hash("p", "hash-s")
                .await
                .unwrap()
                .is_none(),
            "{name}"
        );
        assert!(
            !s.target_identifier_taken("p", "u@example.com")
                .await
                .unwrap(),
            "{name}"
        );
    }
}
