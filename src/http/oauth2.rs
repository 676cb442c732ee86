//! OAuth2 browser routes (spec §7.2–§7.4) and ID-token sessions (2.x): the start routes send
//! the browser to the provider, the callback hands its answer to the redirect route, which
//! exchanges the code and signs the user in.

use axum::http::HeaderName;
use base64::Engine;
use serde_json::json;

use crate::domain::oauth2::state::LIFETIME_MS as STATE_LIFETIME_MS;
use crate::domain::oauth2::state::OAuthState;
use crate::domain::oauth2::{
    self as rules, Caller, Flow, ProviderTokens, ProviderUser, SignedIn, secrets,
};
use crate::error::{Error, ErrorType, Result};
use crate::http::cookies::{cookie_name, hostname, oauth2_cookie};
use crate::http::gate::{self, Ctx};
use crate::http::params::{Args, check_redirect};
use crate::http::reply::Reply;
use crate::http::sessions::created;
use crate::oauth2::client::Authorize;
use crate::oauth2::{id_token, label_of};
use crate::secret::{Secret, secrets_equal, sha256, sha256_hex};

const LOCATION: HeaderName = HeaderName::from_static("location");
/// The pages a sign-in returns to when the app names none (Appwrite's console pages in
/// `root` mode); with them the failure URL also carries `project`.
const DEFAULT_SUCCESS_PATH: &str = "/auth/oauth2/success";
const DEFAULT_FAILURE_PATH: &str = "/auth/oauth2/failure";

/// A 301 to `location` (the no-cache headers are on every reply).
fn moved(location: String) -> Reply {
    let mut r = Reply::empty();
    r.headers.push((LOCATION, location));
    r
}

/// `<scheme>://<host>` of this server as the browser reaches it: `publicUrl` when set (a
/// forged `Host` must not choose where a provider sends its code), else the request's.
fn base_url(ctx: &Ctx) -> String {
    match &ctx.state.public_url {
        Some(u) => u.clone(),
        None => format!(
            "{}://{}",
            if ctx.request.https { "https" } else { "http" },
            ctx.request.host
        ),
    }
}

/// The binder cookie's path: the account routes under `publicUrl`'s own path, where the
/// redirect route is (a `publicUrl` of `https://x.example/api` serves `/api/v1/account/…`).
fn cookie_path(ctx: &Ctx) -> String {
    let prefix = ctx
        .state
        .public_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    format!("{prefix}/v1/account")
}

fn callback_url(ctx: &Ctx, provider: &str, project: &str) -> String {
    format!(
        "{}/v1/account/sessions/oauth2/callback/{provider}/{project}",
        base_url(ctx)
    )
}

fn base64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `account.createOAuth2Session` — GET /v1/account/sessions/oauth2/:provider.
pub async fn create_oauth2_session(ctx: Ctx, a: Args) -> Result<Reply> {
    start(ctx, a, false).await
}

/// `account.createOAuth2Token` — GET /v1/account/tokens/oauth2/:provider.
pub async fn create_oauth2_token(ctx: Ctx, a: Args) -> Result<Reply> {
    start(ctx, a, true).await
}

async fn start(ctx: Ctx, a: Args, token: bool) -> Result<Reply> {
    let provider = a.str("provider")?;
    let now = ctx.state.clock.now_ms();
    let configured = ctx
        .state
        .oauth2
        .configure(&ctx.project.settings, provider, now)
        .await?;
    // Left out, they are the project's `url` (the operator contract), else this server's
    // relay pages (Appwrite's console pages in `root` mode).
    let base = base_url(&ctx);
    let project_url = ctx
        .project
        .settings
        .url
        .as_deref()
        .filter(|u| !u.is_empty());
    let pick = |name: &str, default_path: &str| {
        a.opt_str(name)
            .filter(|s| !s.is_empty())
            .or(project_url)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{base}{default_path}"))
    };
    let success = pick("success", DEFAULT_SUCCESS_PATH);
    let failure = pick("failure", DEFAULT_FAILURE_PATH);
    // PKCE and nonce wherever the provider takes them, even where Appwrite sends neither.
    let verifier = if configured.spec.pkce {
        base64url(crate::domain::ids::random_hex(32).as_bytes())
    } else {
        String::new()
    };
    let nonce = if configured.spec.nonce {
        crate::domain::ids::random_hex(16)
    } else {
        String::new()
    };
    // The session flow ends in this browser's cookies, so it must end in the browser that
    // started it: a binder cookie, its hash in the state.
    let binder = (!token).then(|| crate::domain::ids::random_hex(32));
    let state = OAuthState {
        success,
        failure,
        token,
        provider: provider.to_owned(),
        project: ctx.project.id.clone(),
        verifier: verifier.clone(),
        nonce: nonce.clone(),
        app_state: a.opt_str("state").unwrap_or_default().to_owned(),
        user: match &ctx.caller {
            gate::Caller::User { user, .. } => user.id.clone(),
            _ => String::new(),
        },
        binder: binder.as_deref().map(sha256_hex).unwrap_or_default(),
        started: now,
    }
    .seal(&ctx.state.sealer);
    let challenge = (!verifier.is_empty()).then(|| base64url(&sha256(&verifier)));
    let redirect_uri = callback_url(&ctx, provider, &ctx.project.id);
    let scopes = a.list("scopes");
    let url = configured
        .authorize_url(&Authorize {
            redirect_uri: &redirect_uri,
            state: &state,
            scopes: &scopes,
            challenge: challenge.as_deref(),
            nonce: (!nonce.is_empty()).then_some(nonce.as_str()),
        })
        .map_err(|e| e.into_error(&label_of(configured.spec, provider)))?;
    let mut reply = moved(url);
    if let Some(b) = binder {
        reply.cookies.push(oauth2_cookie(
            &ctx.project.id,
            &b,
            STATE_LIFETIME_MS / 1000,
            &cookie_path(&ctx),
            ctx.request.https,
        ));
    }
    Ok(reply)
}

