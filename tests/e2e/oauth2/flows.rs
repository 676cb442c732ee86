//! The session and token flows end to end, the exact requests sent to the provider, the
//! failure redirects and the HTML error pages.

use base64::Engine;

use super::*;

fn github(p: &MockProvider) -> OAuth2Settings {
    OAuth2Settings {
        emails_endpoint: Some(format!("{}/emails", p.base)),
        ..p.settings()
    }
}

fn github_answers(p: &MockProvider, email: &str) {
    // GitHub: no expiry, a numeric id, a null name, the verified address only in /user/emails.
    p.on(
        "/token",
        200,
        json!({"access_token": "gho_live_token", "token_type": "bearer", "scope": "user:email"}),
    )
    .on(
        "/user",
        200,
        json!({"id": 4242, "login": "octocat", "name": null, "email": null}),
    )
    .on(
        "/emails",
        200,
        json!([{"email": "old@example.com", "primary": false, "verified": true},
               {"email": email, "primary": true, "verified": true}]),
    );
}

#[tokio::test]
async fn the_token_flow_sends_pkce_and_exchanges_a_sixty_second_secret_once() {
    let p = MockProvider::start().await;
    let app = spawn_with(with_provider("github", github(&p))).await;
    let email = unique_email();
    github_answers(&p, &email);

    let login_url = start(&app, "tokens", "github", &[("scopes[]", "read:org")]).await;
    assert!(
        login_url.starts_with(&format!("{}/authorize?", p.base)),
        "{login_url}"
    );
    let q = query(&login_url);
    assert_eq!(q["client_id"], "client-123");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["scope"], "user:email read:org");
    assert_eq!(
        q["redirect_uri"],
        format!(
            "{}/v1/account/sessions/oauth2/callback/github/{PROJECT}",
            app.url
        )
    );
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(!q.contains_key("nonce"), "GitHub takes no nonce");
    // Appwrite's state is readable JSON naming the success URL; ours is sealed.
    assert!(!q["state"].contains("localhost"), "{}", q["state"]);

    let r = come_back(&app, &login_url, "the-code", None).await;
    let to = location(&r);
    assert!(to.starts_with(SUCCESS), "{to}");
    let back = query(&to);
    let (user_id, secret) = (back["userId"].clone(), back["secret"].clone());
    assert_eq!(secret.split('.').count(), 3, "a JWT wrapper: {secret}");

    // The code exchange: form-encoded, the verifier whose S256 is the challenge.
    let token_req = &p.requests("/token")[0];
    assert_eq!(token_req.method, "POST");
    assert_eq!(token_req.header("accept"), "application/json");
    assert_eq!(
        token_req.form_field("grant_type").unwrap(),
        "authorization_code"
    );
    assert_eq!(token_req.form_field("code").unwrap(), "the-code");
    assert_eq!(
        token_req.form_field("redirect_uri").unwrap(),
        q["redirect_uri"]
    );
    assert_eq!(token_req.form_field("client_id").unwrap(), "client-123");
    assert_eq!(
        token_req.form_field("client_secret").unwrap(),
        "client-secret-456"
    );
    let verifier = token_req.form_field("code_verifier").unwrap();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(<sha2::Sha256 as sha2::Digest>::digest(verifier.as_bytes()));
    assert_eq!(challenge, q["code_challenge"]);
    let user_req = &p.requests("/user")[0];
    assert_eq!(user_req.header("authorization"), "Bearer gho_live_token");
    assert!(user_req.header("user-agent").starts_with("latchkey/"));
    assert_eq!(
        p.requests("/emails")[0].header("authorization"),
        "Bearer gho_live_token"
    );

    let r = exchange(&app, &user_id, &secret).await;
    assert_eq!(r.status(), 201);
    let login = login_from(r).await;
    let s: Value = app
        .as_user(Method::GET, "/v1/account/sessions/current", &login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["provider"], "github");
    assert_eq!(s["providerUid"], "4242");
    assert_eq!(s["providerAccessToken"], "gho_live_token");
    // Two factors, as the session flow gives: the provider stands in for the second.
    assert_eq!(s["factors"], json!(["email", "oauth2"]));
    let account = app.account(&login).await;
    assert_eq!(account["email"], email.as_str());
    assert_eq!(account["emailVerification"], true);
    assert_eq!(account["name"], "octocat");
    let ids: Value = app
        .as_user(Method::GET, "/v1/account/identities", &login)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ids["total"], 1);
    assert_eq!(ids["identities"][0]["providerEmail"], email.as_str());
    assert_eq!(
        ids["identities"][0]["providerAccessToken"],
        "gho_live_token"
    );
    assert_eq!(ids["identities"][0]["providerIdToken"], "");

    // Once only, and only within 60 s.
    assert_error(
        exchange(&app, &user_id, &secret).await,
        401,
        "user_invalid_token",
    )
    .await;
    let (user_id, secret) = token_sign_in(&app, "github").await;
    app.clock.advance(61_000);
    assert_error(
        exchange(&app, &user_id, &secret).await,
        401,
        "user_invalid_token",
    )
    .await;
    // Provider tokens are sealed at rest.
    let db = dump_database(&app).await;
    assert!(
        !contains(&db, "gho_live_token"),
        "provider token stored in clear"
    );
}

