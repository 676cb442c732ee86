//! Which account a provider identity signs into (spec §7.4 steps 5–8): a verified provider
//! email links to an existing account, an unverified one cannot take it over, an anonymous
//! account is upgraded in place, and an email held by someone else is a conflict.

use super::*;

async fn app_with_oidc() -> (MockProvider, TestApp) {
    let p = MockProvider::start().await;
    let app = spawn_with(with_provider("oidc", p.settings())).await;
    (p, app)
}

async fn identities(app: &TestApp, login: &Login) -> Value {
    app.as_user(Method::GET, "/v1/account/identities", login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_verified_provider_email_links_to_the_existing_account() {
    let (p, app) = app_with_oidc().await;
    let (email, _) = app.user().await;
    let existing = app.signup(&unique_email()).await; // someone else, untouched
    answers_as_openid(&p, "sub-verified", &email, true);
    let login = signed_in(&app, "oidc").await;
    let account = app.account(&login).await;
    assert_eq!(account["email"], email.as_str());
    assert_eq!(account["name"], "Test User", "the account keeps its name");
    assert_ne!(account["$id"], existing["$id"]);
    assert_eq!(
        identities(&app, &login).await["identities"][0]["providerUid"],
        "sub-verified"
    );
    // The password still works: linking changed nothing else.
    app.login(&email, PASSWORD).await;

    // Later sign-ins find the user by the provider's id, even after the email changed there.
    answers_as_openid(&p, "sub-verified", &unique_email(), true);
    let again = signed_in(&app, "oidc").await;
    assert_eq!(again.user_id, login.user_id);
    let ids = identities(&app, &again).await;
    assert_eq!(ids["total"], 1, "one identity per provider user");
}

#[tokio::test]
async fn an_unverified_provider_email_cannot_take_over_an_account() {
    let (p, app) = app_with_oidc().await;
    let (email, victim) = app.user().await;
    answers_as_openid(&p, "attacker", &email, false);
    let login_url = start(&app, "tokens", "oidc", &[]).await;
    let e = failure_error(&come_back(&app, &login_url, "c", None).await);
    assert_eq!(e["type"], "general_bad_request");
    assert_eq!(e["code"], 400);
    assert_eq!(identities(&app, &victim).await["total"], 0);
    let db = dump_database(&app).await;
    assert!(
        !contains(&db, "attacker"),
        "no identity or session was stored"
    );
}

#[tokio::test]
async fn a_new_provider_user_gets_an_account_verified_only_as_the_provider_says() {
    let (p, app) = app_with_oidc().await;
    let email = unique_email();
    answers_as_openid(&p, "newcomer", &email, false);
    let login = signed_in(&app, "oidc").await;
    let account = app.account(&login).await;
    assert_eq!(account["email"], email.as_str());
    assert_eq!(account["emailVerification"], false);
    assert_eq!(account["name"], "Provider Name");
    assert_eq!(account["passwordUpdate"], "");
    assert_eq!(account["targets"][0]["identifier"], email.as_str());

    // A provider that gives no email cannot make an account.
    p.on("/user", 200, json!({"sub": "no-mail", "name": "Nobody"}));
    let login_url = start(&app, "tokens", "oidc", &[]).await;
    let e = failure_error(&come_back(&app, &login_url, "c", None).await);
    assert_eq!(e["type"], "user_unauthorized");
    // Nor one without an id.
    p.on("/user", 200, json!({"email": unique_email()}));
    let login_url = start(&app, "tokens", "oidc", &[]).await;
    let e = failure_error(&come_back(&app, &login_url, "c", None).await);
    assert_eq!(e["type"], "user_missing_id");
}

#[tokio::test]
async fn an_anonymous_account_is_upgraded_in_place() {
    let (p, app) = app_with_oidc().await;
    let r = app
        .req(Method::POST, "/v1/account/sessions/anonymous")
        .send()
        .await
        .unwrap();
    let anon = login_from(r).await;
    let email = unique_email();
    answers_as_openid(&p, "upgrader", &email, true);
    let login_url = start(&app, "sessions", "oidc", &[]).await;
    let r = come_back(&app, &login_url, "c", Some(&anon)).await;
    assert_eq!(location(&r), SUCCESS);
    let fallback: Value =
        serde_json::from_str(r.headers()["x-fallback-cookies"].to_str().unwrap()).unwrap();
    let upgraded = Login {
        user_id: anon.user_id.clone(),
        session_id: String::new(),
        encoded: fallback[format!("a_session_{PROJECT}")]
            .as_str()
            .unwrap()
            .into(),
    };
    let account = app.account(&upgraded).await;
    assert_eq!(account["$id"], anon.user_id.as_str(), "same user");
    assert_eq!(
        account["email"],
        email.as_str(),
        "the provider email adopted"
    );
    assert_eq!(account["emailVerification"], true);
    // The anonymous session was replaced by the new one.
    let r = app
        .as_user(Method::GET, "/v1/account", &anon)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_signed_in_user_cannot_link_an_identity_whose_email_is_someone_elses() {
    let (p, app) = app_with_oidc().await;
    let (taken, _) = app.user().await;
    let (_, me) = app.user().await;
    answers_as_openid(&p, "mine", &taken, true);
    let login_url = start(&app, "sessions", "oidc", &[]).await;
    let e = failure_error(&come_back(&app, &login_url, "c", Some(&me)).await);
    assert_eq!(e["type"], "user_already_exists");
    assert_eq!(e["code"], 409);

    // An identity already linked to another user cannot be linked again.
    answers_as_openid(&p, "owned", &unique_email(), true);
    let owner = signed_in(&app, "oidc").await;
    let login_url = start(&app, "sessions", "oidc", &[]).await;
    let e = failure_error(&come_back(&app, &login_url, "c", Some(&me)).await);
    assert_eq!(e["type"], "user_already_exists");
    assert_eq!(identities(&app, &owner).await["total"], 1);
    assert_eq!(identities(&app, &me).await["total"], 0);
}

#[tokio::test]
async fn a_blocked_user_cannot_sign_in_with_a_provider() {
    let (p, app) = app_with_oidc().await;
    answers_as_openid(&p, "blocked-one", &unique_email(), true);
    let login = signed_in(&app, "oidc").await;
    let r = app
        .as_user(Method::PATCH, "/v1/account/status", &login)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let login_url = start(&app, "tokens", "oidc", &[]).await;
    let e = failure_error(&come_back(&app, &login_url, "c", None).await);
    assert_eq!(e["type"], "user_blocked");
}

#[tokio::test]
async fn deleting_an_identity_unlinks_it_and_the_next_sign_in_links_anew() {
    let (p, app) = app_with_oidc().await;
    let email = unique_email();
    answers_as_openid(&p, "unlinker", &email, true);
    let login = signed_in(&app, "oidc").await;
    let ids = identities(&app, &login).await;
    let id = ids["identities"][0]["$id"].as_str().unwrap().to_owned();
    let r = app
        .as_user(
            Method::DELETE,
            &format!("/v1/account/identities/{id}"),
            &login,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(identities(&app, &login).await["total"], 0);
    // The verified email still leads to the same account.
    let again = signed_in(&app, "oidc").await;
    assert_eq!(again.user_id, login.user_id);
    assert_eq!(identities(&app, &again).await["total"], 1);
}
