//! Health and metrics: Appwrite's `/v1/health` routes for API keys, the `/livez` / `/readyz`
//! probes and `/metrics`, against a real database and, for the failure cases, a real Redis
//! stopped mid-test.

use reqwest::Method;
use serde_json::Value;

use crate::harness::*;

fn engine() -> &'static str {
    if std::env::var("LATCHKEY_TEST_POSTGRES_URL").is_ok() {
        "postgresql"
    } else {
        "sqlite"
    }
}

#[tokio::test]
async fn a_key_reads_the_health_of_http_database_and_cache() {
    let app = spawn_app().await;
    let r = app.as_key(Method::GET, "/v1/health").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["name"].as_str(), v["status"].as_str(), v["ping"].as_u64()),
        (Some("http"), Some("pass"), Some(0))
    );
    for (path, name) in [
        ("/v1/health/db", format!("database ({})", engine())),
        ("/v1/health/cache", "cache (memory)".to_owned()),
    ] {
        let r = app.as_key(Method::GET, path).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["total"], 1, "{path}: {v}");
        let s = &v["statuses"][0];
        assert_eq!(s["name"], name.as_str(), "{path}: {v}");
        assert_eq!(s["status"], "pass");
        assert!(
            s["ping"].is_u64(),
            "{path}: ping is whole milliseconds: {v}"
        );
    }
}

#[tokio::test]
async fn health_is_for_keys_only() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    for path in ["/v1/health", "/v1/health/db", "/v1/health/cache"] {
        let r = app.req(Method::GET, path).send().await.unwrap();
        assert_error(r, 401, "general_unauthorized_scope").await;
        let r = app.as_user(Method::GET, path, &login).send().await.unwrap();
        assert_error(r, 401, "general_unauthorized_scope").await;
    }
}

#[tokio::test]
async fn the_probes_need_no_project_and_pass_while_the_database_answers() {
    let app = spawn_app().await;
    for path in ["/livez", "/readyz"] {
        let r = app
            .http
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.json::<Value>().await.unwrap()["status"], "pass", "{path}");
    }
}

#[tokio::test]
async fn a_stopped_redis_fails_the_cache_check_but_leaves_the_node_ready_and_degraded() {
    let Some((redis, url)) = start_redis(None) else {
        eprintln!("redis-server is not installed: the Redis health failure is not tested here");
        return;
    };
    let secret = latchkey::secret::Secret::new(url);
    let app = spawn_with(move |c| c.redis_url = Some(secret)).await;
    let r = app
        .as_key(Method::GET, "/v1/health/cache")
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["statuses"][0]["name"], "cache (redis)", "{v}");
    drop(redis);
    let r = app
        .as_key(Method::GET, "/v1/health/cache")
        .send()
        .await
        .unwrap();
    assert_error(r, 500, "general_server_error").await;
    let r = app
        .http
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .unwrap();
    // Every node shares Redis: an outage must not take them all out of the balancer, and
    // a node serves without it (limits in its memory, no read cache).
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v,
        serde_json::json!({"status": "pass", "degraded": ["cache"]})
    );
    let r = app
        .http
        .get(format!("{}/livez", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .as_key(Method::GET, "/v1/health/db")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the database is still up");
}

#[tokio::test]
async fn metrics_need_their_bearer_token_and_count_requests_by_route_and_status() {
    let off = spawn_app().await;
    let r = off
        .http
        .get(format!("{}/metrics", off.url))
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "general_route_not_found").await;

    let token = latchkey::secret::Secret::new("metrics-token-123");
    let app = spawn_with(move |c| c.metrics_token = Some(token)).await;
    let r = app.req(Method::GET, "/v1/account").send().await.unwrap();
    assert_eq!(r.status(), 401);
    for auth in [None, Some("Bearer wrong-token"), Some("metrics-token-123")] {
        let mut req = app.http.get(format!("{}/metrics", app.url));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_error(r, 401, "general_unauthorized_scope").await;
    }
    let r = app
        .http
        .get(format!("{}/metrics", app.url))
        .header("authorization", "Bearer metrics-token-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    let count = |needle: &str| {
        text.lines()
            .find(|l| l.starts_with(needle))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse::<f64>().ok())
    };
    assert!(
        count(r#"latchkey_requests_total{route="account.get",status="401"}"#)
            .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    for gauge in [
        "latchkey_hash_queue",
        r#"latchkey_db_connections{pool="write",state="open"}"#,
        r#"latchkey_outbox_messages{state="pending"}"#,
        "latchkey_request_duration_seconds_bucket",
    ] {
        assert!(count(gauge).is_some(), "{gauge} in {text}");
    }
}
