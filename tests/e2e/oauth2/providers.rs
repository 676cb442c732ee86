//! Provider-shaped endpoints for the adapters whose wire differs: Apple (form_post, an ES256
//! client secret, the user in the ID token, the name posted once), Microsoft (tenant, Graph),
//! GitLab (self-hosted base URL), Discord, X (HTTP Basic), and OpenID discovery.

use base64::Engine;

use super::*;

#[tokio::test]
async fn apple_posts_the_answer_and_gets_a_client_secret_signed_with_the_app_key() {
    let p = MockProvider::start().await;
    let key = ec_key();
    let settings = OAuth2Settings {
        app_id: Some("com.example.web".into()),
        secret: Some(latchkey::secret::Secret::new(key.pem.clone())),
        key_id: Some("KEY123".into()),
        team_id: Some("TEAM456".into()),
        userinfo_endpoint: None,
        ..p.settings()
    };
    let app = spawn_with(with_provider("apple", settings)).await;
    let login_url = start(&app, "sessions", "apple", &[]).await;
    let q = query(&login_url);
    assert_eq!(q["response_mode"], "form_post");
    assert_eq!(q["scope"], "name email");
    let nonce = q["nonce"].clone();
    let email = unique_email();
    p.on(
        "/token",
        200,
        json!({"access_token": "apple-at", "token_type": "Bearer", "expires_in": 3600,
               "refresh_token": "apple-rt",
               "id_token": plain_jwt(&json!({"iss": "https://appleid.apple.com", "aud": "com.example.web", "sub": "001234.abc",
                   "email": email, "email_verified": "true", "nonce": nonce}))}),
    );
    // Apple posts code, state and (first time only) the user's name to the callback.
    let r = browser()
        .post(&q["redirect_uri"])
        .form(&[
            ("code", "apple-code"),
            ("state", q["state"].as_str()),
            (
                "user",
                r#"{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"x"}"#,
            ),
        ])
        .send()
        .await
        .unwrap();
    let r = to_redirect(&login_url, location(&r)).await;
    assert_eq!(location(&r), SUCCESS);
    let token_req = &p.requests("/token")[0];
    assert!(
        token_req.form_field("code_verifier").is_none(),
        "Apple takes no PKCE"
    );
    let secret = token_req.form_field("client_secret").unwrap();
    let claims = key.verify(&secret).expect("signed with the app's key");
    assert_eq!(claims["iss"], "TEAM456");
    assert_eq!(claims["sub"], "com.example.web");
    assert_eq!(claims["aud"], "https://appleid.apple.com");
    let header = jsonwebtoken::decode_header(&secret).unwrap();
    assert_eq!(header.kid.as_deref(), Some("KEY123"));
    assert!(
        p.requests("/user").is_empty(),
        "the user comes from the ID token"
    );
    let fallback: Value =
        serde_json::from_str(r.headers()["x-fallback-cookies"].to_str().unwrap()).unwrap();
    let login = Login {
        user_id: String::new(),
        session_id: String::new(),
        encoded: fallback[format!("a_session_{PROJECT}")]
            .as_str()
            .unwrap()
            .into(),
    };
    let account = app.account(&login).await;
    assert_eq!(account["name"], "Ada Lovelace");
    assert_eq!(account["email"], email.as_str());
    assert_eq!(
        account["emailVerification"], true,
        "Apple's \"true\" string"
    );

    // An ID token without this sign-in's nonce is refused.
    let login_url = start(&app, "tokens", "apple", &[]).await;
    p.on(
        "/token",
        200,
        json!({"access_token": "a", "id_token": plain_jwt(&json!({"iss": "https://appleid.apple.com", "aud": "com.example.web", "sub": "001234.abc", "email": email, "nonce": "replayed"}))}),
    );
    let e = failure_error(&come_back(&app, &login_url, "c2", None).await);
    assert_eq!(e["type"], "user_oauth2_provider_failure");
}

#[tokio::test]
async fn microsoft_uses_the_tenant_and_reads_graph_without_trusting_its_email() {
    let p = MockProvider::start().await;
    let settings = OAuth2Settings {
        tenant: Some("contoso.onmicrosoft.com".into()),
        authorization_endpoint: None,
        ..p.settings()
    };
    let app = spawn_with(with_provider("microsoft", settings)).await;
    let login_url = start(&app, "tokens", "microsoft", &[]).await;
    assert!(
        login_url.starts_with(
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize?"
        ),
        "{login_url}"
    );
    let q = query(&login_url);
    assert_eq!(q["scope"], "openid offline_access user.read");
    assert!(q.contains_key("nonce") && q.contains_key("code_challenge"));
    let email = unique_email();
    p.on(
        "/token",
        200,
        json!({"token_type": "Bearer", "scope": "User.Read", "expires_in": 4000, "ext_expires_in": 4000,
               "access_token": "eyJ0eXAi.ms", "refresh_token": "ms-rt"}),
    )
    .on(
        "/user",
        200,
        json!({"id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd", "displayName": "Megan Bowen",
               "mail": email, "userPrincipalName": "megan@contoso.onmicrosoft.com"}),
    );
    let login = signed_in_from(&app, &login_url).await;
    let account = app.account(&login).await;
    assert_eq!(account["email"], email.as_str());
    assert_eq!(account["name"], "Megan Bowen");
    assert_eq!(account["emailVerification"], false);
}

