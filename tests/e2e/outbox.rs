//! The outbox: what the API accepted is delivered at least once, retried through outages with
//! backoff, sealed at rest, and sent to each SMS provider in that provider's request shape.

use reqwest::Method;
use serde_json::{Value, json};

use crate::delivery::drained;
use crate::delivery::{MailSink, SmsEndpoint};
use crate::harness::*;
use latchkey::domain::messages::Postbox;

async fn request_code(app: &TestApp, email: &str) {
    let r = app
        .req(Method::POST, "/v1/account/tokens/email")
        .json(&json!({"userId": "unique()", "email": email}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

/// Waits until the outbox row of the only message has `attempts` attempts.
async fn attempts_reach(app: &TestApp, n: i64) -> latchkey::store::OutboxRow {
    for _ in 0..800 {
        let due = app.state.store.due_messages(i64::MAX, 10).await.unwrap();
        // The lease counts the attempt; its error lands once the attempt is over.
        if let Some(m) = due
            .into_iter()
            .find(|m| m.attempts >= n && !m.last_error.is_empty())
        {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no message reached {n} attempts");
}

#[tokio::test]
async fn a_refused_email_is_retried_with_backoff_and_arrives_once() {
    let mut sink = MailSink::refusing(451).await;
    let app = spawn_with(sink.configure()).await;
    let email = unique_email();
    request_code(&app, &email).await;
    let m = attempts_reach(&app, 1).await;
    assert!(m.last_error.contains("451"), "{}", m.last_error);
    assert_eq!(
        m.next_attempt_at - latchkey::domain::time::Clock::now_ms(&*app.clock),
        1000,
        "first retry a second later"
    );
    // The server takes mail again; time passes; the worker retries once and delivers.
    sink.stop().await;
    sink.resume(None).await;
    app.clock.advance(1000);
    app.state.outbox.notify();
    let mails = sink.wait_for_n(&email, 1).await;
    drained(&app).await;
    assert_eq!(sink.to(&email).len(), 1, "{mails:?}");
}

#[tokio::test]
async fn a_permanently_refused_email_is_given_up_and_its_content_dropped() {
    let sink = MailSink::refusing(550).await;
    let app = spawn_with(sink.configure()).await;
    request_code(&app, &unique_email()).await;
    for _ in 0..800 {
        if app.state.store.count_messages().await.unwrap().failed == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let counts = app.state.store.count_messages().await.unwrap();
    assert_eq!((counts.pending, counts.failed), (0, 1));
}

#[tokio::test]
async fn an_outbox_message_is_sealed_at_rest_and_emptied_once_sent() {
    let mut sink = MailSink::start().await;
    sink.stop().await;
    let app = spawn_with(sink.configure()).await;
    let (email, login) = app.user().await;
    let r = app
        .req(Method::POST, "/v1/account/recovery")
        .json(&json!({"email": email, "url": "https://app.example.com/reset"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    attempts_reach(&app, 1).await;
    let stored = dump_database(&app).await;
    assert!(contains(&stored, "recovery"), "the message is in the store");
    assert!(
        !contains(&stored, "app.example.com/reset"),
        "but its link is sealed"
    );
    sink.resume(None).await;
    app.clock.advance(3_600_000);
    app.state.outbox.notify();
    let mail = sink.wait_for(&email).await;
    let secret = mail.link_param("secret");
    drained(&app).await;
    assert!(!contains(&dump_database(&app).await, &secret));
    let r = app
        .req(Method::PUT, "/v1/account/recovery")
        .json(&json!({"userId": login.user_id, "secret": secret, "password": "after-outage-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Sends a phone code through `provider` (answering `status` / `body`) and returns the request.
async fn sms_through(
    provider: &str,
    status: u16,
    body: Value,
) -> (crate::delivery::Captured, String) {
    let sms = SmsEndpoint::start(status, body).await;
    let settings = sms.settings(provider);
    let app = spawn_with(move |c| c.file.sms = Some(settings)).await;
    let r = app
        .req(Method::POST, "/v1/account/tokens/phone")
        .json(&json!({"userId": "unique()", "phone": "+16505550123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let user_id = r.json::<Value>().await.unwrap()["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let req = sms.wait_for_n(1).await.remove(0);
    drained(&app).await;
    (req, user_id)
}

fn basic(user: &str, pass: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

#[tokio::test]
async fn twilio_gets_a_basic_auth_form_post_per_message() {
    let (r, _) = sms_through("twilio", 201, json!({"sid": "SM123"})).await;
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/2010-04-01/Accounts/ACtestaccount/Messages.json")
    );
    assert_eq!(
        r.header("authorization"),
        basic("ACtestaccount", "provider-secret")
    );
    assert!(
        r.header("content-type")
            .starts_with("application/x-www-form-urlencoded")
    );
    assert_eq!(r.form_field("To").as_deref(), Some("+16505550123"));
    assert_eq!(r.form_field("From").as_deref(), Some("+15550001111"));
    let body = r.form_field("Body").unwrap();
    assert!(
        body.len() == 6 && body.bytes().all(|b| b.is_ascii_digit()),
        "the bare code: {body}"
    );
}

#[tokio::test]
async fn vonage_gets_its_key_and_secret_in_the_form_and_the_number_without_plus() {
    let (r, _) = sms_through(
        "vonage",
        200,
        json!({"message-count": "1", "messages": [{"status": "0"}]}),
    )
    .await;
    assert_eq!(r.path, "/sms/json");
    assert_eq!(r.form_field("api_key").as_deref(), Some("ACtestaccount"));
    assert_eq!(
        r.form_field("api_secret").as_deref(),
        Some("provider-secret")
    );
    assert_eq!(r.form_field("to").as_deref(), Some("16505550123"));
    assert_eq!(r.form_field("from").as_deref(), Some("+15550001111"));
    assert_eq!(r.form_field("text").unwrap().len(), 6);
}

#[tokio::test]
async fn textmagic_gets_its_headers_and_phones_field() {
    let (r, _) = sms_through("textmagic", 201, json!({"id": 1})).await;
    assert_eq!(r.path, "/api/v2/messages");
    assert_eq!(
        (r.header("x-tm-username"), r.header("x-tm-key")),
        ("ACtestaccount", "provider-secret")
    );
    assert_eq!(r.form_field("phones").as_deref(), Some("16505550123"));
    assert_eq!(r.form_field("text").unwrap().len(), 6);
}

#[tokio::test]
async fn telesign_gets_a_basic_auth_messaging_request() {
    let (r, _) = sms_through(
        "telesign",
        200,
        json!({"status": {"code": 290, "description": "Message in progress"}}),
    )
    .await;
    assert_eq!(r.path, "/v1/messaging");
    assert_eq!(
        r.header("authorization"),
        basic("ACtestaccount", "provider-secret")
    );
    assert_eq!(r.form_field("phone_number").as_deref(), Some("16505550123"));
    assert_eq!(r.form_field("message_type").as_deref(), Some("OTP"));
    assert_eq!(r.form_field("message").unwrap().len(), 6);
}

#[tokio::test]
async fn msg91_gets_a_json_flow_request_with_its_template() {
    let (r, _) = sms_through("msg91", 200, json!({"type": "success", "message": "ok"})).await;
    assert_eq!(r.path, "/api/v5/flow/");
    assert_eq!(r.header("authkey"), "provider-secret");
    let body: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["template_id"], "tmpl-42");
    assert_eq!(body["sender"], "ACtestaccount");
    assert_eq!(body["recipients"][0]["mobiles"], "16505550123");
    assert_eq!(body["recipients"][0]["otp"].as_str().unwrap().len(), 6);
}

#[tokio::test]
async fn a_provider_error_is_retried_and_the_code_still_signs_in() {
    let sms = SmsEndpoint::start(503, json!({"message": "try later"})).await;
    let settings = sms.settings("twilio");
    let app = spawn_with(move |c| c.file.sms = Some(settings)).await;
    let r = app
        .req(Method::POST, "/v1/account/tokens/phone")
        .json(&json!({"userId": "unique()", "phone": "+16505550124"}))
        .send()
        .await
        .unwrap();
    let user_id = r.json::<Value>().await.unwrap()["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let m = attempts_reach(&app, 1).await;
    assert!(m.last_error.contains("try later"), "{}", m.last_error);
    sms.answer(201, json!({"sid": "SM2"}));
    app.clock.advance(1000);
    app.state.outbox.notify();
    let got = sms.wait_for_n(2).await;
    drained(&app).await;
    let code = got[1].form_field("Body").unwrap();
    let r = app
        .req(Method::POST, "/v1/account/sessions/token")
        .json(&json!({"userId": user_id, "secret": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let session: Value = r.json().await.unwrap();
    assert_eq!(session["provider"], "phone");
}

#[tokio::test]
async fn a_number_vonage_refuses_is_given_up_at_once_and_a_throttled_one_retried() {
    for (status, permanent) in [("3", true), ("1", false)] {
        let sms = SmsEndpoint::start(
            200,
            json!({"messages": [{"status": status, "error-text": "nope"}]}),
        )
        .await;
        let settings = sms.settings("vonage");
        let app = spawn_with(move |c| c.file.sms = Some(settings)).await;
        let r = app
            .req(Method::POST, "/v1/account/tokens/phone")
            .json(&json!({"userId": "unique()", "phone": "+16505550125"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        sms.wait_for_n(1).await;
        for _ in 0..800 {
            let c = app.state.store.count_messages().await.unwrap();
            if c.failed == 1 || attempts_done(&app).await {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let c = app.state.store.count_messages().await.unwrap();
        assert_eq!(
            (c.failed == 1, c.pending == 1),
            (permanent, !permanent),
            "vonage status {status}"
        );
    }
}

/// Whether the one pending message has finished an attempt (its error is recorded).
async fn attempts_done(app: &TestApp) -> bool {
    let due = app.state.store.due_messages(i64::MAX, 10).await.unwrap();
    due.iter().any(|m| !m.last_error.is_empty())
}
