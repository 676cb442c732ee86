//! Every Account method of the pinned `appwrite` crate that this server supports so far, with
//! success and error paths. The crate deserialises responses into typed models, so a missing or
//! mistyped field fails here.

use appwrite::client::Client;
use appwrite::id::ID;
use appwrite::query::Query;
use appwrite::services::account::Account;

const PASSWORD: &str = "rust-password-123";

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

fn email() -> String {
    format!("rust-{}@example.com", ID::unique())
}

async fn sign_in() -> (String, appwrite::models::User, appwrite::models::Session, Account) {
    let address = email();
    let user = admin().create(ID::unique(), address.clone(), PASSWORD, Some("Rust User")).await.unwrap();
    let session = admin().create_email_password_session(address.clone(), PASSWORD).await.unwrap();
    let me = Account::new(&client().set_session(session.secret.clone()));
    (address, user, session, me)
}

fn assert_error<T: std::fmt::Debug>(r: appwrite::error::Result<T>, code: u16, ty: &str) {
    let e = r.expect_err("an error");
    assert_eq!(e.status_code(), code, "{}", e.get_message());
    assert_eq!(e.get_type(), Some(ty), "{}", e.get_message());
}

#[tokio::test]
async fn create_session_through_a_key_then_get_with_set_session() {
    let (address, user, session, me) = sign_in().await;
    assert_eq!(user.email, address);
    assert!(!session.secret.is_empty());
    let account = me.get().await.unwrap();
    assert_eq!(account.id, user.id);
    assert_eq!(account.name, "Rust User");
    assert_error(admin().create(ID::unique(), address, PASSWORD, None).await, 409, "user_already_exists");
    assert_error(admin().get().await, 401, "general_unauthorized_scope");
}

#[tokio::test]
async fn profile_updates() {
    let (address, _, _, me) = sign_in().await;
    assert_eq!(me.update_name("Renamed").await.unwrap().name, "Renamed");
    let updated = me.update_prefs(serde_json::json!({"theme": "dark"})).await.unwrap();
    assert_eq!(updated.prefs.get::<String>("theme").as_deref(), Some("dark"));
    assert_eq!(me.get_prefs().await.unwrap().get::<String>("theme").as_deref(), Some("dark"));
    assert_error(me.update_password("new-password-1", Some("wrong-old")).await, 401, "user_invalid_credentials");
    me.update_password("new-password-1", Some(PASSWORD)).await.unwrap();
    admin().create_email_password_session(address, "new-password-1").await.unwrap();
    let next = email();
    assert_eq!(me.update_email(next.clone(), "new-password-1").await.unwrap().email, next);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let phone = format!("+1650{:07}", nanos % 10_000_000);
    assert_eq!(me.update_phone(phone.clone(), "new-password-1").await.unwrap().phone, phone);
    assert_error(me.update_phone("123", "new-password-1").await, 400, "general_argument_invalid");
}

#[tokio::test]
async fn sessions_list_get_update_delete() {
    let (address, _, session, me) = sign_in().await;
    let second = admin().create_email_password_session(address, PASSWORD).await.unwrap();
    let list = me.list_sessions().await.unwrap();
    assert_eq!(list.total, 2);
    assert_eq!(me.get_session("current").await.unwrap().id, session.id);
    assert_eq!(me.update_session("current").await.unwrap().id, session.id);
    assert_error(me.get_session("missing").await, 404, "user_session_not_found");
    me.delete_session(&second.id).await.unwrap();
    assert_eq!(me.list_sessions().await.unwrap().total, 1);
    me.delete_sessions().await.unwrap();
    assert_error(me.get().await, 401, "general_unauthorized_scope");
}

#[tokio::test]
async fn anonymous_jwt_identities_logs_and_status() {
    let anon = admin().create_anonymous_session().await.unwrap();
    assert_eq!(anon.provider, "anonymous");
    let me = Account::new(&client().set_session(anon.secret.clone()));
    let jwt = me.create_jwt(None).await.unwrap().jwt;
    let via_jwt = Account::new(&client().set_jwt(jwt));
    assert_eq!(via_jwt.get().await.unwrap().id, anon.user_id);
    let ids = me.list_identities(Some(vec![Query::limit(5).to_string()]), Some(false)).await.unwrap();
    assert_eq!(ids.total, 0);
    assert_error(me.delete_identity("missing").await, 404, "user_identity_not_found");
    let logs = me.list_logs(None, None).await.unwrap();
    assert_eq!(logs.logs[0].event, "session.create");
    assert!(!me.update_status().await.unwrap().status);
    assert_error(me.get().await, 403, "user_blocked");
}