/// The params the callback passes on, in this order (Apple posts `user` with the name).
const PASSED_ON: &[&str] = &["code", "state", "error", "error_description", "user"];

/// `account.createOAuth2Callback` — GET|POST /v1/account/sessions/oauth2/callback/:provider/:projectId:
/// no checks here (the provider's browser redirect carries no project header); the redirect
/// route does them.
pub async fn callback(ctx: Ctx, a: Args) -> Result<Reply> {
    let provider = a.str("provider")?;
    let project = a.str("projectId")?;
    let mut u = url::Url::parse(&format!(
        "{}/v1/account/sessions/oauth2/{provider}/redirect",
        base_url(&ctx)
    ))
    .map_err(|e| Error::internal(anyhow::anyhow!("redirect URL: {e}")))?;
    {
        let mut q = u.query_pairs_mut();
        for name in PASSED_ON {
            if let Some(v) = a.opt_str(name).filter(|v| !v.is_empty()) {
                q.append_pair(name, v);
            }
        }
        q.append_pair("project", project);
    }
    Ok(moved(u.into()))
}

/// Where the browser goes when the sign-in fails after the state was read (spec §7.4
/// step 3): the failure URL with the error as JSON, else the HTML error page.
fn fail(state: &OAuthState, base: &str, e: Error) -> Result<Reply> {
    if state.failure.is_empty() {
        return Err(e);
    }
    let mut params = vec![(
        "error",
        json!({"message": e.message(), "type": e.ty.as_str(), "code": e.ty.status()}).to_string(),
    )];
    if state.failure == format!("{base}{DEFAULT_FAILURE_PATH}") {
        params.push(("project", state.project.clone()));
    }
    if !state.app_state.is_empty() {
        params.push(("state", state.app_state.clone()));
    }
    if let Some(src) = &e.source {
        tracing::error!(error = %src, "OAuth2 sign-in failed");
    }
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Ok(moved(crate::domain::tokens::link(&state.failure, &pairs)?))
}