#[tokio::test]
async fn the_session_flow_sets_cookies_and_patch_refreshes_the_provider_tokens() {
    let p = MockProvider::start().await;
    let app = spawn_with(with_provider("google", p.settings())).await;
    let email = unique_email();
    let login_url = start(&app, "sessions", "google", &[]).await;
    let q = query(&login_url);
    let id_token = |nonce: &str| {
        plain_jwt(
            &json!({"iss": "https://accounts.google.com", "aud": "client-123", "sub": "1090", "nonce": nonce}),
        )
    };
    p.on(
        "/token",
        200,
        json!({"access_token": "ya29.first", "expires_in": 3599, "refresh_token": "1//refresh",
               "scope": "openid email profile", "token_type": "Bearer", "id_token": id_token(&q["nonce"])}),
    )
    .on(
        "/user",
        200,
        json!({"sub": "1090", "email": email, "email_verified": true, "name": "Goo Gle"}),
    );
    assert_eq!(q["scope"], "openid email profile");
    assert_eq!(q["access_type"], "offline");
    assert!(q["nonce"].len() >= 16, "a nonce for OpenID providers");
    assert_eq!(q["code_challenge_method"], "S256");

    // An ID token answered with another sign-in's nonce is refused.
    let other = start(&app, "sessions", "google", &[]).await;
    let e = failure_error(&come_back(&app, &other, "g-code", None).await);
    assert_eq!(e["type"], "user_oauth2_provider_failure");
    assert_eq!(
        e["message"],
        "The provider's ID token does not carry this sign-in's nonce."
    );
    let r = come_back(&app, &login_url, "g-code", None).await;
    assert_eq!(
        location(&r),
        SUCCESS,
        "nothing added to an app's own success URL"
    );
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .collect();
    let cookie = cookies
        .iter()
        .find(|c| c.starts_with(&format!("a_session_{PROJECT}=")))
        .expect("session cookie");
    let pair = cookie.split(';').next().unwrap().to_owned();
    let me = |path: &str, method: Method| app.req(method, path).header("cookie", &pair);
    let s: Value = me("/v1/account/sessions/current", Method::GET)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["provider"], "google");
    assert_eq!(s["providerAccessToken"], "ya29.first");
    assert_eq!(s["providerRefreshToken"], "1//refresh");
    assert_eq!(s["factors"], json!(["email", "oauth2"]));

    // PATCH refreshes at the provider; Google sends no new refresh token, so it is kept.
    p.on(
        "/token",
        200,
        json!({"access_token": "ya29.second", "expires_in": 3600, "token_type": "Bearer"}),
    );
    app.clock.advance(60_000);
    let r = me("/v1/account/sessions/current", Method::PATCH)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let before = s["expire"].as_str().unwrap().to_owned();
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["providerAccessToken"], "ya29.second");
    assert!(s["expire"].as_str().unwrap() > before.as_str(), "extended");
    assert_eq!(s["providerRefreshToken"], "1//refresh");
    let refresh = p.requests("/token").last().unwrap().clone();
    assert_eq!(refresh.form_field("grant_type").unwrap(), "refresh_token");
    assert_eq!(refresh.form_field("refresh_token").unwrap(), "1//refresh");
    assert_eq!(
        refresh.form_field("client_secret").unwrap(),
        "client-secret-456"
    );

    // A refused refresh is the provider's failure (424, answered as 500), and the session
    // keeps its tokens.
    p.on("/token", 400, json!({"error": "invalid_grant"}));
    let r = me("/v1/account/sessions/current", Method::PATCH)
        .send()
        .await
        .unwrap();
    assert_error(r, 500, "user_oauth2_provider_failure").await;
}

