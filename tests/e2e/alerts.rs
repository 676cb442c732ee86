//! Session alert emails (spec §5.16) and the locale of emails (spec §2.10), read from the
//! real SMTP server.

use reqwest::Method;
use serde_json::{Value, json};

use crate::delivery::{MailSink, drained};
use crate::harness::*;
use crate::passwordless::{SESSION_TOKEN, app_with_mail, exchange};

#[tokio::test]
async fn session_alerts_tell_of_every_new_session_but_the_first_and_email_ones() {
    let sink = MailSink::start().await;
    let mail = sink.configure();
    let app = spawn_with(move |c| {
        mail(c);
        c.file.projects[0].auth.session_alerts = true;
    })
    .await;
    let email = unique_email();
    app.signup(&email).await;
    app.login(&email, PASSWORD).await;
    let r = app
        .req(Method::POST, "/v1/account/sessions/email")
        .header("user-agent", CHROME_UA)
        .header("x-appwrite-locale", "de")
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let alert = sink.wait_for(&email).await;
    assert!(alert.subject().contains("Test App"), "{}", alert.subject());
    assert_ne!(
        alert.subject(),
        "Security alert: new session on your Test App account",
        "German, not English"
    );
    assert!(
        alert.text().contains("Chrome") && alert.text().contains("127.0.0.1"),
        "{}",
        alert.text()
    );
    // An email-code sign-in proves the inbox: no alert for it.
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
    let code = sink.wait_for_n(&email, 2).await[1].code();
    let r = exchange(&app, SESSION_TOKEN, &user_id, &code).await;
    assert_eq!(r.status(), 201);
    app.login(&email, PASSWORD).await;
    drained(&app).await;
    let subjects: Vec<String> = sink
        .to(&email)
        .iter()
        .map(|m| m.subject().to_owned())
        .collect();
    assert_eq!(subjects.len(), 3, "alert, code, alert: {subjects:?}");
    assert_eq!(subjects[1], "OTP for Test App Login");
    assert_eq!(
        subjects[2],
        "Security alert: new session on your Test App account"
    );
}

#[tokio::test]
async fn emails_follow_the_locale_with_english_as_the_fallback() {
    let (app, sink) = app_with_mail().await;
    for (locale, subject_part, rtl) in [
        ("ar", "Test App", true),
        ("fr-CA", "Test App", false),
        ("xx", "OTP for Test App Login", false),
    ] {
        let email = unique_email();
        let r = app
            .req(Method::POST, "/v1/account/tokens/email")
            .header("x-appwrite-locale", locale)
            .json(&json!({"userId": "unique()", "email": email}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let m = sink.wait_for(&email).await;
        assert!(
            m.subject().contains(subject_part),
            "{locale}: {}",
            m.subject()
        );
        assert_eq!(m.html().contains("dir=\"rtl\""), rtl, "{locale}");
        if locale == "fr-CA" {
            assert_ne!(
                m.subject(),
                "OTP for Test App Login",
                "fr-CA falls back to fr"
            );
        }
    }
}
