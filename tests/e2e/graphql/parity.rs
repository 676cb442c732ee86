//! Each operation family through GraphQL and through REST: reads compared with the REST
//! answer for the same record, writes compared with the REST read that follows them.

use reqwest::Method;
use serde_json::{Value, json};

use super::*;
use crate::delivery::MailSink;
use crate::harness::*;

/// REST `GET path` as `r` builds it; the body.
async fn rest(r: reqwest::RequestBuilder) -> Value {
    let r = r.send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.unwrap()
}

/// Runs `field` (with `args`) selecting every field of `like`, and asserts the answer is
/// `like` as GraphQL spells it.
async fn same_as(
    r: reqwest::RequestBuilder,
    op: &str,
    field: &str,
    args: &str,
    like: &Value,
) -> Value {
    let (sel, want) = selection(like);
    let q = format!("{op} {{ {field}{args} {{ {sel} }} }}");
    let a = gql(r, json!({ "query": q })).await;
    assert!(a.get("errors").is_none(), "{q}: {a}");
    assert_same(&a["data"][field], &want, field);
    a["data"][field].clone()
}

/// The same fields, whatever the values (two different records of one model).
fn assert_same_fields(got: &Value, like: &Value) {
    let (_, want) = selection(like);
    let keys = |v: &Value| v.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>());
    let mut g = keys(got).unwrap();
    let mut w = keys(&want).unwrap();
    g.sort();
    w.sort();
    assert_eq!(g, w);
}

#[tokio::test]
async fn account_reads_match_rest() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let account = app.account(&login).await;
    same_as(post_as(&app, &login), "query", "accountGet", "", &account).await;
    let sessions = rest(app.as_user(Method::GET, "/v1/account/sessions", &login)).await;
    same_as(
        post_as(&app, &login),
        "query",
        "accountListSessions",
        "",
        &sessions,
    )
    .await;
    let current = rest(app.as_user(Method::GET, "/v1/account/sessions/current", &login)).await;
    let args = "(sessionId: \"current\")";
    same_as(
        post_as(&app, &login),
        "query",
        "accountGetSession",
        args,
        &current,
    )
    .await;
    let logs = rest(app.as_user(Method::GET, "/v1/account/logs", &login)).await;
    same_as(post_as(&app, &login), "query", "accountListLogs", "", &logs).await;
    // Queries pass through: one log a page, and the same page as REST's.
    let limit = r#"{"method":"limit","values":[1]}"#;
    let one_page = rest(
        app.as_user(Method::GET, "/v1/account/logs", &login)
            .query(&[("queries[]", limit)]),
    )
    .await;
    assert_eq!(one_page["logs"].as_array().unwrap().len(), 1);
    let args = format!("(queries: [{}])", serde_json::to_string(limit).unwrap());
    same_as(
        post_as(&app, &login),
        "query",
        "accountListLogs",
        &args,
        &one_page,
    )
    .await;
    let identities = rest(app.as_user(Method::GET, "/v1/account/identities", &login)).await;
    same_as(
        post_as(&app, &login),
        "query",
        "accountListIdentities",
        "",
        &identities,
    )
    .await;
    let factors = rest(app.as_user(Method::GET, "/v1/account/mfa/factors", &login)).await;
    same_as(
        post_as(&app, &login),
        "query",
        "accountListMfaFactors",
        "",
        &factors,
    )
    .await;
    let a = gql(
        post_as(&app, &login),
        json!({"query": "{ accountGetPrefs { data } }"}),
    )
    .await;
    assert_eq!(a["data"]["accountGetPrefs"]["data"], "{}");
}

