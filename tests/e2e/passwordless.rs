//! Passwordless sign-in (spec §5.7, §5.8): email OTP, magic URL and phone codes, delivered to a
//! real SMTP server or SMS endpoint, read back from the message and exchanged for a session.

use reqwest::Method;
use serde_json::{Value, json};

use crate::delivery::{MailSink, SmsEndpoint, drained};
use crate::harness::*;

pub async fn app_with_mail() -> (TestApp, MailSink) {
    let sink = MailSink::start().await;
    let app = spawn_with(sink.configure()).await;
    (app, sink)
}

pub async fn exchange(
    app: &TestApp,
    path_method: (Method, &str),
    user_id: &str,
    secret: &str,
) -> reqwest::Response {
    app.req(path_method.0, path_method.1)
        .json(&json!({"userId": user_id, "secret": secret}))
        .send()
        .await
        .unwrap()
}

pub const SESSION_TOKEN: (Method, &str) = (Method::POST, "/v1/account/sessions/token");

#[tokio::test]
async fn an_emailed_code_signs_in_creates_the_user_and_verifies_the_email() {
    let (app, sink) = app_with_mail().await;
    let email = unique_email();
    let r = app
        .req(Method::POST, "/v1/account/tokens/email")
        .header("user-agent", CHROME_UA)
        .json(&json!({"userId": "unique()", "email": email, "phrase": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token: Value = r.json().await.unwrap();
    assert_eq!(token["secret"], "", "clients never see the code");
    let phrase = token["phrase"].as_str().unwrap().to_owned();
    assert_eq!(phrase.split(' ').count(), 2, "{phrase}");

    let mail = sink.wait_for(&email).await;
    assert_eq!(mail.subject(), "OTP for Test App Login");
    assert_eq!(mail.field("content_type"), "multipart/alternative");
    assert!(
        mail.field("from").contains("auth@latchkey.test"),
        "{}",
        mail.field("from")
    );
    let code = mail.code();
    assert!(
        mail.text().contains(&format!(
            "Use OTP {code} to sign in to Test App. Expires in 15 minutes."
        )),
        "{}",
        mail.text()
    );
    assert!(mail.text().contains(&phrase) && mail.html().contains(&phrase));
    assert!(
        mail.html().contains(&code)
            && !mail.html().contains("http://")
            && !mail.html().contains("src=")
    );
    assert!(mail.field("message_id").ends_with("@latchkey>"));

    let user_id = token["userId"].as_str().unwrap();
    let r = exchange(&app, SESSION_TOKEN, user_id, &code).await;
    assert_eq!(r.status(), 201);
    let login = login_from(r).await;
    let session: Value = app
        .as_user(Method::GET, "/v1/account/sessions/current", &login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (session["provider"].as_str(), session["factors"].clone()),
        (Some("token"), json!(["email"]))
    );
    let account: Value = app.account(&login).await;
    assert_eq!(account["email"], email.as_str());
    assert_eq!(account["emailVerification"], true);
    assert_eq!(account["targets"][0]["identifier"], email.as_str());

    // The code was consumed.
    let r = exchange(&app, SESSION_TOKEN, user_id, &code).await;
    assert_error(r, 401, "user_invalid_token").await;
}

#[tokio::test]
async fn a_magic_link_opens_the_given_page_and_works_once() {
    let (app, sink) = app_with_mail().await;
    let email = unique_email();
    let r = app
        .req(Method::POST, "/v1/account/tokens/magic-url")
        .json(&json!({"userId": "unique()", "email": email, "url": "http://localhost:3000/done?lang=fr"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token: Value = r.json().await.unwrap();
    assert_eq!(token["phrase"], "");
    let mail = sink.wait_for(&email).await;
    assert_eq!(mail.subject(), "Test App Login");
    assert!(
        mail.text()
            .contains("Sign in to Test App with your secure link. Expires in 1 hour.")
    );
    let link = mail.link();
    assert!(
        link.starts_with("http://localhost:3000/done?lang=fr&userId="),
        "{link}"
    );
    let html = mail.html().replace("&#x2f;", "/").replace("&amp;", "&");
    assert!(
        html.contains(&format!("href=\"{link}\"")),
        "the HTML button carries the same link"
    );
    assert_eq!(mail.link_param("project"), PROJECT);
    assert_eq!(mail.link_param("expire"), token["expire"].as_str().unwrap());
    let secret = mail.link_param("secret");
    assert_eq!(secret.len(), 64);
    let user_id = mail.link_param("userId");

    // The deprecated PUT route is the same exchange.
    let r = exchange(
        &app,
        (Method::PUT, "/v1/account/sessions/magic-url"),
        &user_id,
        &secret,
    )
    .await;
    assert_eq!(r.status(), 201);
    let session: Value = r.json().await.unwrap();
    assert_eq!(session["provider"], "magic-url");
    let r = exchange(&app, SESSION_TOKEN, &user_id, &secret).await;
    assert_error(r, 401, "user_invalid_token").await;
    let r = app
        .req(Method::POST, "/v1/account/tokens/magic-url")
        .json(&json!({"userId": "unique()", "email": email, "url": "http://localhost:3000/again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "an existing user gets a new link");
}

#[tokio::test]
async fn redirects_outside_the_platforms_are_refused_and_nothing_is_written() {
    let (app, sink) = app_with_mail().await;
    let email = unique_email();
    for (url, message) in [
        (
            "https://evil.example.org/x",
            "Invalid `url` param: Invalid URI. Register your new client (evil.example.org) as a new Web platform on your project console dashboard",
        ),
        (
            "http://127.0.0.2/x",
            "Invalid `url` param: Invalid URI. Register your new client (127.0.0.2) as a new Web platform on your project console dashboard",
        ),
        (
            "http://[0:0:0:0:0:0:0:1]/x",
            "Invalid `url` param: Invalid URI. Register your new client ([::1]) as a new Web platform on your project console dashboard",
        ),
        (
            "localhost/verification",
            "Invalid `url` param: Invalid URI.",
        ),
    ] {
        let r = app
            .req(Method::POST, "/v1/account/tokens/magic-url")
            .json(&json!({"userId": "unique()", "email": email, "url": url}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            assert_error(r, 400, "general_argument_invalid").await,
            message,
            "{url}"
        );
    }
    for url in [
        "http://127.0.0.1:8000/x",
        "http://[::1]/x",
        "https://app.example.com/x",
    ] {
        let r = app
            .req(Method::POST, "/v1/account/tokens/magic-url")
            .json(&json!({"userId": "unique()", "email": unique_email(), "url": url}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{url}");
    }
    // No user was created for the refused requests: the address is still free.
    app.signup(&email).await;
    drained(&app).await;
    assert!(sink.to(&email).is_empty());
}

#[tokio::test]
async fn without_delivery_the_routes_answer_503_and_disabled_methods_501() {
    let app = spawn_with(with_project(|p| {
        p.auth.methods.email_otp = false;
    }))
    .await;
    let send = |path: &'static str, body: Value| app.req(Method::POST, path).json(&body).send();
    let email = unique_email();
    let r = send(
        "/v1/account/tokens/magic-url",
        json!({"userId": "unique()", "email": email}),
    )
    .await
    .unwrap();
    assert_eq!(
        assert_error(r, 503, "general_smtp_disabled").await,
        "SMTP disabled"
    );
    let r = send(
        "/v1/account/recovery",
        json!({"email": email, "url": "http://localhost/r"}),
    )
    .await
    .unwrap();
    assert_error(r, 503, "general_smtp_disabled").await;
    let r = send(
        "/v1/account/tokens/phone",
        json!({"userId": "unique()", "phone": "+16505550199"}),
    )
    .await
    .unwrap();
    assert_eq!(
        assert_error(r, 503, "general_phone_disabled").await,
        "Phone provider not configured"
    );
    let r = send(
        "/v1/account/tokens/email",
        json!({"userId": "unique()", "email": email}),
    )
    .await
    .unwrap();
    assert_eq!(
        assert_error(r, 501, "user_auth_method_unsupported").await,
        "Email OTP authentication is disabled for this project"
    );
    // Nothing was created on the way.
    app.signup(&email).await;
}

#[tokio::test]
async fn an_expired_code_is_refused_and_key_callers_see_secrets() {
    let (app, sink) = app_with_mail().await;
    let email = unique_email();
    let r = app
        .req(Method::POST, "/v1/account/tokens/email")
        .header("x-appwrite-key", KEY)
        .json(&json!({"userId": "unique()", "email": email}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token: Value = r.json().await.unwrap();
    let code = sink.wait_for(&email).await.code();
    assert_eq!(token["secret"], code.as_str(), "an API key sees the code");
    app.clock.advance(901_000);
    let r = exchange(
        &app,
        SESSION_TOKEN,
        token["userId"].as_str().unwrap(),
        &code,
    )
    .await;
    assert_error(r, 401, "user_invalid_token").await;
    let r = exchange(&app, SESSION_TOKEN, "nobody", "123456").await;
    assert_error(r, 401, "user_invalid_token").await;
}

#[tokio::test]
async fn a_mock_number_signs_in_with_its_fixed_code_and_sends_nothing() {
    let sms = SmsEndpoint::start(201, json!({"sid": "SM1"})).await;
    let settings = sms.settings("twilio");
    let app = spawn_with(move |c| {
        c.file.sms = Some(settings);
        c.file.projects[0].auth.mock_numbers = vec![latchkey::domain::project::MockNumber {
            phone: "+16505550101".into(),
            otp: latchkey::secret::Secret::new("123456"),
        }];
    })
    .await;
    let r = app
        .req(Method::POST, "/v1/account/tokens/phone")
        .header("x-appwrite-key", KEY)
        .json(&json!({"userId": "unique()", "phone": "+16505550101"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token: Value = r.json().await.unwrap();
    let user_id = token["userId"].as_str().unwrap();
    // A key caller's secret is the encoded {id, secret}, not the bare code (spec §12.2).
    assert_eq!(
        token["secret"],
        latchkey::domain::sessions::encode_session(user_id, "123456")
    );
    let r = exchange(
        &app,
        (Method::PUT, "/v1/account/sessions/phone"),
        user_id,
        "123456",
    )
    .await;
    assert_eq!(r.status(), 201);
    let login = login_from(r).await;
    let account: Value = app.account(&login).await;
    assert_eq!(
        (
            account["phone"].as_str(),
            account["phoneVerification"].as_bool()
        ),
        (Some("+16505550101"), Some(true))
    );
    assert_eq!(account["targets"][0]["providerType"], "sms");
    drained(&app).await;
    assert!(sms.requests().is_empty(), "a mock number receives no SMS");
}

#[tokio::test]
async fn an_email_an_identity_holds_is_refused_with_each_flows_own_error() {
    let (app, sink) = app_with_mail().await;
    let (_, owner) = app.user().await;
    let mut tx = app.state.store.begin().await.unwrap();
    tx.insert_identity(
        PROJECT,
        &latchkey::store::IdentityRow {
            id: "ident1".into(),
            user_id: owner.user_id.clone(),
            provider: "github".into(),
            provider_uid: "gh-1".into(),
            provider_email: "held@example.com".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let send = |path: &'static str| {
        app.req(Method::POST, path)
            .json(&json!({"userId": "unique()", "email": "held@example.com"}))
            .send()
    };
    // appwrite 1.9.6: createEmailToken says 400 general_bad_request, createMagicURLToken 409.
    assert_error(
        send("/v1/account/tokens/email").await.unwrap(),
        400,
        "general_bad_request",
    )
    .await;
    assert_error(
        send("/v1/account/tokens/magic-url").await.unwrap(),
        409,
        "user_email_already_exists",
    )
    .await;
    drained(&app).await;
    assert!(sink.to("held@example.com").is_empty(), "nothing was sent");
}

#[tokio::test]
async fn bad_phone_numbers_and_bad_ids_are_refused_before_anything_is_written() {
    let sms = SmsEndpoint::start(201, json!({})).await;
    let settings = sms.settings("twilio");
    let app = spawn_with(move |c| c.file.sms = Some(settings)).await;
    for phone in ["16505550123", "+1", "+99912345678", "+1 650 555 0123x"] {
        let r = app
            .req(Method::POST, "/v1/account/tokens/phone")
            .json(&json!({"userId": "unique()", "phone": phone}))
            .send()
            .await
            .unwrap();
        assert_error(r, 400, "general_argument_invalid").await;
    }
    let r = app
        .req(Method::POST, "/v1/account/tokens/phone")
        .json(&json!({"userId": "_bad", "phone": "+16505550123"}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "general_argument_invalid").await;
    let r = app
        .req(Method::POST, "/v1/account/sessions/token")
        .json(&json!({"userId": "someone", "secret": ""}))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "general_argument_invalid").await;
    drained(&app).await;
    assert!(sms.requests().is_empty());
}
