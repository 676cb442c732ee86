//! The GraphQL API: every operation family run both ways, GraphQL and REST, with the results
//! compared field by field; authentication by cookie, session header, JWT and key; the
//! per-field checks; batches. Hostile documents are in `hostile.rs`.

mod hostile;
mod parity;

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::harness::*;

/// `POST /v1/graphql` with `body` as `caller` builds it; the (always 200) JSON answer.
pub(super) async fn gql(r: reqwest::RequestBuilder, body: Value) -> Value {
    let r = r.json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200, "GraphQL answers 200");
    r.json().await.unwrap()
}

pub(super) fn post(app: &TestApp) -> reqwest::RequestBuilder {
    app.req(Method::POST, "/v1/graphql")
}

pub(super) fn post_as(app: &TestApp, login: &Login) -> reqwest::RequestBuilder {
    app.as_user(Method::POST, "/v1/graphql", login)
}

/// The list keys whose items are objects (an empty one still needs a selection).
const OBJECT_LISTS: &[&str] = &[
    "sessions",
    "identities",
    "logs",
    "users",
    "targets",
    "memberships",
];

/// A selection of every field `rest` has (a REST body), and what GraphQL must answer for it:
/// keys with `$` spelled `_`, prefs as `{ data }`, nested objects and lists likewise.
pub(super) fn selection(rest: &Value) -> (String, Value) {
    let Value::Object(m) = rest else {
        return (String::new(), rest.clone());
    };
    let mut sel = vec![];
    let mut want = Map::new();
    for (k, v) in m {
        let key = k.replace('$', "_");
        match (k.as_str(), v) {
            ("prefs", _) => {
                sel.push("prefs { data }".to_owned());
                want.insert(key, json!({"data": v.to_string()}));
            }
            ("hashOptions", _) => {}
            (_, Value::Object(_)) => {
                let (s, w) = selection(v);
                sel.push(format!("{key} {{ {s} }}"));
                want.insert(key, w);
            }
            (_, Value::Array(items)) if items.is_empty() && OBJECT_LISTS.contains(&k.as_str()) => {
                sel.push(format!("{key} {{ __typename }}"));
                want.insert(key, json!([]));
            }
            (_, Value::Array(items)) if items.first().is_some_and(Value::is_object) => {
                let (s, _) = selection(&items[0]);
                sel.push(format!("{key} {{ {s} }}"));
                let w = items.iter().map(|i| selection(i).1).collect();
                want.insert(key, Value::Array(w));
            }
            _ => {
                sel.push(key.clone());
                want.insert(key, v.clone());
            }
        }
    }
    (sel.join(" "), Value::Object(want))
}

/// Asserts that GraphQL's `got` is REST's `want` from [`selection`]; prefs compared as JSON.
pub(super) fn assert_same(got: &Value, want: &Value, what: &str) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            assert_eq!(
                g.keys().collect::<std::collections::BTreeSet<_>>(),
                w.keys().collect(),
                "{what}: fields"
            );
            for (k, wv) in w {
                if k == "data" {
                    let parse =
                        |v: &Value| serde_json::from_str::<Value>(v.as_str().unwrap()).unwrap();
                    assert_eq!(parse(&g[k]), parse(wv), "{what}.data");
                } else {
                    assert_same(&g[k], wv, &format!("{what}.{k}"));
                }
            }
        }
        (Value::Array(g), Value::Array(w)) => {
            assert_eq!(g.len(), w.len(), "{what}: items");
            for (i, (gv, wv)) in g.iter().zip(w).enumerate() {
                assert_same(gv, wv, &format!("{what}[{i}]"));
            }
        }
        _ => assert_eq!(got, want, "{what}"),
    }
}

/// The one error of a field: its `extensions` carry Appwrite's code and type.
pub(super) fn field_error<'a>(answer: &'a Value, field: &str) -> &'a Value {
    assert_eq!(
        answer["data"][field],
        Value::Null,
        "{field} is null in {answer}"
    );
    let errors = answer["errors"].as_array().expect("errors");
    errors
        .iter()
        .find(|e| e["path"][0] == field)
        .unwrap_or_else(|| panic!("no error for {field} in {answer}"))
}

pub(super) fn assert_field_error(answer: &Value, field: &str, code: u16, ty: &str) {
    let e = field_error(answer, field);
    assert_eq!(e["extensions"]["code"], code, "{e}");
    assert_eq!(e["extensions"]["type"], ty, "{e}");
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
}