/// Apple posts the user's name once, on the first sign-in, as JSON in `user`.
fn apple_name(raw: Option<&str>) -> String {
    raw.and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
        .map(|v| {
            let part = |k: &str| {
                v.pointer(&format!("/name/{k}"))
                    .and_then(|x| x.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            format!("{} {}", part("firstName"), part("lastName"))
                .trim()
                .to_owned()
        })
        .unwrap_or_default()
}

/// `account.createOAuth2Redirect` — GET /v1/account/sessions/oauth2/:provider/redirect.
pub async fn redirect(ctx: Ctx, a: Args) -> Result<Reply> {
    let provider = a.str("provider")?;
    let now = ctx.state.clock.now_ms();
    let base = base_url(&ctx);
    // Step 1: a state we did not seal, for another project or provider, or too old, cannot
    // say where to go; it is refused on the page.
    let state = OAuthState::open(
        &ctx.state.sealer,
        a.opt_str("state").unwrap_or_default(),
        &ctx.project.id,
        provider,
        now,
    )
    .ok_or_else(|| {
        Error::from(ErrorType::GeneralArgumentInvalid).with_message(
            "The OAuth2 state is missing, invalid or expired. Start the sign-in again.",
        )
    })?;
    // Step 2; the defaults (the project's `url`, this server's relay pages) are trusted.
    let trusted = |u: &str| {
        ctx.project.settings.url.as_deref() == Some(u)
            || u == format!("{base}{DEFAULT_SUCCESS_PATH}")
            || u == format!("{base}{DEFAULT_FAILURE_PATH}")
    };
    if !trusted(&state.success) && check_redirect(&state.success, &ctx.project).is_err() {
        return Err(ErrorType::ProjectInvalidSuccessUrl.into());
    }
    if !state.failure.is_empty()
        && !trusted(&state.failure)
        && check_redirect(&state.failure, &ctx.project).is_err()
    {
        return Err(ErrorType::ProjectInvalidFailureUrl.into());
    }
    match signed_in(&ctx, &a, provider, &state, now).await {
        Ok(reply) => Ok(reply),
        Err(e) => fail(&state, &base, e),
    }
}

async fn signed_in(
    ctx: &Ctx,
    a: &Args,
    provider: &str,
    state: &OAuthState,
    now: i64,
) -> Result<Reply> {
    if !state.binder.is_empty() {
        let bound = ctx
            .request
            .oauth2_binders
            .iter()
            .any(|v| secrets_equal(&sha256_hex(v.expose()), &state.binder));
        if !bound {
            return Err(not_this_browser());
        }
    }
    let configured = ctx
        .state
        .oauth2
        .configure(&ctx.project.settings, provider, now)
        .await?;
    let label = label_of(configured.spec, provider);
    if let Some(error) = a.opt_str("error").filter(|e| !e.is_empty()) {
        let mut message = format!(
            "The {label} OAuth2 provider returned an error: {}",
            bounded(error)
        );
        if let Some(d) = a.opt_str("error_description").filter(|d| !d.is_empty()) {
            message.push_str(": ");
            message.push_str(&bounded(d));
        }
        return Err(Error::from(ErrorType::UserOauth2ProviderError).with_message(message));
    }
    let code = a
        .opt_str("code")
        .filter(|c| !c.is_empty())
        .ok_or(ErrorType::UserOauth2ProviderError)?;
    let http = &ctx.state.oauth2.http;
    let redirect_uri = callback_url(ctx, provider, &ctx.project.id);
    let (mut tokens, answer) = configured
        .exchange(http, code, &redirect_uri, &state.verifier)
        .await
        .map_err(|e| e.into_error(&label))?;
    let mut who = configured
        .user(http, &tokens, &answer)
        .await
        .map_err(|e| e.into_error(&label))?;
    if answer
        .get("id_token")
        .and_then(|t| t.as_str())
        .is_some_and(|t| !t.is_empty())
    {
        let apple = configured.spec.name == "apple";
        check_id_token(&answer, &state.nonce, configured.client_id, apple)?;
    }
    if who.name.is_empty() && configured.spec.name == "apple" {
        who.name = apple_name(a.opt_str("user"));
    }
    // `providerIdToken` is for native sign-ins only (2.x).
    tokens.id_token = Secret::default();
    let env = ctx.env();
    // Only the user who started the sign-in links it; a state started by a guest signs in
    // as a guest whatever session the browser carries.
    let caller = match &ctx.caller {
        gate::Caller::User { user, session } if !state.user.is_empty() => {
            if user.id != state.user {
                return Err(not_this_browser());
            }
            Some(Caller {
                user,
                session_id: session.as_ref().map(|s| s.id.as_str()),
            })
        }
        _ if !state.user.is_empty() => return Err(not_this_browser()),
        _ => None,
    };
    let flow = if state.token {
        Flow::Token
    } else {
        Flow::Session
    };
    let (user, outcome) = rules::sign_in(&env, provider, &who, &tokens, caller, flow).await?;
    let mut params: Vec<(String, String)> = Vec::new();
    let mut reply = match outcome {
        SignedIn::Token { secret, .. } => {
            let wrapped = secrets::wrap(
                ctx.state.instance_key.expose().as_bytes(),
                &secret,
                provider,
                now,
            )
            .map_err(Error::internal)?;
            params.push(("secret".into(), wrapped.expose().to_owned()));
            params.push(("userId".into(), user.id.clone()));
            Reply::empty()
        }
        SignedIn::Session(new) => {
            let encoded = new.encoded.expose().to_owned();
            let session_reply = created(ctx, *new);
            if state.success == format!("{}{DEFAULT_SUCCESS_PATH}", base_url(ctx)) {
                params.push(("project".into(), ctx.project.id.clone()));
                params.push(("domain".into(), hostname(&ctx.request.host)));
                params.push(("key".into(), cookie_name(&ctx.project.id)));
                params.push(("secret".into(), encoded));
            }
            let mut r = Reply::empty();
            r.cookies = session_reply.cookies;
            r.headers = session_reply.headers;
            r
        }
    };
    if !state.app_state.is_empty() {
        params.push(("state".into(), state.app_state.clone()));
    }
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    reply.headers.push((
        LOCATION,
        crate::domain::tokens::link(&state.success, &pairs)?,
    ));
    if !state.binder.is_empty() {
        // Spent: the binder goes with the sign-in it started.
        reply.cookies.push(oauth2_cookie(
            &ctx.project.id,
            "",
            0,
            &cookie_path(ctx),
            ctx.request.https,
        ));
    }
    Ok(reply)
}

/// The ID token a token endpoint answered with (OpenID providers, Apple) must be for this
/// client and carry this sign-in's nonce; Apple's must be Apple's (its claims are the user).
/// Its signature is not checked: it came over our own connection to the token endpoint
/// (OpenID Connect Core §3.1.3.7).
fn check_id_token(
    answer: &serde_json::Value,
    nonce: &str,
    client_id: &str,
    apple: bool,
) -> Result<()> {
    // Unreadable claims name no client, so they fail the audience check below.
    let claims = crate::oauth2::client::id_token_claims(answer).unwrap_or_default();
    let refused = |why: &str| {
        Error::from(ErrorType::UserOauth2ProviderFailure)
            .with_message(format!("The provider's ID token {why}."))
    };
    let aud_ok = match claims.get("aud") {
        Some(serde_json::Value::String(a)) => a == client_id,
        Some(serde_json::Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(client_id)),
        _ => false,
    };
    if !aud_ok {
        return Err(refused("is not for this client"));
    }
    if apple && claims.get("iss").and_then(|i| i.as_str()) != Some("https://appleid.apple.com") {
        return Err(refused("is not Apple's"));
    }
    if !nonce.is_empty() {
        match claims.get("nonce").and_then(|n| n.as_str()) {
            Some(n) if crate::secret::secrets_equal(n, nonce) => {}
            _ => return Err(refused("does not carry this sign-in's nonce")),
        }
    }
    Ok(())
}

/// A browser that did not start this sign-in (or another user's) cannot finish it.
fn not_this_browser() -> Error {
    Error::from(ErrorType::UserUnauthorized).with_message(
        "This sign-in was started in another browser or by another user. Start it again.",
    )
}

/// A provider's text as it may go into a message: at most 256 characters.
fn bounded(s: &str) -> String {
    s.chars().take(256).collect()
}

/// `account.createIdTokenSession` — POST /v1/account/sessions/id-token (2.x): a session
/// from an ID token a provider gave a native app.
pub async fn create_id_token_session(ctx: Ctx, a: Args) -> Result<Reply> {
    let provider = a.str("provider")?;
    let settings = ctx.project.settings.oauth2.get(provider);
    let unset = crate::domain::project::OAuth2Settings::default();
    let profile = id_token::profile(provider, settings.unwrap_or(&unset)).ok_or_else(|| {
        Error::from(ErrorType::ProjectProviderUnsupported)
            .with_message("This provider does not support ID token sign-in.")
    })?;
    let settings = settings.filter(|s| s.native_enabled).ok_or_else(|| {
        Error::from(ErrorType::ProjectProviderDisabled).with_message(
            "This provider is disabled. Please enable the provider from your Appwrite console to continue.",
        )
    })?;
    let audiences: Vec<&str> = settings
        .app_id
        .iter()
        .chain(settings.client_ids.iter())
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    if audiences.is_empty() {
        return Err(
            Error::from(ErrorType::ProjectProviderDisabled).with_message(
                "Configure a client ID or native client IDs for this provider to accept ID tokens.",
            ),
        );
    }
    let token = a.str("idToken")?;
    let claims = id_token::verify(
        &ctx.state.oauth2.http,
        &ctx.state.oauth2.keys,
        &profile,
        token,
        &audiences,
        a.opt_str("nonce"),
        ctx.state.clock.now_ms(),
    )
    .await?;
    let mut who: ProviderUser = crate::oauth2::spec::oidc_user(&claims, &serde_json::Value::Null);
    if who.name.is_empty() {
        who.name = a.opt_str("name").unwrap_or_default().to_owned();
    }
    let tokens = ProviderTokens {
        access: Secret::new(a.opt_str("accessToken").unwrap_or_default()),
        refresh: Secret::default(),
        expires_in: Some(a.int("accessTokenExpiry")?).filter(|s| *s > 0),
        id_token: Secret::new(token),
    };
    let env = ctx.env();
    let (_, outcome) = rules::sign_in(&env, provider, &who, &tokens, None, Flow::Session).await?;
    match outcome {
        SignedIn::Session(new) => Ok(created(&ctx, *new)),
        SignedIn::Token { .. } => Err(Error::internal(anyhow::anyhow!("a token flow"))),
    }
}
