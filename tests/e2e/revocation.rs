//! The session-validation cache never serves what this node has revoked or changed: each case
//! warms the cache with two reads, makes the change through the API, and checks the very next
//! request. A write by another process (the CLI, another node) is seen within `readCacheMs`,
//! which the last test pins (and so shows the cache is really on here).

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

/// Two reads, so the second is served from the cache.
async fn warm(app: &TestApp, login: &Login) -> Value {
    app.account(login).await;
    app.account(login).await
}

async fn refused(app: &TestApp, login: &Login, ty: &str) {
    let status = if ty == "user_blocked" { 403 } else { 401 };
    let r = app
        .as_user(Method::GET, "/v1/account", login)
        .send()
        .await
        .unwrap();
    assert_error(r, status, ty).await;
}

async fn ok(r: reqwest::RequestBuilder) -> Value {
    let r = r.send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.unwrap_or(Value::Null)
}

#[tokio::test]
async fn ending_sessions_takes_effect_on_the_next_request() {
    let app = spawn_app().await;
    let (email, one) = app.user().await;
    let two = app.login(&email, PASSWORD).await;
    let three = app.login(&email, PASSWORD).await;
    for l in [&one, &two, &three] {
        warm(&app, l).await;
    }
    // Logout of the current session.
    ok(app.as_user(Method::DELETE, "/v1/account/sessions/current", &one)).await;
    refused(&app, &one, "general_unauthorized_scope").await;
    // One session deleted by id through the Users API.
    let path = format!("/v1/users/{}/sessions/{}", two.user_id, two.session_id);
    ok(app.as_key(Method::DELETE, &path)).await;
    refused(&app, &two, "general_unauthorized_scope").await;
    warm(&app, &three).await;
    // Delete-all from the last one.
    ok(app.as_user(Method::DELETE, "/v1/account/sessions", &three)).await;
    refused(&app, &three, "general_unauthorized_scope").await;
}

#[tokio::test]
async fn a_password_change_ends_the_other_cached_sessions() {
    let app = spawn_app().await;
    let (email, mine) = app.user().await;
    let other = app.login(&email, PASSWORD).await;
    warm(&app, &mine).await;
    warm(&app, &other).await;
    ok(app
        .as_user(Method::PATCH, "/v1/account/password", &mine)
        .json(&json!({"password": "another-horse-battery", "oldPassword": PASSWORD})))
    .await;
    refused(&app, &other, "general_unauthorized_scope").await;
    assert_eq!(app.account(&mine).await["$id"], mine.user_id.as_str());
}

#[tokio::test]
async fn block_mfa_and_deletion_by_the_users_api_take_effect_on_the_next_request() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let user = format!("/v1/users/{}", login.user_id);
    warm(&app, &login).await;
    ok(app
        .as_key(Method::PATCH, &format!("{user}/status"))
        .json(&json!({"status": false})))
    .await;
    refused(&app, &login, "user_blocked").await;
    ok(app
        .as_key(Method::PATCH, &format!("{user}/status"))
        .json(&json!({"status": true})))
    .await;
    warm(&app, &login).await;
    // MFA on for a user with a verified email: a one-factor session must do more.
    ok(app
        .as_key(Method::PATCH, &format!("{user}/verification"))
        .json(&json!({"emailVerification": true})))
    .await;
    warm(&app, &login).await;
    ok(app
        .as_key(Method::PATCH, &format!("{user}/mfa"))
        .json(&json!({"mfa": true})))
    .await;
    refused(&app, &login, "user_more_factors_required").await;
    ok(app
        .as_key(Method::PATCH, &format!("{user}/mfa"))
        .json(&json!({"mfa": false})))
    .await;
    warm(&app, &login).await;
    ok(app.as_key(Method::DELETE, &user)).await;
    refused(&app, &login, "general_unauthorized_scope").await;
}

#[tokio::test]
async fn eviction_expiry_and_profile_changes_show_on_the_next_request() {
    let app = spawn_with(with_project(|p| p.auth.max_sessions = 2)).await;
    let (email, oldest) = app.user().await;
    warm(&app, &oldest).await;
    let _second = app.login(&email, PASSWORD).await;
    let third = app.login(&email, PASSWORD).await;
    refused(&app, &oldest, "general_unauthorized_scope").await;

    // What the account answers is read again after a change: name and targets.
    warm(&app, &third).await;
    ok(app
        .as_user(Method::PATCH, "/v1/account/name", &third)
        .json(&json!({"name": "Renamed"})))
    .await;
    assert_eq!(app.account(&third).await["name"], "Renamed");
    let before = warm(&app, &third).await["targets"]
        .as_array()
        .unwrap()
        .len();
    ok(app
        .as_key(
            Method::POST,
            &format!("/v1/users/{}/targets", third.user_id),
        )
        .json(&json!({"targetId": "t-sms", "providerType": "sms", "identifier": "+15550002222"})))
    .await;
    let after = app.account(&third).await["targets"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(after, before + 1);

    // Expiry is checked on every request against the cached row.
    warm(&app, &third).await;
    app.clock.advance(31_536_000 * 1000 + 1);
    refused(&app, &third, "general_unauthorized_scope").await;
}

/// The same store opened by another process, as the CLI does, with no cache of its own.
async fn other_process(app: &TestApp) -> std::sync::Arc<dyn latchkey::store::Store> {
    let url = match &app.config.database_url {
        Some(u) => u.expose().to_owned(),
        None => format!(
            "sqlite://{}",
            app.config.data_dir.join("latchkey.db").display()
        ),
    };
    latchkey::store::open(
        &url,
        Default::default(),
        latchkey::domain::useragent::parse,
        std::sync::Arc::new(latchkey::store::sql::cache::ReadCache::off()),
        false,
    )
    .await
    .unwrap()
}

/// Ends the user's sessions behind this node's back.
async fn end_sessions_elsewhere(app: &TestApp, login: &Login) {
    let mut tx = other_process(app).await.begin().await.unwrap();
    assert_eq!(
        tx.delete_sessions(PROJECT, &login.user_id, None)
            .await
            .unwrap(),
        1
    );
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn another_processs_write_is_seen_within_the_cache_bound() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    warm(&app, &login).await;
    end_sessions_elsewhere(&app, &login).await;
    // Within the bound this node may still answer from what it read...
    app.account(&login).await;
    // ...and once it has passed, it reads again and refuses.
    let bound = latchkey::store::sql::cache::DEFAULT_TTL_MS as i64;
    app.clock.advance(bound);
    refused(&app, &login, "general_unauthorized_scope").await;
}

/// What a sign-in storm must not do (issue 12's W4): each sign-up and sign-in commits, and
/// those commits are about their own user only, so they leave other users' cached reads in
/// place. Seen through a change this node cannot know of: had the sign-ins emptied the
/// cache, the reader's next request would have read the database and been refused.
#[tokio::test]
async fn other_users_sign_ups_and_sign_ins_keep_this_users_reads_cached() {
    let app = spawn_app().await;
    let (_, reader) = app.user().await;
    warm(&app, &reader).await;
    end_sessions_elsewhere(&app, &reader).await;
    let (email, _) = app.user().await;
    app.login(&email, PASSWORD).await;
    app.account(&reader).await;
    // A write of this node for the reader's own user is seen at once.
    ok(app
        .as_user(Method::PATCH, "/v1/account/name", &reader)
        .json(&json!({"name": "Reader"})))
    .await;
    refused(&app, &reader, "general_unauthorized_scope").await;
}
