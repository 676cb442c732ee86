//! The newest `appwrite` crate (0.22.0, response format 2.6.2): sign-up and sign-in, then the
//! token flows, reading codes and links from the emails and SMS the test run received
//! (`LATCHKEY_MAIL_DIR`, `LATCHKEY_SMS_DIR`). Its models are typed, so a missing or
//! mistyped 2.x field fails here.

use appwrite022::client::Client;
use appwrite022::id::ID;
use appwrite022::services::account::Account;
use serde_json::Value;

const PASSWORD: &str = "rust-newest-password-1";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is required"))
}

fn client() -> Client {
    Client::new()
        .set_endpoint(env("LATCHKEY_ENDPOINT"))
        .set_project(env("LATCHKEY_PROJECT"))
}

fn admin() -> Account {
    Account::new(&client().set_key(env("LATCHKEY_KEY")))
}

fn guest() -> Account {
    Account::new(&client())
}

fn email() -> String {
    format!("rust22-{}@example.com", ID::unique())
}

/// The `n`th message in `dir` that `matches`, waiting up to 20 s.
async fn received(dir: &str, matches: impl Fn(&Value) -> bool, n: usize) -> Value {
    for _ in 0..400 {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        let found: Vec<Value> = names
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .filter(|m| matches(m))
            .collect();
        if found.len() >= n {
            return found[n - 1].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no message matched in {dir}");
}

async fn mail_to(address: &str, n: usize) -> Value {
    let a = address.to_owned();
    received(&env("LATCHKEY_MAIL_DIR"), move |m| m["rcpt_tos"].as_array().unwrap().iter().any(|r| r == a.as_str()), n).await
}

fn code_of(mail: &Value) -> String {
    mail["text"]
        .as_str()
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a six-digit code")
        .to_owned()
}

fn assert_error<T: std::fmt::Debug>(r: appwrite022::error::Result<T>, code: u16, ty: &str) {
    let e = r.expect_err("an error");
    assert_eq!(e.status_code(), code, "{}", e.get_message());
    assert_eq!(e.get_type(), Some(ty), "{}", e.get_message());
}

#[tokio::test]
async fn sign_up_sign_in_and_the_2x_account_model() {
    let address = email();
    let user = admin().create(ID::unique(), address.clone(), PASSWORD, Some("Rust 22")).await.unwrap();
    assert_eq!(user.email, address);
    let session = admin().create_email_password_session(address.clone(), PASSWORD, None).await.unwrap();
    let me = Account::new(&client().set_session(session.secret.clone()));
    let account = me.get().await.unwrap();
    assert_eq!(account.id, user.id);
    assert_eq!(account.password_pwned, None, "2.x field, not checked yet");
    assert_error(guest().get().await, 401, "general_unauthorized_scope");
}

#[tokio::test]
async fn an_email_code_through_a_key_becomes_a_session() {
    let address = email();
    let token = admin().create_email_token(ID::unique(), address.clone(), Some(true)).await.unwrap();
    assert_eq!(token.secret, code_of(&mail_to(&address, 1).await));
    assert!(!token.phrase.is_empty());
    let session = guest().create_session(token.user_id.clone(), token.secret.clone()).await.unwrap();
    assert_eq!(session.provider, "token");
    assert_error(guest().create_session(token.user_id, token.secret).await, 401, "user_invalid_token");
}

#[tokio::test]
async fn recovery_and_email_verification_by_code() {
    let address = email();
    let user = guest().create(ID::unique(), address.clone(), PASSWORD, None).await.unwrap();
    guest().create_recovery_otp(address.clone(), None).await.unwrap();
    let code = code_of(&mail_to(&address, 1).await);
    guest().update_recovery_otp(user.id.clone(), code, "rust-after-reset-1").await.unwrap();
    let session = admin().create_email_password_session(address.clone(), "rust-after-reset-1", None).await.unwrap();
    let me = Account::new(&client().set_session(session.secret.clone()));
    let other = email();
    me.update_email(other.clone(), "rust-after-reset-1").await.unwrap();
    me.create_email_verification_otp(None).await.unwrap();
    guest()
        .update_email_verification_otp(user.id.clone(), code_of(&mail_to(&other, 1).await))
        .await
        .unwrap();
    assert!(me.get().await.unwrap().email_verification);
}

#[tokio::test]
async fn a_phone_code_by_sms_signs_in() {
    let phone = format!("+1650558{:04}", std::process::id() % 10_000);
    let token = guest().create_phone_token(ID::unique(), phone.clone()).await.unwrap();
    let p = phone.clone();
    let sms = received(&env("LATCHKEY_SMS_DIR"), move |m| m["form"]["To"] == p.as_str(), 1).await;
    let session = guest()
        .create_session(token.user_id, sms["form"]["Body"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(session.provider, "phone");
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A TOTP code from Debian's oathtool (independent of the server) and its 30-second step: of a
/// step after `after` (the server accepts a code once), never from the last 1.5 s of a step
/// (it could reach the server in the next one).
async fn totp(secret: &str, after: Option<u64>) -> (String, u64) {
    while after.is_some_and(|a| now_ms() / 30_000 <= a) || now_ms() % 30_000 > 28_500 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let at = now_ms() / 1000;
    let out = std::process::Command::new("oathtool")
        .args(["--totp", "-b", secret, "--now", &format!("@{at}")])
        .output()
        .expect("oathtool");
    (String::from_utf8(out.stdout).unwrap().trim().to_owned(), at / 30)
}

#[tokio::test]
async fn mfa_totp_gate_challenge_and_recovery_codes() {
    use appwrite022::enums::{AuthenticationFactor, AuthenticatorType};
    let address = email();
    admin().create(ID::unique(), &address, PASSWORD, None).await.unwrap();
    let login = || async {
        let s = admin().create_email_password_session(&address, PASSWORD, None).await.unwrap();
        Account::new(&client().set_session(s.secret))
    };
    let me = login().await;
    let t = me.create_mfa_authenticator(AuthenticatorType::Totp).await.unwrap();
    assert!(t.uri.starts_with("otpauth://totp/"), "{}", t.uri);
    let (first, verified_at) = totp(&t.secret, None).await;
    me.update_mfa_authenticator(AuthenticatorType::Totp, first).await.unwrap();
    let codes = me.create_mfa_recovery_codes().await.unwrap().recovery_codes;
    assert_eq!(codes.len(), 6);
    assert!(me.update_mfa(true).await.unwrap().mfa);
    let factors = me.list_mfa_factors().await.unwrap();
    // The SDK project turns the 2.x custom factor on.
    assert!(factors.totp && factors.recovery_code && factors.custom && !factors.email);

    let second = login().await;
    assert_error(second.get().await, 401, "user_more_factors_required");
    let c = second.create_mfa_challenge(AuthenticationFactor::Totp).await.unwrap();
    let (next, _) = totp(&t.secret, Some(verified_at)).await;
    let s = second.update_mfa_challenge(&c.id, next).await.unwrap();
    assert_eq!(s.factors, vec!["password".to_owned(), "totp".to_owned()]);
    assert!(!s.mfa_updated_at.is_empty());
    assert_eq!(second.get().await.unwrap().email, address);
    assert_eq!(second.get_mfa_recovery_codes().await.unwrap().recovery_codes, codes);

    let third = login().await;
    let r = third.create_mfa_challenge(AuthenticationFactor::Recoverycode).await.unwrap();
    third.update_mfa_challenge(&r.id, &codes[0]).await.unwrap();
    let fourth = login().await;
    let r = fourth.create_mfa_challenge(AuthenticationFactor::Recoverycode).await.unwrap();
    assert_error(fourth.update_mfa_challenge(&r.id, &codes[0]).await, 401, "user_invalid_token");
    assert_error(me.delete_mfa_authenticator(AuthenticatorType::Totp).await, 401, "user_challenge_required");
    third.delete_mfa_authenticator(AuthenticatorType::Totp).await.unwrap();
}
