//! Hostile GraphQL: deep nesting, complexity by aliases, fragment bombs, huge batches,
//! introspection that would multiply, unknown fields, bad variables and syntax. Every answer
//! is Appwrite-shaped, none is a 5xx, and nothing runs that the limits refuse.

use reqwest::Method;
use serde_json::{Value, json};

use super::*;
use crate::harness::*;

fn messages(a: &Value) -> Vec<String> {
    a["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("errors in {a}"))
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn depth_and_complexity_are_refused_with_appwrites_messages_before_anything_runs() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let deep = "{ accountGet { _id } __schema { types { fields { type { ofType { name } } } } } }";
    let a = gql(post_as(&app, &login), json!({ "query": deep })).await;
    assert_eq!(messages(&a), vec!["Max query depth should be 3 but got 4."]);
    assert!(a.get("data").is_none(), "{a}");

    // Aliases multiply a field; each costs what it selects.
    let fields: String = (0..130)
        .map(|i| format!("a{i}: accountUpdateName(name: \"n{i}\") {{ _id }} "))
        .collect();
    let a = gql(
        post_as(&app, &login),
        json!({ "query": format!("mutation {{ {fields} }}") }),
    )
    .await;
    assert_eq!(
        messages(&a),
        vec!["Max query complexity should be 250 but got 260."]
    );
    assert_eq!(
        app.account(&login).await["name"],
        "Test User",
        "nothing ran"
    );

    // A fragment bomb: 2^40 fields if expanded.
    let mut q = String::from("{ accountGet { ...F0 } }");
    for i in 0..40 {
        q.push_str(&format!(
            " fragment F{i} on User {{ ...F{} ...F{} }}",
            i + 1,
            i + 1
        ));
    }
    q.push_str(" fragment F40 on User { _id }");
    let a = gql(post_as(&app, &login), json!({ "query": q })).await;
    assert!(
        messages(&a)[0].starts_with("Max query complexity should be 250"),
        "{a}"
    );
}

#[tokio::test]
async fn batches_are_bounded_and_empty_requests_refused() {
    let app = spawn_app().await;
    let eleven: Vec<Value> = (0..11)
        .map(|_| json!({"query": "{ accountGet { _id } }"}))
        .collect();
    let r = post(&app).json(&eleven).send().await.unwrap();
    let msg = assert_error(r, 400, "graphql_too_many_queries").await;
    assert_eq!(msg, "Too many queries.");
    for body in [
        json!({}),
        json!([]),
        json!({"query": ""}),
        json!([{"query": "{ a }"}, {}]),
    ] {
        let r = post(&app).json(&body).send().await.unwrap();
        let msg = assert_error(r, 400, "graphql_no_query").await;
        assert_eq!(msg, "Param \"query\" is not optional.");
    }
    let r = app.req(Method::GET, "/v1/graphql").send().await.unwrap();
    assert_error(r, 400, "graphql_no_query").await;
}

#[tokio::test]
async fn unknown_fields_bad_variables_and_bad_syntax_are_graphql_errors() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let a = gql(
        post_as(&app, &login),
        json!({"query": "{ accountGet { secretSauce } }"}),
    )
    .await;
    assert!(messages(&a)[0].contains("Unknown field"), "{a}");
    let a = gql(
        post_as(&app, &login),
        json!({"query": "{ accountSteal { _id } }"}),
    )
    .await;
    assert!(messages(&a)[0].contains("Unknown field"), "{a}");
    let q = "mutation N($n: String!) { accountUpdateName(name: $n) { name } }";
    let a = gql(
        post_as(&app, &login),
        json!({"query": q, "variables": {"n": 5}}),
    )
    .await;
    assert_eq!(
        messages(&a),
        vec!["Invalid value for argument \"name\", expected type \"String\""]
    );
    assert!(a["data"].is_null(), "{a}");
    let a = gql(post_as(&app, &login), json!({"query": q})).await;
    assert_eq!(
        messages(&a),
        vec!["Variable n is not defined."],
        "a missing variable"
    );
    let r = post_as(&app, &login)
        .json(&json!({"query": q, "variables": "{not json"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "general_argument_invalid").await;
    let a = gql(
        post_as(&app, &login),
        json!({"query": "{ accountGet { _id "}),
    )
    .await;
    assert!(messages(&a)[0].contains("expected selection_set"), "{a}");
    assert_eq!(a["errors"][0]["locations"][0]["column"], 20, "{a}");
    assert_eq!(app.account(&login).await["name"], "Test User");
    // Wrong argument types are refused by the schema, before the route.
    let a = gql(
        post_as(&app, &login),
        json!({"query": "mutation { accountUpdateName(name: 7) { name } }"}),
    )
    .await;
    assert_eq!(
        messages(&a),
        vec!["Invalid value for argument \"name\", expected type \"String\""]
    );
    assert_eq!(app.account(&login).await["name"], "Test User");
}

#[tokio::test]
async fn introspection_cannot_be_made_to_multiply() {
    let app = spawn_app().await;
    let walk = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
    let a = gql(post(&app), json!({ "query": walk })).await;
    assert_eq!(
        messages(&a),
        vec!["Introspection may nest at most 3 lists but got 4."]
    );
    let aliased: String = (0..50)
        .map(|i| format!("t{i}: __schema {{ types {{ name }} }} "))
        .collect();
    let a = gql(post(&app), json!({ "query": format!("{{ {aliased} }}") })).await;
    assert_eq!(
        messages(&a),
        vec!["Introspection fields cannot have aliases."]
    );
    // The worst a permitted introspection document can ask for stays small.
    let widest = "{ __schema { types { name fields { name type { name kind ofType { name kind } } args { name type { name } } } } } }";
    let r = post(&app)
        .json(&json!({ "query": widest }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.bytes().await.unwrap();
    assert!(body.len() < 2_000_000, "{} bytes", body.len());
    let a: Value = serde_json::from_slice(&body).unwrap();
    assert!(a.get("errors").is_none(), "{a}");
}

#[tokio::test]
async fn spread_chains_cost_their_walk_even_without_fields() {
    let app = spawn_app().await;
    // 2^40 spreads if expanded, at the root, ending in a field, in nothing, or in a fragment
    // that does not exist: each is refused at once, and the server still answers after.
    for last in [
        "fragment F40 on Query { __typename }",
        "fragment F40 on Query { ...Missing }",
        "",
    ] {
        let mut q = String::from("{ ...F0 }");
        for i in 0..40 {
            q.push_str(&format!(
                " fragment F{i} on Query {{ ...F{0} ...F{0} }}",
                i + 1
            ));
        }
        q.push_str(last);
        let a = gql(post(&app), json!({ "query": q })).await;
        assert_eq!(
            messages(&a),
            vec!["Max query complexity should be 500 but got 10000."],
            "{last:?}"
        );
        assert!(a.get("data").is_none(), "{a}");
    }
    let a = gql(post(&app), json!({ "query": "{ __typename }" })).await;
    assert_eq!(a["data"]["__typename"], "Query");
}

#[tokio::test]
async fn introspection_bounds_hold_beside_ordinary_fields() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let aliased: String = (0..20)
        .map(|i| format!("t{i}: __type(name: \"User\") {{ name }} "))
        .collect();
    let q = format!("{{ accountGet {{ _id }} {aliased} }}");
    let a = gql(post_as(&app, &login), json!({ "query": q })).await;
    assert_eq!(
        messages(&a),
        vec!["Introspection fields cannot have aliases."]
    );
    let q = "{ accountGet { _id } __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
    let a = gql(post_as(&app, &login), json!({ "query": q })).await;
    assert!(
        messages(&a).contains(&"Introspection may nest at most 3 lists but got 4.".to_owned()),
        "{a}"
    );
}

#[tokio::test]
async fn brackets_nested_past_the_bound_are_refused_before_parsing() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    for q in [
        format!(
            "{{ accountUpdateName(name: {}\"x\"{}) {{ _id }} }}",
            "[".repeat(50_000),
            "]".repeat(50_000)
        ),
        format!("{}{}", "{ a ".repeat(10_000), "}".repeat(10_000)),
        // A block string with a lone quote must not hide what follows it.
        format!(
            "{{ accountUpdateName(name: \"\"\" \" \"\"\", x: {}1{}) {{ _id }} }}",
            "[".repeat(3000),
            "]".repeat(3000)
        ),
    ] {
        let a = gql(post_as(&app, &login), json!({ "query": q })).await;
        assert_eq!(messages(&a), vec!["Brackets may nest at most 64 deep."]);
    }
    assert_eq!(app.account(&login).await["name"], "Test User");
}

#[tokio::test]
async fn aliases_and_batches_cannot_list_more_rows_than_one_page() {
    let app = spawn_app().await;
    for i in 0..10 {
        let r = app
            .as_key(Method::POST, "/v1/users")
            .json(&json!({"userId": format!("row{i}"), "email": format!("row{i}@example.com")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    // 10 requests × 60 aliases × 10 users = 6000 rows asked for; one page is 5000.
    let fields: String = (0..60)
        .map(|i| format!("l{i}: usersList(queries: [$limit]) {{ users {{ _id }} }} "))
        .collect();
    let batch: Vec<Value> = (0..10)
        .map(|_| {
            json!({
                "query": format!("query($limit: String!) {{ {fields} }}"),
                "variables": {"limit": r#"{"method":"limit","values":[5000]}"#},
            })
        })
        .collect();
    let a = gql(app.as_key(Method::POST, "/v1/graphql"), json!(batch)).await;
    let mut rows = 0;
    let mut refused = 0;
    for item in a.as_array().unwrap() {
        for i in 0..60 {
            let field = format!("l{i}");
            match item["data"][&field]["users"].as_array() {
                Some(users) => rows += users.len(),
                None => {
                    assert_field_error(item, &field, 400, "general_argument_invalid");
                    refused += 1;
                }
            }
        }
    }
    assert_eq!(rows, 5000, "exactly one page answered");
    assert_eq!(refused, 100, "the rest refused, field by field");
}
