//! `account.listLogs`: the security audit trail of account events.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

#[tokio::test]
async fn account_events_are_audited_newest_first() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    app.as_user(Method::PATCH, "/v1/account/name", &login)
        .json(&json!({"name": "Renamed"}))
        .send()
        .await
        .unwrap();
    let r = app
        .as_user(Method::GET, "/v1/account/logs", &login)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let logs: Value = r.json().await.unwrap();
    let events: Vec<&str> = logs["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, vec!["user.update", "session.create", "user.create"]);
    assert_eq!(logs["total"], 3);
    let newest = &logs["logs"][0];
    assert_eq!(newest["userId"], login.user_id);
    assert_eq!(newest["ip"], "127.0.0.1");
    assert_eq!(newest["countryCode"], "--");
    assert_eq!(newest["mode"], "default");
    let session_log = &logs["logs"][1];
    assert_eq!(session_log["clientName"], "Chrome");
}

#[tokio::test]
async fn logs_page_with_limit_and_offset_and_refuse_other_queries() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let limit = url::form_urlencoded::byte_serialize(br#"{"method":"limit","values":[1]}"#)
        .collect::<String>();
    let offset = url::form_urlencoded::byte_serialize(br#"{"method":"offset","values":[1]}"#)
        .collect::<String>();
    let r = app
        .as_user(
            Method::GET,
            &format!("/v1/account/logs?queries[0]={limit}&queries[1]={offset}"),
            &login,
        )
        .send()
        .await
        .unwrap();
    let page: Value = r.json().await.unwrap();
    assert_eq!(page["total"], 2);
    assert_eq!(page["logs"].as_array().unwrap().len(), 1);
    assert_eq!(page["logs"][0]["event"], "user.create");
    let eq = url::form_urlencoded::byte_serialize(
        br#"{"method":"equal","attribute":"event","values":["x"]}"#,
    )
    .collect::<String>();
    let r = app
        .as_user(
            Method::GET,
            &format!("/v1/account/logs?queries[]={eq}"),
            &login,
        )
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "general_argument_invalid").await;
}