#[tokio::test]
async fn every_way_of_authenticating_works_once_per_request() {
    let app = spawn_app().await;
    let (email, login) = app.user().await;
    let q = json!({"query": "{ accountGet { _id email } }"});
    let by_header = gql(post_as(&app, &login), q.clone()).await;
    assert_eq!(by_header["data"]["accountGet"]["email"], email);
    let cookie = format!("a_session_{PROJECT}={}", login.encoded);
    let by_cookie = gql(post(&app).header("cookie", cookie), q.clone()).await;
    assert_eq!(by_cookie["data"]["accountGet"]["_id"], login.user_id);
    let fallback = json!({ format!("a_session_{PROJECT}"): login.encoded }).to_string();
    let by_fallback = gql(post(&app).header("x-fallback-cookies", fallback), q.clone()).await;
    assert_eq!(by_fallback["data"]["accountGet"]["_id"], login.user_id);

    let jwt = gql(
        post_as(&app, &login),
        json!({"query": "mutation { accountCreateJWT { jwt } }"}),
    )
    .await;
    let token = jwt["data"]["accountCreateJWT"]["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    let by_jwt = gql(post(&app).header("x-appwrite-jwt", &token), q.clone()).await;
    assert_eq!(by_jwt["data"]["accountGet"]["email"], email);

    let users = format!("{{ usersGet(userId: \"{}\") {{ email }} }}", login.user_id);
    let by_key = gql(
        app.as_key(Method::POST, "/v1/graphql"),
        json!({ "query": users }),
    )
    .await;
    assert_eq!(by_key["data"]["usersGet"]["email"], email);
    // The Users API is for keys only, as in REST; a guest has no account.
    let as_user = gql(post_as(&app, &login), json!({ "query": users })).await;
    assert_field_error(&as_user, "usersGet", 401, "general_unauthorized_scope");
    let guest = gql(post(&app), q).await;
    assert_field_error(&guest, "accountGet", 401, "general_unauthorized_scope");
    // A bad key fails the whole request, as it fails any REST request.
    let r = app
        .req(Method::POST, "/v1/graphql")
        .header("x-appwrite-key", "nope")
        .json(&json!({"query": "{ accountGet { _id } }"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_unauthorized").await;
}

#[tokio::test]
async fn the_sdks_wrapped_form_get_and_application_graphql_are_read() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let q = "query S($id: String!) { accountGetSession(sessionId: $id) { userId } }";
    let wrapped = json!({"query": {"query": q, "variables": {"id": "current"}}});
    let a = gql(
        post_as(&app, &login).header("x-sdk-graphql", "true"),
        wrapped,
    )
    .await;
    assert_eq!(
        a["data"]["accountGetSession"]["userId"], login.user_id,
        "{a}"
    );
    let r = app
        .as_user(Method::GET, "/v1/graphql", &login)
        .query(&[("query", "{ accountGet { _id } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["data"]["accountGet"]["_id"],
        login.user_id
    );
    let r = app
        .as_user(Method::POST, "/v1/graphql/mutation", &login)
        .header("content-type", "application/graphql")
        .body("mutation { accountUpdateName(name: \"Raw\") { name } }")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["data"]["accountUpdateName"]["name"],
        "Raw"
    );
    // A GET can be made by any page (an image tag), so it may not change anything.
    let r = app
        .as_user(Method::GET, "/v1/graphql", &login)
        .query(&[("query", "mutation { accountDelete { status } }")])
        .send()
        .await
        .unwrap();
    let a: Value = r.json().await.unwrap();
    assert!(
        a["errors"][0]["message"].as_str().unwrap().contains("POST"),
        "{a}"
    );
    assert_eq!(
        app.account(&login).await["$id"],
        login.user_id,
        "still there"
    );
}

#[tokio::test]
async fn a_batch_is_answered_in_order_and_sees_earlier_changes() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let batch = json!([
        {"query": "{ accountGet { name } }"},
        {"query": "mutation { accountUpdateName(name: \"Second\") { name } }"},
        {"query": "{ accountGet { name } }"},
        {"query": "mutation { accountDeleteSession(sessionId: \"current\") { status } }"},
        {"query": "{ accountGet { name } }"},
    ]);
    let a = gql(post_as(&app, &login), batch).await;
    let a = a.as_array().expect("a batch answers an array");
    assert_eq!(a.len(), 5);
    assert_eq!(a[0]["data"]["accountGet"]["name"], "Test User");
    assert_eq!(a[2]["data"]["accountGet"]["name"], "Second");
    assert_eq!(a[3]["data"]["accountDeleteSession"]["status"], "OK");
    // The session ended mid-request: the rest of the request is a guest's.
    assert_field_error(&a[4], "accountGet", 401, "general_unauthorized_scope");
}

#[tokio::test]
async fn a_session_created_in_a_request_is_used_by_the_fields_after_it() {
    let app = spawn_app().await;
    let email = unique_email();
    let sign_up = format!(
        "mutation {{ accountCreate(userId: \"unique()\", email: \"{email}\", password: \"{PASSWORD}\") {{ _id }} }}"
    );
    let sign_in = format!(
        "mutation {{ accountCreateEmailPasswordSession(email: \"{email}\", password: \"{PASSWORD}\") {{ _id userId }} }}"
    );
    let batch = json!([
        {"query": sign_up},
        {"query": "{ accountGet { _id } }"},
        {"query": sign_in},
        {"query": "{ accountGet { _id email } }"},
        {"query": "mutation { accountDeleteSession(sessionId: \"current\") { status } }"},
        {"query": "{ accountGet { _id } }"},
    ]);
    let a = gql(post(&app), batch).await;
    let a = a.as_array().unwrap();
    let user_id = &a[0]["data"]["accountCreate"]["_id"];
    assert!(user_id.is_string(), "{}", a[0]);
    assert_field_error(&a[1], "accountGet", 401, "general_unauthorized_scope");
    assert_eq!(
        &a[2]["data"]["accountCreateEmailPasswordSession"]["userId"],
        user_id
    );
    assert_eq!(&a[3]["data"]["accountGet"]["_id"], user_id, "{}", a[3]);
    assert_eq!(a[3]["data"]["accountGet"]["email"], email.as_str());
    assert_eq!(a[4]["data"]["accountDeleteSession"]["status"], "OK");
    assert_field_error(&a[5], "accountGet", 401, "general_unauthorized_scope");
}

#[tokio::test]
async fn each_field_passes_its_own_routes_switch_and_rate_limit() {
    let app = spawn_with(with_project(|p| p.auth.methods.email_password = false)).await;
    let q = json!({"query": "mutation { accountCreateEmailPasswordSession(email: \"a@b.co\", password: \"12345678\") { _id } }"});
    let a = gql(post(&app), q).await;
    assert_field_error(
        &a,
        "accountCreateEmailPasswordSession",
        501,
        "user_auth_method_unsupported",
    );

    let app = spawn_app().await;
    let email = unique_email();
    app.signup(&email).await;
    // Ten failures per email an hour (REST's limit and REST's counters), then 429.
    let fields: String = (0..11)
        .map(|i| format!("a{i}: accountCreateEmailPasswordSession(email: \"{email}\", password: \"wrong-password\") {{ _id }} "))
        .collect();
    let a = gql(
        post(&app),
        json!({ "query": format!("mutation {{ {fields} }}") }),
    )
    .await;
    for i in 0..10 {
        assert_field_error(&a, &format!("a{i}"), 401, "user_invalid_credentials");
    }
    assert_field_error(&a, "a10", 429, "general_rate_limit_exceeded");
    let r = app
        .req(Method::POST, "/v1/account/sessions/email")
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(r, 429, "general_rate_limit_exceeded").await;
}

#[tokio::test]
async fn the_mfa_gate_holds_per_field() {
    let app = spawn_app().await;
    let (email, first) = app.user().await;
    crate::mfa::add_totp(&app, &first).await;
    crate::mfa::set_mfa(&app, &first, true).await;
    let second = app.login(&email, PASSWORD).await;
    let q = json!({"query": "{ accountGet { _id } accountListMfaFactors { totp } }"});
    let a = gql(post_as(&app, &second), q).await;
    assert_field_error(&a, "accountGet", 401, "user_more_factors_required");
    assert_eq!(a["data"]["accountListMfaFactors"]["totp"], true, "{a}");
}

#[tokio::test]
async fn a_session_made_through_graphql_sets_the_cookies_rest_sets() {
    let app = spawn_app().await;
    let email = unique_email();
    app.signup(&email).await;
    let q = format!(
        "mutation {{ accountCreateEmailPasswordSession(email: \"{email}\", password: \"{PASSWORD}\") {{ _id userId secret }} }}"
    );
    let r = post(&app)
        .json(&json!({ "query": q }))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(r.headers().contains_key("x-fallback-cookies"));
    let a: Value = r.json().await.unwrap();
    assert_eq!(
        a["data"]["accountCreateEmailPasswordSession"]["secret"], "",
        "no secret without a key"
    );
    let name = format!("a_session_{PROJECT}=");
    let cookie = cookies
        .iter()
        .find(|c| c.starts_with(&name))
        .expect("session cookie");
    let value = cookie.split(';').next().unwrap();
    let me = gql(
        post(&app).header("cookie", value),
        json!({"query": "{ accountGet { email } }"}),
    )
    .await;
    assert_eq!(me["data"]["accountGet"]["email"], email);
}

#[tokio::test]
async fn the_schema_is_served_as_sdl_and_by_introspection() {
    let app = spawn_app().await;
    let r = app
        .req(Method::GET, "/v1/graphql/schema")
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
    let sdl = r.text().await.unwrap();
    assert!(
        sdl.contains("accountCreateRecovery(email: String!, url: String!): Token"),
        "{sdl}"
    );
    let a = gql(post(&app), json!({"query": INTROSPECTION})).await;
    assert!(a.get("errors").is_none(), "{a}");
    let types = a["data"]["__schema"]["types"].as_array().unwrap();
    let user = types
        .iter()
        .find(|t| t["name"] == "User")
        .expect("User type");
    assert!(
        user["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "_id")
    );
}

/// The introspection query GraphiQL and codegen tools send (graphql-js
/// `getIntrospectionQuery()`).
pub(super) const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}
"#;
