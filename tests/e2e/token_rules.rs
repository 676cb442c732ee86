//! The rules that keep tokens safe: one use even under races, a limit on wrong guesses, no
//! token surviving an address change, no link built from a forged `Host`, and one user for
//! two simultaneous first sign-ins.

use reqwest::Method;
use serde_json::{Value, json};

use crate::delivery::{MailSink, drained};
use crate::harness::*;
use crate::passwordless::{SESSION_TOKEN, app_with_mail, exchange};

#[tokio::test]
async fn an_in_memory_database_serves_the_code_flow_without_waiting_on_itself() {
    let sink = MailSink::start().await;
    let mail = sink.configure();
    let app = spawn_with(move |c| {
        mail(c);
        c.database_url = Some(latchkey::secret::Secret::new("sqlite::memory:"));
        c.file.projects[0].auth.session_alerts = true;
    })
    .await;
    let email = unique_email();
    let flow = async {
        let r = app
            .req(Method::POST, "/v1/account/tokens/email")
            .json(&json!({"userId": "unique()", "email": email}))
            .send()
            .await
            .unwrap();
        let user_id = r.json::<Value>().await.unwrap()["userId"]
            .as_str()
            .unwrap()
            .to_owned();
        let code = sink.wait_for(&email).await.code();
        exchange(&app, SESSION_TOKEN, &user_id, &code)
            .await
            .status()
    };
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), flow)
        .await
        .expect("the flow finished (a read inside a unit of work would wait forever)");
    assert_eq!(status, 201);
}

#[tokio::test]
async fn a_magic_link_never_points_at_the_requests_host() {
    let sink = MailSink::start().await;
    let mail = sink.configure();
    let app = spawn_with(move |c| {
        mail(c);
        c.file.public_url = Some("https://auth.example.com/".into());
    })
    .await;
    let email = unique_email();
    let r = app
        .req(Method::POST, "/v1/account/tokens/magic-url")
        .header("host", "evil.example.org")
        .json(&json!({"userId": "unique()", "email": email}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let link = sink.wait_for(&email).await.link();
    assert!(
        link.starts_with("https://auth.example.com/auth/magic-url?userId="),
        "{link}"
    );

    // Without a project url or publicUrl there is no safe default: the client must say.
    let (bare, bare_sink) = app_with_mail().await;
    let r = bare
        .req(Method::POST, "/v1/account/tokens/magic-url")
        .json(&json!({"userId": "unique()", "email": unique_email()}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "general_argument_invalid").await;
    drained(&bare).await;
    assert!(bare_sink.all().is_empty());
}

#[tokio::test]
async fn a_code_works_once_even_when_two_exchanges_race() {
    let (app, sink) = app_with_mail().await;
    let email = unique_email();
    let r = app
        .req(Method::POST, "/v1/account/tokens/email")
        .json(&json!({"userId": "unique()", "email": email}))
        .send()
        .await
        .unwrap();
    let user_id = r.json::<Value>().await.unwrap()["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = sink.wait_for(&email).await.code();
    let (a, b) = tokio::join!(
        exchange(&app, SESSION_TOKEN, &user_id, &code),
        exchange(&app, SESSION_TOKEN, &user_id, &code)
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 401]);
}

#[tokio::test]
async fn ten_wrong_guesses_void_the_code() {
    // With rate limits off: the code gives out by itself, whatever addresses guess.
    let sink = MailSink::start().await;
    let mail = sink.configure();
    let app = spawn_with(move |c| {
        mail(c);
        c.file.rate_limits = Some(false);
    })
    .await;
    let email = unique_email();
    let r = app
        .req(Method::POST, "/v1/account/tokens/email")
        .json(&json!({"userId": "unique()", "email": email}))
        .send()
        .await
        .unwrap();
    let user_id = r.json::<Value>().await.unwrap()["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = sink.wait_for(&email).await.code();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for _ in 0..10 {
        let r = exchange(&app, SESSION_TOKEN, &user_id, wrong).await;
        assert_error(r, 401, "user_invalid_token").await;
    }
    let r = exchange(&app, SESSION_TOKEN, &user_id, &code).await;
    assert_error(r, 401, "user_invalid_token").await;
}

#[tokio::test]
async fn a_link_sent_to_an_old_address_does_not_verify_the_new_one() {
    let (app, sink) = app_with_mail().await;
    let (email, login) = app.user().await;
    let r = app
        .as_user(Method::POST, "/v1/account/verifications/email", &login)
        .json(&json!({"url": "http://localhost/verify"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let secret = sink.wait_for(&email).await.link_param("secret");
    let r = app
        .as_user(Method::PATCH, "/v1/account/email", &login)
        .json(&json!({"email": unique_email(), "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .req(Method::PUT, "/v1/account/verifications/email")
        .json(&json!({"userId": login.user_id, "secret": secret}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_invalid_token").await;
    assert_eq!(app.account(&login).await["emailVerification"], false);
}

#[tokio::test]
async fn two_first_sign_ins_for_one_new_address_make_one_user() {
    let (app, sink) = app_with_mail().await;
    let email = unique_email();
    let send = || {
        app.req(Method::POST, "/v1/account/tokens/email")
            .json(&json!({"userId": "unique()", "email": email}))
            .send()
    };
    let (a, b) = tokio::join!(send(), send());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (201, 201));
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(a["userId"], b["userId"]);
    assert_eq!(sink.wait_for_n(&email, 2).await.len(), 2);
}