#[tokio::test]
async fn provider_errors_go_to_the_failure_url_with_appwrites_error_json() {
    let p = MockProvider::start().await;
    let app = spawn_with(with_provider("github", github(&p))).await;
    github_answers(&p, &unique_email());

    // The provider sent the user back with an error.
    let login_url = start(&app, "sessions", "github", &[("state", "app-opaque-1")]).await;
    let q = query(&login_url);
    let r = browser()
        .get(format!(
            "{}?error=access_denied&error_description=The+user+said+no&state={}",
            q["redirect_uri"],
            url_escape(&q["state"])
        ))
        .send()
        .await
        .unwrap();
    let r = to_redirect(&login_url, location(&r)).await;
    let to = location(&r);
    assert_eq!(
        query(&to)["state"],
        "app-opaque-1",
        "the app's state comes back"
    );
    let e = failure_error(&r);
    assert_eq!(e["type"], "user_oauth2_provider_error");
    assert_eq!(e["code"], 424);
    assert_eq!(
        e["message"],
        "The GitHub OAuth2 provider returned an error: access_denied: The user said no"
    );

    // GitHub answers a bad code with 200 and an error field.
    p.on(
        "/token",
        200,
        json!({"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."}),
    );
    let login_url = start(&app, "tokens", "github", &[]).await;
    let e = failure_error(&come_back(&app, &login_url, "stale", None).await);
    assert_eq!(e["type"], "user_oauth2_provider_failure");
    assert_eq!(
        e["message"],
        "GitHub couldn't complete sign-in (bad_verification_code). Please try again."
    );

    // Without a failure URL of the app's, the default one carries the project too.
    let login = start_bare(&app, "tokens", "github").await;
    let r = come_back(&app, &login, "stale", None).await;
    let to = location(&r);
    assert!(
        to.starts_with(&format!("{}/auth/oauth2/failure?", app.url)),
        "{to}"
    );
    assert_eq!(query(&to)["project"], PROJECT);
}

async fn page(r: reqwest::Response, status: u16, ty: &str) {
    assert_eq!(r.status(), status);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let body = r.text().await.unwrap();
    assert!(body.contains(ty), "{body}");
}

