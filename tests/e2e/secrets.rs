//! Secrets at rest and in logs: only hashes reach the database, and no `Debug` output of a
//! config, project, row or caller shows a secret.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

#[tokio::test]
async fn the_database_holds_no_secret_the_test_used() {
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let (_, secret) = latchkey::domain::sessions::decode_session(&login.encoded).unwrap();
    let r = app
        .req(Method::POST, "/v1/account/sessions/anonymous")
        .header("x-appwrite-key", KEY)
        .send()
        .await
        .unwrap();
    let key_secret = r.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let jwt: Value = app
        .as_user(Method::POST, "/v1/account/jwts", &login)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dump = dump_database(&app).await;
    assert!(contains(&dump, &login.user_id), "the dump is readable");
    for s in [
        KEY,
        PASSWORD,
        secret.expose(),
        &login.encoded,
        &key_secret,
        jwt["jwt"].as_str().unwrap(),
        app.state.instance_key.expose(),
    ] {
        assert!(!contains(&dump, s), "a secret is stored: {}…", &s[..8]);
    }
    assert!(contains(
        &dump,
        &latchkey::secret::sha256_hex(secret.expose())
    ));
}

#[tokio::test]
async fn no_debug_output_shows_a_secret() {
    use latchkey::domain::project::{OAuth2Settings, Project, SmtpSettings};
    use latchkey::secret::Secret;
    let app = spawn_app().await;
    let (_, login) = app.user().await;
    let mut config = app.config.clone();
    config.instance_key = Some(Secret::new("instance-key-value-123"));
    config.database_url = Some(Secret::new("postgres://u:db-password-123@h/d"));
    let mut project = test_project();
    project.smtp = Some(SmtpSettings {
        password: Some(Secret::new("smtp-password-123")),
        ..SmtpSettings::default()
    });
    project.oauth2.insert(
        "github".into(),
        OAuth2Settings {
            secret: Some(Secret::new("oauth-secret-123")),
            ..OAuth2Settings::default()
        },
    );
    config.file.projects = vec![project.clone()];
    let user = app
        .state
        .store
        .find_user(PROJECT, &login.user_id)
        .await
        .unwrap()
        .unwrap();
    let session = app
        .state
        .store
        .find_session(PROJECT, &login.user_id, &login.session_id)
        .await
        .unwrap()
        .unwrap();
    let runtime = Project::new(project);
    let key = runtime.find_key(KEY).unwrap().clone();
    let caller = latchkey::http::gate::Caller::User {
        user: Box::new(user.clone()),
        session: Some(Box::new(session.clone())),
    };
    let printed = format!(
        "{config:?} {runtime:?} {key:?} {user:?} {session:?} {caller:?} {:?}",
        app.state.hasher
    );
    let (_, raw) = latchkey::domain::sessions::decode_session(&login.encoded).unwrap();
    for s in [
        KEY,
        "instance-key-value-123",
        "db-password-123",
        "smtp-password-123",
        "oauth-secret-123",
        raw.expose(),
        user.password.as_ref().unwrap().expose(),
        session.secret_hash.expose(),
    ] {
        assert!(!printed.contains(s), "Debug shows {s}");
    }
    assert!(printed.contains("[redacted]"));
}
