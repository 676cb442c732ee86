//! `users.list` queries and search as one table of cases. CI runs the e2e suite on SQLite
//! (FTS5) and on PostgreSQL (`tsvector`), so every case must give the same ids on both.

use reqwest::Method;
use serde_json::{Value, json};

use super::create_user;
use crate::harness::*;

/// The users every case lists, created in this order (so `$createdAt` ties break by id).
async fn population(app: &TestApp) {
    for (id, email, phone, name, labels) in [
        (
            "u1",
            Some("ann.lee@example.com"),
            Some("+16505550101"),
            "Ann Lee",
            &["vip"][..],
        ),
        (
            "u2",
            Some("annika@corp.io"),
            None,
            "Annika Berg",
            &["beta", "vip"],
        ),
        (
            "u3",
            Some("joanne@example.com"),
            Some("+442071234567"),
            "Joanne Annson",
            &[],
        ),
        ("u4", None, Some("+16505550199"), "Bob Stone", &["beta"]),
        ("u5", Some("zoe@example.org"), None, "Zoë Ångström", &[]),
        ("u6", Some("carl+tag@mail.example.com"), None, "", &[]),
    ] {
        let mut body = json!({"userId": id, "name": name});
        if let Some(e) = email {
            body["email"] = json!(e);
        }
        if let Some(p) = phone {
            body["phone"] = json!(p);
        }
        create_user(app, body).await;
        if !labels.is_empty() {
            let r = app
                .as_key(Method::PUT, &format!("/v1/users/{id}/labels"))
                .json(&json!({"labels": labels}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
        app.clock.advance(1_000);
    }
    let r = app
        .as_key(Method::PATCH, "/v1/users/u4/status")
        .json(&json!({"status": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

fn q(method: &str, attribute: &str, values: Value) -> String {
    json!({"method": method, "attribute": attribute, "values": values}).to_string()
}

/// The path of a list with these queries and search.
fn path(queries: &[String], search: &str) -> String {
    let mut p = String::from("/v1/users?");
    for query in queries {
        p.push_str(&format!("queries[]={}&", url_escape(query)));
    }
    if !search.is_empty() {
        p.push_str(&format!("search={}", url_escape(search)));
    }
    p
}

/// A case: its name, the queries, the search, the ids expected in order, and the total.
type Case = (
    &'static str,
    Vec<String>,
    &'static str,
    &'static [&'static str],
    i64,
);

#[tokio::test]
async fn queries_and_search_select_the_same_users_on_both_backends() {
    let app = spawn_app().await;
    population(&app).await;
    let cases: Vec<Case> = vec![
        (
            "everyone, oldest first",
            vec![],
            "",
            &["u1", "u2", "u3", "u4", "u5", "u6"],
            6,
        ),
        (
            "a word prefix, not a substring",
            vec![],
            "ann",
            &["u1", "u2", "u3"],
            3,
        ),
        (
            "case does not matter",
            vec![],
            "ANN",
            &["u1", "u2", "u3"],
            3,
        ),
        ("every word must match", vec![], "ann lee", &["u1"], 1),
        (
            "words of an email",
            vec![],
            "example com",
            &["u1", "u3", "u6"],
            3,
        ),
        (
            "a phone number's digits",
            vec![],
            "+1650555",
            &["u1", "u4"],
            1 + 1,
        ),
        ("an id", vec![], "u5", &["u5"], 1),
        ("letters beyond ASCII", vec![], "ångström", &["u5"], 1),
        ("punctuation only finds nothing", vec![], "@@", &[], 0),
        ("no such word", vec![], "nobody", &[], 0),
        (
            "search and a filter",
            vec![q("equal", "status", json!([true]))],
            "1650",
            &["u1"],
            1,
        ),
        (
            "equal, any of",
            vec![q("equal", "name", json!(["Ann Lee", "Bob Stone"]))],
            "",
            &["u1", "u4"],
            2,
        ),
        (
            "notEqual",
            vec![q("notEqual", "status", json!([true]))],
            "",
            &["u4"],
            1,
        ),
        (
            "labels contain one of",
            vec![q("equal", "labels", json!(["vip"]))],
            "",
            &["u1", "u2"],
            2,
        ),
        (
            "labels, either",
            vec![q("equal", "labels", json!(["beta", "nope"]))],
            "",
            &["u2", "u4"],
            2,
        ),
        (
            "startsWith",
            vec![q("startsWith", "email", json!(["ann"]))],
            "",
            &["u1", "u2"],
            2,
        ),
        (
            "endsWith",
            vec![q("endsWith", "email", json!([".org"]))],
            "",
            &["u5"],
            1,
        ),
        (
            "isNull",
            vec![q("isNull", "phone", json!([]))],
            "",
            &["u2", "u5", "u6"],
            3,
        ),
        (
            "isNotNull",
            vec![q("isNotNull", "email", json!([]))],
            "",
            &["u1", "u2", "u3", "u5", "u6"],
            5,
        ),
        (
            "order by name, descending",
            vec![json!({"method": "orderDesc", "attribute": "name"}).to_string()],
            "",
            &["u5", "u3", "u4", "u2", "u1", "u6"],
            6,
        ),
        (
            "limit and offset",
            vec![
                json!({"method": "limit", "values": [2]}).to_string(),
                json!({"method": "offset", "values": [1]}).to_string(),
            ],
            "",
            &["u2", "u3"],
            6,
        ),
        (
            "cursorAfter",
            vec![json!({"method": "cursorAfter", "values": ["u4"]}).to_string()],
            "",
            &["u5", "u6"],
            6,
        ),
        (
            "cursorBefore with a limit",
            vec![
                json!({"method": "cursorBefore", "values": ["u4"]}).to_string(),
                json!({"method": "limit", "values": [2]}).to_string(),
            ],
            "",
            &["u2", "u3"],
            6,
        ),
    ];
    for (name, queries, search, ids, total) in cases {
        let r = app
            .as_key(Method::GET, &path(&queries, search))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{name}");
        let body: Value = r.json().await.unwrap();
        let got: Vec<&str> = body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["$id"].as_str().unwrap())
            .collect();
        assert_eq!(got, ids, "{name}");
        assert_eq!(body["total"], total, "{name}");
    }
    // `total=false` skips the count.
    let r = app
        .as_key(Method::GET, "/v1/users?total=false")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["total"], 0);
}

#[tokio::test]
async fn bad_queries_are_400s_with_appwrites_messages() {
    let app = spawn_app().await;
    population(&app).await;
    for (query, message) in [
        (
            q("equal", "password", json!(["x"])),
            "Attribute not found in schema: password",
        ),
        (
            q("startsWith", "labels", json!(["v"])),
            "because it is an array",
        ),
        (
            q("equal", "labels", json!(["not a label"])),
            "Query value is invalid",
        ),
        (
            json!({"method": "cursorAfter", "values": ["gone"]}).to_string(),
            "User 'gone' for the 'cursor' value not found.",
        ),
    ] {
        let r = app
            .as_key(Method::GET, &path(&[query], ""))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 400, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains(message),
            "{body}"
        );
    }
    let long = "a".repeat(257);
    let r = app
        .as_key(Method::GET, &path(&[], &long))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "general_argument_invalid").await;
}
