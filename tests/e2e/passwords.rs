//! Password hashing runs on a bounded pool: a queue of logins must not stall other requests.

use reqwest::Method;
use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn get_account_answers_while_a_queue_of_logins_is_still_hashing() {
    // Appwrite's newer default cost (64 MiB, t=4): each verify takes a noticeable time.
    let app = spawn_with(|c| {
        c.file.passwords = latchkey::domain::hashing::HashParams {
            memory_cost: 65536,
            time_cost: 4,
            parallelism: 1,
        }
    })
    .await;
    let (email, login) = app.user().await;
    let logins: Vec<_> = (0..8)
        .map(|_| {
            let rb = app
                .req(Method::POST, "/v1/account/sessions/email")
                .json(&json!({"email": email, "password": PASSWORD}));
            tokio::spawn(async move { rb.send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    // Give the logins a head start so that the pool is full and more are queued.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let r = app
        .as_user(Method::GET, "/v1/account", &login)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let still_hashing = logins.iter().filter(|h| !h.is_finished()).count();
    assert!(
        still_hashing > 0,
        "GET /v1/account waited for the whole login queue"
    );
    for h in logins {
        assert_eq!(h.await.unwrap().unwrap(), 201);
    }
}
