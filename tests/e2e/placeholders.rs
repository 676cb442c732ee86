//! 2.x Account routes of things latchkey does not have: consents and memberships.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

#[tokio::test]
async fn consents_and_memberships_are_empty_lists_and_a_named_consent_is_not_found() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    for (path, key) in [
        ("/v1/account/consents", "consents"),
        ("/v1/account/memberships", "memberships"),
    ] {
        let r = app.as_user(Method::GET, path, &login).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let mut expected = serde_json::Map::new();
        expected.insert("total".into(), json!(0));
        expected.insert(key.into(), json!([]));
        assert_eq!(r.json::<Value>().await.unwrap(), Value::Object(expected));
        // Guests are refused as on every account route.
        let r = app.req(Method::GET, path).send().await.unwrap();
        assert_error(r, 401, "general_unauthorized_scope").await;
    }
    for (method, path) in [
        (Method::GET, "/v1/account/consents/c1"),
        (Method::DELETE, "/v1/account/consents/c1"),
        (Method::GET, "/v1/account/consents/c1/tokens"),
        (Method::GET, "/v1/account/consents/c1/tokens/t1"),
        (Method::DELETE, "/v1/account/consents/c1/tokens/t1"),
    ] {
        let r = app.as_user(method, path, &login).send().await.unwrap();
        assert_error(r, 404, "consent_not_found").await;
    }
    // Queries are still checked: an attribute memberships do not have is refused.
    let q = url_escape(r#"{"method":"equal","attribute":"password","values":["x"]}"#);
    let r = app
        .as_user(
            Method::GET,
            &format!("/v1/account/memberships?queries[]={q}"),
            &login,
        )
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "general_argument_invalid").await;
}