#[tokio::test]
async fn start_and_redirect_refuse_bad_requests_with_html_pages() {
    let p = MockProvider::start().await;
    let app = spawn_with(|c: &mut latchkey::Config| {
        let disabled = OAuth2Settings {
            enabled: false,
            ..p.settings()
        };
        let no_secret = OAuth2Settings {
            secret: None,
            ..p.settings()
        };
        let project = &mut c.file.projects[0];
        project.oauth2.insert("github".into(), p.settings());
        project.oauth2.insert("discord".into(), disabled);
        project.oauth2.insert("gitlab".into(), no_secret);
        project.oauth2.insert(
            "oidc-empty".into(),
            OAuth2Settings {
                enabled: true,
                app_id: Some("a".into()),
                secret: Some(latchkey::secret::Secret::new("s")),
                ..OAuth2Settings::default()
            },
        );
    })
    .await;
    let base = app.url.clone();
    let get = |path: String| {
        let url = format!("{base}{path}");
        async move {
            browser()
                .get(url)
                .header("x-appwrite-project", PROJECT)
                .send()
                .await
                .unwrap()
        }
    };
    page(
        get("/v1/account/sessions/oauth2/discord".into()).await,
        412,
        "project_provider_disabled",
    )
    .await;
    page(
        get("/v1/account/tokens/oauth2/gitlab".into()).await,
        412,
        "project_provider_disabled",
    )
    .await;
    page(
        get("/v1/account/sessions/oauth2/twitch".into()).await,
        412,
        "project_provider_disabled",
    )
    .await;
    page(
        get("/v1/account/sessions/oauth2/GitHub".into()).await,
        400,
        "general_argument_invalid",
    )
    .await;
    page(
        get("/v1/account/sessions/oauth2/github?success=https://evil.example.net/".into()).await,
        400,
        "general_argument_invalid",
    )
    .await;
    // An OpenID provider with no way to find its endpoints: Appwrite's 500.
    page(
        get("/v1/account/sessions/oauth2/oidc-empty".into()).await,
        500,
        "general_server_error",
    )
    .await;

    // A state we did not seal (Appwrite's plain JSON) cannot choose where to go.
    let forged = url_escape(r#"{"success":"http://localhost:3000/ok","failure":"","token":true}"#);
    page(
        get(format!(
            "/v1/account/sessions/oauth2/github/redirect?code=c&state={forged}&project={PROJECT}"
        ))
        .await,
        400,
        "general_argument_invalid",
    )
    .await;
    // A state sealed for another provider does not open here either.
    let login_url = start(&app, "sessions", "github", &[]).await;
    let state = url_escape(&query(&login_url)["state"]);
    page(
        get(format!(
            "/v1/account/sessions/oauth2/discord/redirect?code=c&state={state}&project={PROJECT}"
        ))
        .await,
        400,
        "general_argument_invalid",
    )
    .await;
    // Nor after fifteen minutes.
    app.clock.advance(15 * 60 * 1000);
    page(
        get(format!(
            "/v1/account/sessions/oauth2/github/redirect?code=c&state={state}&project={PROJECT}"
        ))
        .await,
        400,
        "general_argument_invalid",
    )
    .await;
    assert!(p.requests("/token").is_empty(), "no code was exchanged");
}

#[tokio::test]
async fn an_unknown_provider_in_the_config_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = latchkey::Config::new(dir.path().join("data"));
    config.has_config_file = true;
    let mut project = test_project();
    project
        .oauth2
        .insert("amazon".into(), OAuth2Settings::default());
    config.file.projects = vec![project];
    let err = latchkey::AppState::build(&config)
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .contains("no adapter for the OAuth2 provider `amazon`"),
        "{err}"
    );
}

#[tokio::test]
async fn left_out_success_and_failure_urls_are_the_projects_url() {
    let p = MockProvider::start().await;
    let app = spawn_with(|c: &mut latchkey::Config| {
        let project = &mut c.file.projects[0];
        // Not a platform: the operator's own setting is trusted.
        project.url = Some("https://www.example.org/app".into());
        project.oauth2.insert("github".into(), github(&p));
    })
    .await;
    github_answers(&p, &unique_email());
    let r = come_back(
        &app,
        &start_bare(&app, "tokens", "github").await,
        "code",
        None,
    )
    .await;
    let to = location(&r);
    assert!(to.starts_with("https://www.example.org/app?"), "{to}");
    assert!(query(&to).contains_key("secret"));
    p.on("/token", 200, json!({"error": "bad_verification_code"}));
    let r = come_back(
        &app,
        &start_bare(&app, "sessions", "github").await,
        "code",
        None,
    )
    .await;
    let to = location(&r);
    assert!(to.starts_with("https://www.example.org/app?error="), "{to}");
    assert!(
        !query(&to).contains_key("project"),
        "only the relay page gets the project"
    );
}