#[tokio::test]
async fn account_writes_match_the_rest_read_that_follows() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let m = "mutation";
    let like = app.account(&login).await;
    let (sel, _) = selection(&like);
    let q = format!("{m} {{ accountUpdateName(name: \"Renamed\") {{ {sel} }} }}");
    let a = gql(post_as(&app, &login), json!({ "query": q })).await;
    let after = app.account(&login).await;
    assert_eq!(after["name"], "Renamed");
    assert_same(
        &a["data"]["accountUpdateName"],
        &selection(&after).1,
        "updateName",
    );

    // Prefs as an object literal and as a JSON string (Appwrite's Assoc takes both).
    let q = format!(
        "{m} {{ accountUpdatePrefs(prefs: {{theme: \"dark\", n: 2}}) {{ prefs {{ data }} }} }}"
    );
    let a = gql(post_as(&app, &login), json!({ "query": q })).await;
    let data: Value = serde_json::from_str(
        a["data"]["accountUpdatePrefs"]["prefs"]["data"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(data, json!({"theme": "dark", "n": 2}));
    let q = "mutation Prefs($p: Assoc!) { accountUpdatePrefs(prefs: $p) { _id } }";
    let a = gql(
        post_as(&app, &login),
        json!({"query": q, "variables": {"p": "{\"lang\":\"de\"}"}}),
    )
    .await;
    assert!(a.get("errors").is_none(), "{a}");
    let prefs = rest(app.as_user(Method::GET, "/v1/account/prefs", &login)).await;
    assert_eq!(prefs, json!({"lang": "de"}));

    let q = "mutation { accountCreatePushTarget(targetId: \"unique()\", identifier: \"fcm-token-1\") { _id identifier providerType } }";
    let a = gql(post_as(&app, &login), json!({ "query": q })).await;
    let target = &a["data"]["accountCreatePushTarget"];
    assert_eq!(target["providerType"], "push", "{a}");
    let account = app.account(&login).await;
    assert_eq!(
        account["targets"].as_array().unwrap().len(),
        2,
        "email and push targets"
    );

    // Bad params fail with REST's error, in that field only.
    let q = "mutation { a: accountUpdateName(name: \"\") { name } b: accountUpdateEmail(email: \"not-an-email\", password: \"x\") { email } }";
    let a = gql(post_as(&app, &login), json!({ "query": q })).await;
    assert_field_error(&a, "a", 400, "general_argument_invalid");
    assert_field_error(&a, "b", 400, "general_argument_invalid");

    let q = "mutation { accountDelete { status } }";
    let a = gql(post_as(&app, &login), json!({ "query": q })).await;
    assert_eq!(a["data"]["accountDelete"]["status"], "OK");
    let r = app
        .as_user(Method::GET, "/v1/account", &login)
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "general_unauthorized_scope").await;
}

#[tokio::test]
async fn guest_sessions_and_tokens_match_rest() {
    let sink = MailSink::start().await;
    let app = spawn_with(sink.configure()).await;
    let rest_session = rest(app.req(Method::POST, "/v1/account/sessions/anonymous")).await;
    let q = "mutation { accountCreateAnonymousSession { _id userId provider factors current } }";
    let a = gql(post(&app), json!({ "query": q })).await;
    let s = &a["data"]["accountCreateAnonymousSession"];
    assert_eq!(
        (&s["provider"], &s["current"]),
        (&rest_session["provider"], &json!(true))
    );
    assert_eq!(s["factors"], rest_session["factors"]);

    let email = unique_email();
    app.signup(&email).await;
    let rest_token = rest(
        app.req(Method::POST, "/v1/account/recovery")
            .json(&json!({"email": email, "url": "https://app.example.com/reset"})),
    )
    .await;
    sink.wait_for(&email).await;
    let (sel, _) = selection(&rest_token);
    let q = format!(
        "mutation {{ accountCreateRecovery(email: \"{email}\", url: \"https://app.example.com/reset\") {{ {sel} }} }}"
    );
    let a = gql(post(&app), json!({ "query": q })).await;
    let token = &a["data"]["accountCreateRecovery"];
    assert_same_fields(token, &rest_token);
    assert_eq!(
        (&token["userId"], &token["secret"]),
        (&rest_token["userId"], &json!(""))
    );
    // The redirect host is checked as in REST.
    let q = format!(
        "mutation {{ accountCreateRecovery(email: \"{email}\", url: \"https://evil.example.net/\") {{ _id }} }}"
    );
    let a = gql(post(&app), json!({ "query": q })).await;
    assert_field_error(&a, "accountCreateRecovery", 400, "general_argument_invalid");

    let q = format!(
        "mutation {{ accountCreateEmailToken(userId: \"unique()\", email: \"{email}\", phrase: true) {{ userId phrase }} }}"
    );
    let a = gql(post(&app), json!({ "query": q })).await;
    let t = &a["data"]["accountCreateEmailToken"];
    assert_eq!(t["userId"], rest_token["userId"], "{a}");
    assert!(t["phrase"].as_str().is_some_and(|p| !p.is_empty()), "{a}");
}

