//! Several nodes on one database and one Redis: a change made on one node ends what the
//! others' read caches hold through Redis pub/sub, not after `readCacheMs` (the servers run on
//! a manual clock that never moves here, so the cache bound cannot be what ends it). While
//! Redis is gone each node reads the database on every request, and links again when it is
//! back. The waits below are for real network events (a subscription coming up, a broadcast
//! arriving), each bounded.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::harness::*;

const METRICS_TOKEN: &str = "nodes-metrics-token";

/// The `latchkey_cache_linked` gauge of node `a`.
async fn linked_gauge(a: &TestApp) -> Option<String> {
    let text = a
        .http
        .get(format!("{}/metrics", a.url))
        .header("authorization", format!("Bearer {METRICS_TOKEN}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with("latchkey_cache_linked "))
        .map(|l| l.rsplit(' ').next().unwrap_or_default().to_owned())
}

/// Node `a` (with metrics) and a node `b` on a's database, both on Redis at `url`, once both are linked.
async fn two_nodes(url: &str) -> (TestApp, TestApp) {
    let first = latchkey::secret::Secret::new(url.to_owned());
    let a = spawn_with(move |c| {
        c.redis_url = Some(first);
        c.metrics_token = Some(latchkey::secret::Secret::new(METRICS_TOKEN));
    })
    .await;
    let db = a.config.database_url.clone().unwrap_or_else(|| {
        latchkey::secret::Secret::new(format!(
            "sqlite://{}",
            a.config.data_dir.join("latchkey.db").display()
        ))
    });
    let second = latchkey::secret::Secret::new(url.to_owned());
    let b = spawn_with(move |c| {
        c.redis_url = Some(second);
        c.database_url = Some(db);
    })
    .await;
    linked(&a, true).await;
    linked(&b, true).await;
    (a, b)
}

/// Two nodes on the test script's Redis (`LATCHKEY_TEST_REDIS_URL`), if it set one, on
/// database `db` of it: a cluster of its own (the channel names the database), so other
/// tests' writes for everyone cannot mask a missed invalidation of one user.
async fn nodes_on_shared_redis(db: u8) -> Option<(TestApp, TestApp)> {
    let Ok(url) = std::env::var("LATCHKEY_TEST_REDIS_URL") else {
        eprintln!("LATCHKEY_TEST_REDIS_URL is not set: cross-node revocation is not tested here");
        return None;
    };
    // `redis://HOST:PORT` or `redis://HOST:PORT/DB`: the database replaced.
    let rest = url.strip_prefix("redis://").expect("a redis:// URL");
    let host = rest.split('/').next().unwrap_or(rest);
    Some(two_nodes(&format!("redis://{host}/{db}")).await)
}

/// Waits (at most 10 s) until the node's cache link is `up` or not.
async fn linked(app: &TestApp, up: bool) {
    for _ in 0..1000 {
        if app.state.cache.serving() == up {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "the cache link did not become {}",
        if up { "up" } else { "down" }
    );
}

/// The status of `GET /v1/account` as `login`.
async fn status(app: &TestApp, login: &Login) -> u16 {
    app.as_user(Method::GET, "/v1/account", login)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Two reads, so the second is served from the node's cache.
async fn warm(app: &TestApp, login: &Login) {
    for _ in 0..2 {
        assert_eq!(status(app, login).await, 200);
    }
}

/// Polls (at most 5 s) until `GET /v1/account` is refused; how many requests it still took.
async fn refused_soon(app: &TestApp, login: &Login) -> usize {
    for served in 0..500 {
        if status(app, login).await == 401 {
            return served;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("still served 5 s after the change on the other node");
}

/// A new user made with the API key (keys are never rate limited: the tests sharing one
/// Redis would otherwise share the sign-up limit of 127.0.0.1), signed in on `app`.
async fn user(app: &TestApp) -> (String, Login) {
    let email = unique_email();
    ok(app
        .as_key(Method::POST, "/v1/users")
        .json(&json!({"userId": "unique()", "email": email, "password": PASSWORD})))
    .await;
    let login = app.login(&email, PASSWORD).await;
    (email, login)
}

async fn ok(r: reqwest::RequestBuilder) {
    let r = r.send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
}

#[tokio::test]
async fn a_logout_or_session_deletion_on_one_node_ends_the_others_cached_session() {
    const DB: u8 = 11;
    let Some((a, b)) = nodes_on_shared_redis(DB).await else {
        return;
    };
    let (email, first) = user(&a).await;
    let second = a.login(&email, PASSWORD).await;
    // A session made on one node works on the other at once.
    warm(&b, &first).await;
    warm(&a, &first).await;
    warm(&a, &second).await;
    ok(b.as_user(Method::DELETE, "/v1/account/sessions/current", &first)).await;
    refused_soon(&a, &first).await;
    assert_eq!(status(&a, &second).await, 200, "the other session lives");
    let path = format!(
        "/v1/users/{}/sessions/{}",
        second.user_id, second.session_id
    );
    ok(b.as_key(Method::DELETE, &path)).await;
    refused_soon(&a, &second).await;
}

#[tokio::test]
async fn a_block_or_password_change_on_one_node_reaches_the_others() {
    const DB: u8 = 12;
    let Some((a, b)) = nodes_on_shared_redis(DB).await else {
        return;
    };
    let (email, mine) = user(&a).await;
    let other = a.login(&email, PASSWORD).await;
    warm(&a, &other).await;
    // A password change ends the user's other sessions (`invalidateSessions`).
    ok(b.as_user(Method::PATCH, "/v1/account/password", &mine)
        .json(&json!({"password": "a-new-password-1", "oldPassword": PASSWORD})))
    .await;
    refused_soon(&a, &other).await;
    // Blocking through the Users API ends every session.
    warm(&a, &mine).await;
    let path = format!("/v1/users/{}/status", mine.user_id);
    ok(b.as_key(Method::PATCH, &path)
        .json(&json!({"status": false})))
    .await;
    for _ in 0..500 {
        let r = a
            .as_user(Method::GET, "/v1/account", &mine)
            .send()
            .await
            .unwrap();
        if r.status() != 200 {
            assert_error(r, 403, "user_blocked").await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the block did not reach the other node");
}

#[tokio::test]
async fn while_redis_is_gone_a_node_reads_the_database_and_links_again_when_it_is_back() {
    let Some((redis, url)) = start_redis(None) else {
        eprintln!("redis-server is not installed: the Redis outage is not tested here");
        return;
    };
    let port: u16 = url
        .trim_end_matches("/0")
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let (a, b) = two_nodes(&url).await;
    let (email, first) = user(&a).await;
    let second = a.login(&email, PASSWORD).await;
    warm(&a, &first).await;
    assert_eq!(linked_gauge(&a).await.as_deref(), Some("1"));
    drop(redis);
    linked(&a, false).await;
    linked(&b, false).await;
    assert_eq!(linked_gauge(&a).await.as_deref(), Some("0"));
    // Nothing can carry the logout to `a` now, and `a` still refuses on the very next
    // request: it is not answering from its cache.
    ok(b.as_user(Method::DELETE, "/v1/account/sessions/current", &first)).await;
    assert_eq!(status(&a, &first).await, 401);
    // Rate limits still hold, counted in each node's memory: ten wrong passwords, then 429.
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let r = a
            .req(Method::POST, "/v1/account/sessions/email")
            .json(&json!({"email": email, "password": "wrong-password-1"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses[..10], [401; 10], "{statuses:?}");
    assert_eq!(statuses[10], 429, "{statuses:?}");
    // Redis is back: both nodes link again (the publisher reconnects by itself) and a
    // change travels as before.
    let Some((_redis, _)) = start_redis(Some(port)) else {
        panic!("redis-server did not restart on port {port}");
    };
    linked(&a, true).await;
    linked(&b, true).await;
    warm(&a, &second).await;
    ok(b.as_user(Method::DELETE, "/v1/account/sessions/current", &second)).await;
    refused_soon(&a, &second).await;
}
