//! Hostile input at the edge: oversized headers, bodies, cookie jars and JSON nesting, slow
//! clients, and hyper's own refusals — each an Appwrite-shaped error with the right status,
//! and nothing half-written behind it.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::*;

/// Sends raw bytes and reads until the server closes or `wait` passes.
async fn raw(app: &TestApp, request: &[u8], wait: Duration) -> (String, bool) {
    let addr = app.url.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    // A server that refuses early may close before everything is written.
    let _ = s.write_all(request).await;
    let mut out = Vec::new();
    let closed = tokio::time::timeout(wait, s.read_to_end(&mut out))
        .await
        .is_ok();
    (String::from_utf8_lossy(&out).into_owned(), closed)
}

/// The status and JSON body of a raw answer.
fn parse(answer: &str) -> (u16, Value) {
    let status = answer
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (
        status,
        serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {answer:?}")),
    )
}

fn assert_shaped(answer: &str, status: u16, ty: &str) {
    let (got, body) = parse(answer);
    assert_eq!(got, status, "{answer}");
    assert_eq!(body["code"], status);
    assert_eq!(body["type"], ty);
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(body["version"].is_string());
}

#[tokio::test]
async fn what_hyper_refuses_before_our_code_runs_is_still_an_appwrite_error() {
    let app = spawn_app().await;
    let wait = Duration::from_secs(10);
    let many: String = (0..150).map(|i| format!("x-h{i}: a\r\n")).collect();
    let (a, _) = raw(
        &app,
        format!("GET /v1/account HTTP/1.1\r\nhost: x\r\n{many}\r\n").as_bytes(),
        wait,
    )
    .await;
    assert_shaped(&a, 431, "general_bad_request");
    let huge = "a".repeat(200 * 1024);
    let (a, _) = raw(
        &app,
        format!("GET /v1/account HTTP/1.1\r\nhost: x\r\nx-big: {huge}\r\n\r\n").as_bytes(),
        wait,
    )
    .await;
    assert_shaped(&a, 431, "general_bad_request");
    let (a, _) = raw(&app, b"NOT HTTP AT ALL\r\n\r\n", wait).await;
    assert_shaped(&a, 400, "general_bad_request");
    // Headers past our limit (64 KiB) but within hyper's buffer (128 KiB) are refused by the
    // dispatcher: the same answer, with the no-cache headers only the dispatcher sets.
    let big = "a".repeat(80 * 1024);
    let r = app
        .req(Method::GET, "/v1/account")
        .header("x-one", &big)
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("cache-control"));
    let msg = assert_error(r, 431, "general_bad_request").await;
    assert!(msg.contains("65536 bytes"), "{msg}");
}

#[tokio::test]
async fn an_oversized_body_is_413_and_creates_nothing() {
    let app = spawn_app().await;
    let email = unique_email();
    let body = json!({
        "userId": "big", "email": email, "password": PASSWORD, "name": "n".repeat(300 * 1024),
    });
    // Announced by Content-Length: refused before the body is read (so none is sent here).
    let (answer, _) = raw(
        &app,
        b"POST /v1/account HTTP/1.1\r\nhost: x\r\nx-appwrite-project: test\r\ncontent-type: application/json\r\ncontent-length: 307200\r\n\r\n",
        Duration::from_secs(10),
    )
    .await;
    assert_shaped(&answer, 413, "general_bad_request");
    assert!(answer.contains("262144"), "{answer}");
    // Chunked, with no length: refused once the limit is passed.
    let payload = serde_json::to_vec(&body).unwrap();
    let mut request = b"POST /v1/account HTTP/1.1\r\nhost: x\r\nx-appwrite-project: test\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for chunk in payload.chunks(8192) {
        request.extend(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend(chunk);
        request.extend(b"\r\n");
    }
    request.extend(b"0\r\n\r\n");
    let (answer, _) = raw(&app, &request, Duration::from_secs(10)).await;
    assert_shaped(&answer, 413, "general_bad_request");
    // Nothing was half-written: the same id and email still sign up.
    let r = app
        .req(Method::POST, "/v1/account")
        .json(&json!({"userId": "big", "email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn too_many_cookies_and_too_deep_json_are_refused() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let jar: Vec<String> = (0..200).map(|i| format!("c{i}=1")).collect();
    let r = app
        .req(Method::GET, "/v1/account")
        .header("cookie", jar.join("; "))
        .send()
        .await
        .unwrap();
    assert_error(r, 431, "general_bad_request").await;

    let nest = |depth: usize| -> Value {
        let mut v = json!(1);
        for _ in 0..depth {
            v = json!({ "a": v });
        }
        v
    };
    let r = app
        .as_user(Method::PATCH, "/v1/account/prefs", &login)
        .json(&json!({ "prefs": nest(70) }))
        .send()
        .await
        .unwrap();
    let msg = assert_error(r, 400, "general_argument_invalid").await;
    assert!(msg.contains("nested deeper than 64"), "{msg}");
    let account = app.account(&login).await;
    assert_eq!(
        account["prefs"],
        json!({}),
        "the refused prefs were not saved"
    );
    // Deep but within the limit is fine.
    let r = app
        .as_user(Method::PATCH, "/v1/account/prefs", &login)
        .json(&json!({ "prefs": nest(60) }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn prefs_and_queries_are_held_to_appwrites_sizes() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let r = app
        .as_user(Method::PATCH, "/v1/account/prefs", &login)
        .json(&json!({ "prefs": { "blob": "x".repeat(65 * 1024) } }))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "general_argument_invalid").await;
    let many: String = (0..101).map(|i| format!("queries[]=limit({i})&")).collect();
    let r = app
        .as_user(Method::GET, &format!("/v1/account/logs?{many}"), &login)
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "general_argument_invalid").await;
    let long = format!(
        "{{\"method\":\"equal\",\"attribute\":\"event\",\"values\":[\"{}\"]}}",
        "e".repeat(4100)
    );
    let r = app
        .as_user(
            Method::GET,
            &format!("/v1/account/logs?queries[]={}", url_escape(&long)),
            &login,
        )
        .send()
        .await
        .unwrap();
    let msg = assert_error(r, 400, "general_argument_invalid").await;
    assert!(msg.contains("Query too long"), "{msg}");
}

#[tokio::test]
async fn slow_clients_are_cut_off_by_the_read_timeout() {
    let app = spawn_with(|c| c.file.read_timeout = Some(1)).await;
    // Headers that never finish: the connection is closed, no request runs.
    let (answer, closed) = raw(
        &app,
        b"GET /v1/health/version HTTP/1.1\r\nhost: x\r\nx-slow: ",
        Duration::from_secs(8),
    )
    .await;
    assert!(closed, "a slowloris connection stays open");
    assert!(answer.is_empty(), "{answer}");
    // A body that never finishes: 408 with the Appwrite shape.
    let (answer, _) = raw(
        &app,
        b"POST /v1/account HTTP/1.1\r\nhost: x\r\nx-appwrite-project: test\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"userId\"",
        Duration::from_secs(8),
    )
    .await;
    assert_shaped(&answer, 408, "general_bad_request");
}