#[tokio::test]
async fn users_operations_match_rest_for_a_key() {
    let app = spawn_app().await;
    let key = || app.as_key(Method::POST, "/v1/graphql");
    let created = rest(
        app.as_key(Method::POST, "/v1/users/argon2")
            .json(&json!({"userId": "argo", "email": "argo@example.com",
                "password": "$argon2id$v=19$m=65536,t=4,p=3$oFSrjXQ91jpoxrHG9XYfeg$WvBzODSr8XQgpGMf/faIq4ZkC3bIgSPIW03Dlzv1XDc"})),
    )
    .await;
    assert_eq!(created["$id"], "argo");
    let user = rest(app.as_key(Method::GET, "/v1/users/argo")).await;
    same_as(key(), "query", "usersGet", "(userId: \"argo\")", &user).await;
    let q = "{ usersGet(userId: \"argo\") { hash hashOptions { __typename ... on AlgoArgon2 { type memoryCost timeCost threads } } } }";
    let a = gql(key(), json!({ "query": q })).await;
    let h = &a["data"]["usersGet"];
    assert_eq!(h["hash"], "argon2");
    assert_eq!(h["hashOptions"]["__typename"], "AlgoArgon2", "{a}");
    assert_eq!(
        h["hashOptions"]["memoryCost"],
        user["hashOptions"]["memoryCost"]
    );

    let list = rest(app.as_key(Method::GET, "/v1/users")).await;
    same_as(key(), "query", "usersList", "", &list).await;
    let q = "mutation { usersUpdateStatus(userId: \"argo\", status: false) { status } usersUpdateLabels(userId: \"argo\", labels: [\"vip\"]) { labels } }";
    let a = gql(key(), json!({ "query": q })).await;
    assert_eq!(a["data"]["usersUpdateStatus"]["status"], false, "{a}");
    assert_eq!(a["data"]["usersUpdateLabels"]["labels"], json!(["vip"]));
    let after = rest(app.as_key(Method::GET, "/v1/users/argo")).await;
    assert_eq!(
        (&after["status"], &after["labels"]),
        (&json!(false), &json!(["vip"]))
    );
    let prefs =
        "mutation { usersUpdatePrefs(userId: \"argo\", prefs: \"{\\\"a\\\":1}\") { data } }";
    let a = gql(key(), json!({ "query": prefs })).await;
    assert_eq!(a["data"]["usersUpdatePrefs"]["data"], "{\"a\":1}", "{a}");
    let memberships = "{ usersListMemberships(userId: \"argo\") { total memberships { _id } } }";
    let a = gql(key(), json!({ "query": memberships })).await;
    assert_eq!(
        a["data"]["usersListMemberships"],
        json!({"total": 0, "memberships": []})
    );
    let missing = "{ usersGet(userId: \"nobody\") { _id } }";
    let a = gql(key(), json!({ "query": missing })).await;
    assert_field_error(&a, "usersGet", 404, "user_not_found");
    let a = gql(
        key(),
        json!({"query": "mutation { usersDelete(userId: \"argo\") { status } }"}),
    )
    .await;
    assert_eq!(a["data"]["usersDelete"]["status"], "OK");
    let r = app
        .as_key(Method::GET, "/v1/users/argo")
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "user_not_found").await;
}
