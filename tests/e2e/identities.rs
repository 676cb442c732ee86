//! `account.listIdentities` and `account.deleteIdentity`. No route creates identities yet
//! (OAuth2 comes later), so tests seed them through the store.

use latchkey::store::IdentityRow;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

async fn seed(app: &TestApp, user: &str, id: &str, provider: &str, created_at: i64) {
    let mut tx = app.state.store.begin().await.unwrap();
    tx.insert_identity(
        PROJECT,
        &IdentityRow {
            id: id.into(),
            user_id: user.into(),
            created_at,
            updated_at: created_at,
            provider: provider.into(),
            provider_uid: format!("{provider}-{id}"),
            provider_email: format!("{id}@example.com"),
            ..IdentityRow::default()
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn list(app: &TestApp, login: &Login, query: &str) -> reqwest::Response {
    app.as_user(
        Method::GET,
        &format!("/v1/account/identities{query}"),
        login,
    )
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn identities_are_listed_filtered_paged_and_counted() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let (_, other) = app.user().await;
    seed(&app, &login.user_id, "i1", "github", 1_000).await;
    seed(&app, &login.user_id, "i2", "google", 2_000).await;
    seed(&app, &login.user_id, "i3", "github", 3_000).await;
    seed(&app, &other.user_id, "i4", "github", 4_000).await;

    let all: Value = list(&app, &login, "").await.json().await.unwrap();
    assert_eq!(all["total"], 3);
    assert_eq!(all["identities"][0]["$id"], "i1");
    assert_eq!(all["identities"][0]["providerAccessTokenExpiry"], "");

    let q = |s: &str| url_escape(s);
    let filtered: Value = list(
        &app,
        &login,
        &format!(
            "?queries[0]={}",
            q(r#"{"method":"equal","attribute":"provider","values":["github"]}"#)
        ),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(filtered["total"], 2);
    let paged: Value = list(
        &app,
        &login,
        &format!(
            "?queries[]={}&queries[]={}&total=False",
            q(r#"{"method":"limit","values":[1]}"#),
            q(r#"{"method":"cursorAfter","values":["i1"]}"#)
        ),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(paged["total"], 0);
    assert_eq!(paged["identities"].as_array().unwrap().len(), 1);
    assert_eq!(paged["identities"][0]["$id"], "i2");
    let desc: Value = list(
        &app,
        &login,
        &format!(
            "?queries[0]={}",
            q(r#"{"method":"orderDesc","attribute":"$createdAt"}"#)
        ),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(desc["identities"][0]["$id"], "i3");
    // 1.4 SDKs send the old string syntax.
    let r = app
        .as_user(
            Method::GET,
            &format!(
                "/v1/account/identities?queries[]={}",
                q(r#"equal("provider", ["google"])"#)
            ),
            &login,
        )
        .header("x-appwrite-response-format", "1.4.0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["total"], 1);
}

#[tokio::test]
async fn datetime_attributes_filter_by_iso_dates() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    seed(&app, &login.user_id, "old", "github", 1_000).await;
    seed(&app, &login.user_id, "new", "github", 1_700_000_000_000).await;
    let q = url_escape(
        r#"{"method":"greaterThan","attribute":"$createdAt","values":["2020-01-01T00:00:00.000+00:00"]}"#,
    );
    let r = list(&app, &login, &format!("?queries[]={q}")).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["total"], 1);
    assert_eq!(body["identities"][0]["$id"], "new");
    let q = url_escape(r#"{"method":"equal","attribute":"$createdAt","values":["yesterday"]}"#);
    assert_error(
        list(&app, &login, &format!("?queries[]={q}")).await,
        400,
        "general_argument_invalid",
    )
    .await;
}

#[tokio::test]
async fn bad_identity_queries_are_400() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let r = list(&app, &login, "?queries[]=not-json").await;
    assert_error(r, 400, "general_argument_invalid").await;
    let r = list(
        &app,
        &login,
        &format!(
            "?queries[]={}",
            url_escape(r#"{"method":"equal","attribute":"secret","values":["x"]}"#)
        ),
    )
    .await;
    assert_error(r, 400, "general_argument_invalid").await;
    let r = list(
        &app,
        &login,
        &format!(
            "?queries[]={}",
            url_escape(r#"{"method":"cursorAfter","values":["missing"]}"#)
        ),
    )
    .await;
    assert_error(r, 400, "general_cursor_not_found").await;
}

#[tokio::test]
async fn deleting_identities_checks_existence_and_ownership() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let (_, other) = app.user().await;
    seed(&app, &login.user_id, "mine", "github", 1).await;
    seed(&app, &other.user_id, "theirs", "github", 2).await;
    let r = app
        .as_user(Method::DELETE, "/v1/account/identities/nope", &login)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "user_identity_not_found").await;
    let r = app
        .as_user(Method::DELETE, "/v1/account/identities/theirs", &login)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_unauthorized").await;
    let r = app
        .as_user(Method::DELETE, "/v1/account/identities/mine", &login)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let all: Value = list(&app, &login, "").await.json().await.unwrap();
    assert_eq!(all["total"], 0);
}

#[tokio::test]
async fn filter_values_must_match_the_attribute_type_and_compare_the_same_everywhere() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    seed(&app, &login.user_id, "lower", "github", 1_000).await;
    seed(&app, &login.user_id, "upper", "GitHub", 2_000).await;
    let query = |q: &str| format!("?queries[]={}", url_escape(q));
    // A number for a string attribute: a 500 on PostgreSQL and 0 rows on SQLite before.
    let r = list(
        &app,
        &login,
        &query(r#"{"method":"equal","attribute":"provider","values":[5]}"#),
    )
    .await;
    let msg = assert_error(r, 400, "general_argument_invalid").await;
    assert_eq!(
        msg,
        "Invalid `queries` param: Invalid query: Query value is invalid for attribute \"provider\""
    );
    // Case-sensitive on both backends (SQLite's LIKE ignored case before).
    let body: Value = list(
        &app,
        &login,
        &query(r#"{"method":"startsWith","attribute":"provider","values":["git"]}"#),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["total"], 1);
    assert_eq!(body["identities"][0]["$id"], "lower");
}

#[tokio::test]
async fn cursors_follow_the_order_the_query_asks_for() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    for (i, id) in ["a", "b", "c", "d"].iter().enumerate() {
        seed(&app, &login.user_id, id, "github", 1_000 * (i as i64 + 1)).await;
    }
    let ids = |body: Value| -> Vec<String> {
        body["identities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["$id"].as_str().unwrap().to_owned())
            .collect()
    };
    let desc = url_escape(r#"{"method":"orderDesc","attribute":"$createdAt"}"#);
    let after_c = url_escape(r#"{"method":"cursorAfter","values":["c"]}"#);
    let before_b = url_escape(r#"{"method":"cursorBefore","values":["b"]}"#);
    let body: Value = list(
        &app,
        &login,
        &format!("?queries[]={desc}&queries[]={after_c}"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(ids(body), ["b", "a"], "after c in descending order");
    let body: Value = list(
        &app,
        &login,
        &format!("?queries[]={desc}&queries[]={before_b}"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["total"], 4);
    assert_eq!(ids(body), ["d", "c"], "before b in descending order");
}
