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
async fn a_verified_provider_email_links_only_to_an_account_that_verified_it_too() {
    let p = MockProvider::start().await;
    let sink = crate::delivery::MailSink::start().await;
    let mail = sink.configure();
    let app = spawn_with(|c: &mut latchkey::Config| {
        mail(c);
        with_provider("oidc", p.settings())(c);
    })
    .await;
    let (email, me) = app.user().await;
    let existing = app.signup(&unique_email()).await; // someone else, untouched
    // Appwrite would link here; an attacker who registered the address first would keep
    // the account through its password after the owner signs in with the provider.
    answers_as_openid(&p, "sub-verified", &email.to_uppercase(), true);
    let login_url = start(&app, "tokens", "oidc", &[]).await;
    let e = failure_error(&come_back(&app, &login_url, "c", None).await);
    assert_eq!(e["type"], "general_bad_request");
    // Once the account has verified its address, the provider's (in any case) links to it.
    let r = app
        .as_user(Method::POST, "/v1/account/verifications/email/otp", &me)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let code = sink.wait_for(&email).await.code();
    let r = app
        .req(Method::PUT, "/v1/account/verifications/email/otp")
        .json(&json!({"userId": me.user_id, "secret": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let login = signed_in(&app, "oidc").await;
    assert_eq!(login.user_id, me.user_id);
    let account = app.account(&login).await;
    assert_eq!(account["email"], email.as_str());
    assert_eq!(account["name"], "Test User", "the account keeps its name");
    assert_ne!(account["$id"], existing["$id"]);
    assert_eq!(
        identities(&app, &login).await["identities"][0]["providerEmail"],
        email.as_str(),
        "stored as emails are: lower case"
    );
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
    let login_url = start_as(&app, "sessions", "oidc", &[], Some(&anon)).await;
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
    let login_url = start_as(&app, "sessions", "oidc", &[], Some(&me)).await;
    let e = failure_error(&come_back(&app, &login_url, "c", Some(&me)).await);
    assert_eq!(e["type"], "user_already_exists");
    assert_eq!(e["code"], 409);

    // An identity already linked to another user cannot be linked again.
    answers_as_openid(&p, "owned", &unique_email(), true);
    let owner = signed_in(&app, "oidc").await;
    let login_url = start_as(&app, "sessions", "oidc", &[], Some(&me)).await;
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
async fn a_deleted_identity_signs_nobody_into_the_account_it_left() {
    let (p, app) = app_with_oidc().await;
    answers_as_openid(&p, "unlinker", &unique_email(), true);
    let login = signed_in(&app, "oidc").await;
    let (pending_user, pending_secret) = token_sign_in(&app, "oidc").await;
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
    // A token issued before cannot make a session for an identity that is gone.
    assert_error(
        exchange(&app, &pending_user, &pending_secret).await,
        401,
        "user_invalid_token",
    )
    .await;
    // The provider user (now with another address) is a stranger to that account, though
    // its old session still names them.
    answers_as_openid(&p, "unlinker", &unique_email(), true);
    let again = signed_in(&app, "oidc").await;
    assert_ne!(again.user_id, login.user_id);
    assert_eq!(identities(&app, &login).await["total"], 0);
}

#[tokio::test]
async fn a_sign_in_finishes_only_in_the_browser_and_for_the_user_that_started_it() {
    let (p, app) = app_with_oidc().await;
    let (_, victim) = app.user().await;
    answers_as_openid(&p, "attacker", &unique_email(), true);
    // The attacker starts a session-flow sign-in and sends the callback URL to the victim:
    // without the attacker's binder cookie it goes nowhere.
    let attackers = start(&app, "sessions", "oidc", &[]).await;
    let r = come_back_in(&app, &attackers, "c", Some(&victim), None).await;
    let e = failure_error(&r);
    assert_eq!(e["type"], "user_unauthorized");
    assert!(
        r.headers().get("set-cookie").is_none(),
        "no session for anyone"
    );
    // Its own browser finishes it, even carrying a stale binder of an earlier sign-in.
    let both = format!(
        "a_oauth2_{PROJECT}=stale; {}",
        attackers.cookie.as_deref().unwrap()
    );
    let r = come_back_in(&app, &attackers, "c", None, Some(&both)).await;
    assert_eq!(location(&r), SUCCESS);
    let cleared = r.headers().get_all("set-cookie").iter().any(|c| {
        c.to_str()
            .unwrap()
            .starts_with(&format!("a_oauth2_{PROJECT}=; Max-Age=0"))
    });
    assert!(cleared, "the binder is spent");
    // The token flow needs no browser (server SDKs start it), but a guest's sign-in cannot
    // link to the signed-in victim who follows it: it signs in the provider's own account.
    let guests = start(&app, "tokens", "oidc", &[]).await;
    let r = come_back(&app, &guests, "c", Some(&victim)).await;
    let to = location(&r);
    assert!(to.starts_with(SUCCESS), "{to}");
    assert_ne!(query(&to)["userId"], victim.user_id);
    assert_eq!(identities(&app, &victim).await["total"], 0);
    // A sign-in the victim started cannot be finished as someone else.
    let (_, other) = app.user().await;
    let victims = start_as(&app, "tokens", "oidc", &[], Some(&victim)).await;
    let e = failure_error(&come_back(&app, &victims, "c", Some(&other)).await);
    assert_eq!(e["type"], "user_unauthorized");
    let e = failure_error(&come_back(&app, &victims, "c", None).await);
    assert_eq!(e["type"], "user_unauthorized");
}
