//! Races: logins against a password change, sign-ups against the user limit, many nodes
//! migrating one empty database.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

#[tokio::test]
async fn no_session_made_with_the_old_password_outlives_a_password_change() {
    // No eviction: every login that commits must be there to be purged. Many logins from
    // one address: rate limits off.
    let app = spawn_with(|c| {
        c.file.rate_limits = Some(false);
        c.file.projects[0].auth.max_sessions = 0;
    })
    .await;
    for round in 0..5 {
        let (email, me) = app.user().await;
        let logins: Vec<_> = (0..12)
            .map(|_| {
                let rb = app
                    .req(Method::POST, "/v1/account/sessions/email")
                    .json(&json!({"email": email, "password": PASSWORD}));
                tokio::spawn(async move { rb.send().await.unwrap().status().as_u16() })
            })
            .collect();
        let change = app
            .as_user(Method::PATCH, "/v1/account/password", &me)
            .json(&json!({"password": "brand-new-password", "oldPassword": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(change.status(), 200);
        for l in logins {
            let status = l.await.unwrap();
            assert!(status == 201 || status == 401, "round {round}: {status}");
        }
        let list: Value = app
            .as_user(Method::GET, "/v1/account/sessions", &me)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<&str> = list["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["$id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [me.session_id.as_str()],
            "round {round}: old-password sessions survived"
        );
    }
}

#[tokio::test]
async fn concurrent_sign_ups_stop_exactly_at_the_user_limit() {
    let app = spawn_with(with_project(|p| p.auth.limit = 3)).await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let rb = if i % 2 == 0 {
                app.req(Method::POST, "/v1/account").json(
                    &json!({"userId": "unique()", "email": unique_email(), "password": PASSWORD}),
                )
            } else {
                app.req(Method::POST, "/v1/account/sessions/anonymous")
            };
            tokio::spawn(async move { rb.send().await.unwrap() })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        let r = t.await.unwrap();
        if r.status() == 201 {
            created += 1;
        } else {
            assert_error(r, 400, "user_count_exceeded").await;
        }
    }
    assert_eq!(created, 3);
    assert_eq!(app.state.store.count_users(PROJECT).await.unwrap(), 3);
}

#[tokio::test]
async fn many_nodes_migrate_one_empty_postgres_database_at_once() {
    let Ok(base) = std::env::var("LATCHKEY_TEST_POSTGRES_URL") else {
        return; // only PostgreSQL serves many nodes
    };
    let url = new_postgres_database(&base).await;
    let dir = tempfile::tempdir().unwrap();
    let nodes: Vec<_> = (0..6)
        .map(|i| {
            let mut c = latchkey::Config::new(dir.path().join(format!("node{i}")));
            c.database_url = Some(latchkey::secret::Secret::new(url.clone()));
            tokio::spawn(async move { latchkey::AppState::build(&c).await.map(|_| ()) })
        })
        .collect();
    for n in nodes {
        n.await.unwrap().expect("every node starts");
    }
}