/// Completes a token-flow sign-in whose login URL the test already has.
async fn signed_in_from(app: &TestApp, login_url: &Started) -> Login {
    let r = come_back(app, login_url, "code", None).await;
    let to = location(&r);
    assert!(to.starts_with(SUCCESS), "{to}");
    let q = query(&to);
    let r = exchange(app, &q["userId"], &q["secret"]).await;
    assert_eq!(r.status(), 201);
    login_from(r).await
}

#[tokio::test]
async fn gitlab_self_hosted_runs_on_its_base_url_and_reads_confirmed_at() {
    let p = MockProvider::start().await;
    let settings = OAuth2Settings {
        base_url: Some(format!("{}/", p.base)),
        authorization_endpoint: None,
        token_endpoint: None,
        userinfo_endpoint: None,
        ..p.settings()
    };
    let app = spawn_with(with_provider("gitlab", settings)).await;
    let login_url = start(&app, "tokens", "gitlab", &[]).await;
    assert!(
        login_url.starts_with(&format!("{}/oauth/authorize?", p.base)),
        "{login_url}"
    );
    assert_eq!(query(&login_url)["scope"], "read_user");
    let email = unique_email();
    p.on(
        "/oauth/token",
        200,
        json!({"access_token": "glpat", "token_type": "Bearer", "expires_in": 7200,
               "refresh_token": "gl-rt", "created_at": 1607635748}),
    )
    .on(
        "/api/v4/user",
        200,
        json!({"id": 1, "username": "john_smith", "name": "John Smith", "email": email,
               "confirmed_at": "2012-05-23T09:05:22Z"}),
    );
    let login = signed_in_from(&app, &login_url).await;
    assert_eq!(
        p.requests("/api/v4/user")[0].header("authorization"),
        "Bearer glpat"
    );
    let account = app.account(&login).await;
    assert_eq!(account["emailVerification"], true);
    assert_eq!(account["name"], "John Smith");
}

#[tokio::test]
async fn discord_reads_its_user_and_x_authenticates_with_http_basic() {
    let p = MockProvider::start().await;
    let app = spawn_with(|c: &mut latchkey::Config| {
        let project = &mut c.file.projects[0];
        project.oauth2.insert("discord".into(), p.settings());
        project.oauth2.insert("x".into(), p.settings());
    })
    .await;
    let email = unique_email();
    p.on(
        "/token",
        200,
        json!({"access_token": "dc-at", "token_type": "Bearer", "expires_in": 604800,
               "refresh_token": "dc-rt", "scope": "identify email"}),
    )
    .on(
        "/user",
        200,
        json!({"id": "80351110224678912", "username": "nelly", "global_name": "Nelly",
               "email": email, "verified": true}),
    );
    let login_url = start(&app, "tokens", "discord", &[]).await;
    assert_eq!(query(&login_url)["scope"], "identify email");
    let login = signed_in_from(&app, &login_url).await;
    let account = app.account(&login).await;
    assert_eq!(
        (
            account["name"].as_str(),
            account["emailVerification"].as_bool()
        ),
        (Some("Nelly"), Some(true))
    );

    p.on(
        "/user",
        200,
        json!({"data": {"id": "2244994945", "name": "X Dev", "username": "xdev",
                        "confirmed_email": unique_email()}}),
    );
    let login_url = start(&app, "tokens", "x", &[]).await;
    assert!(
        query(&login_url).contains_key("code_challenge"),
        "X requires PKCE"
    );
    signed_in_from(&app, &login_url).await;
    let token_req = p.requests("/token").last().unwrap().clone();
    let basic = base64::engine::general_purpose::STANDARD.encode("client-123:client-secret-456");
    assert_eq!(token_req.header("authorization"), format!("Basic {basic}"));
    assert!(token_req.form_field("client_secret").is_none());
}

#[tokio::test]
async fn oidc_providers_find_their_endpoints_in_the_discovery_document() {
    let p = MockProvider::start().await;
    p.on(
        "/.well-known/openid-configuration",
        200,
        json!({"issuer": p.base, "authorization_endpoint": format!("{}/authorize", p.base),
               "token_endpoint": format!("{}/token", p.base),
               "userinfo_endpoint": format!("{}/user", p.base)}),
    );
    let settings = OAuth2Settings {
        well_known_endpoint: Some(format!("{}/.well-known/openid-configuration", p.base)),
        authorization_endpoint: None,
        token_endpoint: None,
        userinfo_endpoint: None,
        scopes: vec!["groups".into()],
        ..p.settings()
    };
    // A second OpenID provider next to the first: `oidc-<name>`.
    let app = spawn_with(with_provider("oidc-corp", settings)).await;
    let login_url = start(&app, "tokens", "oidc-corp", &[]).await;
    assert!(login_url.starts_with(&format!("{}/authorize?", p.base)));
    assert_eq!(query(&login_url)["scope"], "openid email profile groups");
    answers_as_openid(&p, "corp-1", &unique_email(), true);
    let login = signed_in_from(&app, &login_url).await;
    let s: Value = app
        .as_user(Method::GET, "/v1/account/sessions/current", &login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["provider"], "oidc-corp");
    assert_eq!(
        p.requests("/.well-known/openid-configuration").len(),
        1,
        "cached"
    );
    let e = failure_error(&{
        let u = start(&app, "tokens", "oidc-corp", &[]).await;
        p.on("/token", 503, json!({}));
        come_back(&app, &u, "c", None).await
    });
    assert_eq!(
        e["message"],
        "oidc-corp couldn't complete sign-in (http_503). Please try again."
    );
}
