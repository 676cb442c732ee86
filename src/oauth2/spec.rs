//! One adapter per provider: its endpoints, scopes, how it takes the client secret, whether
//! it does PKCE and `nonce`, and how its user document reads. The code exchange, refresh and
//! user fetch that run on these are in `client.rs`; Apple's client secret in `apple.rs`.
//!
//! Endpoints may hold `{base}` (the project's `baseUrl`: a self-hosted GitLab, an Okta or
//! Auth0 domain, a Keycloak realm URL) and `{tenant}` (Microsoft, default `common`); every
//! endpoint can also be overridden in the config.

use serde_json::Value;

use crate::domain::oauth2::ProviderUser;

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body.
    Post,
    /// HTTP Basic with `client_id:client_secret`.
    Basic,
}

/// Where the user document comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSource {
    /// `GET userinfo` with the bearer token.
    Get,
    /// `POST userinfo` with the bearer token and no body (Dropbox).
    Post,
    /// The token response itself (Notion).
    TokenResponse,
    /// The claims of the token response's `id_token` (Apple).
    IdToken,
}

/// A provider adapter.
pub struct Spec {
    pub name: &'static str,
    /// The provider's name in messages (`GitHub couldn't complete sign-in …`).
    pub label: &'static str,
    pub authorize: &'static str,
    pub token: &'static str,
    pub userinfo: &'static str,
    /// A second document with the user's addresses (GitHub, Bitbucket).
    pub emails: Option<&'static str>,
    pub scopes: &'static [&'static str],
    pub auth: ClientAuth,
    pub pkce: bool,
    pub nonce: bool,
    pub source: UserSource,
    /// Extra authorization parameters.
    pub extra: &'static [(&'static str, &'static str)],
    /// Whether `{base}` must come from the config.
    pub needs_base: bool,
    /// Reads the user (document, then the emails document or `Null`).
    pub user: fn(&Value, &Value) -> ProviderUser,
}

fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// `true`, `"true"` or `1` (Apple sends the string; Zoom a number).
fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

fn first_of(v: &Value, keys: &[&str]) -> String {
    keys.iter()
        .map(|k| s(v, k))
        .find(|x| !x.is_empty())
        .unwrap_or_default()
}

/// OpenID claims (`sub`, `email`, `email_verified`, `name`), from userinfo or an ID token.
pub fn oidc_user(v: &Value, _: &Value) -> ProviderUser {
    let mut name = s(v, "name");
    if name.is_empty() {
        name = format!("{} {}", s(v, "given_name"), s(v, "family_name"))
            .trim()
            .to_owned();
    }
    if name.is_empty() {
        name = s(v, "preferred_username");
    }
    ProviderUser {
        id: s(v, "sub"),
        email: s(v, "email"),
        verified: truthy(v.get("email_verified")),
        name,
    }
}

/// The address of an emails list marked `primary_key`, and whether it is verified under
/// `verified_key`.
fn primary_email(list: &Value, primary_key: &str, verified_key: &str) -> (String, bool) {
    let address_key = "email";
    let Some(items) = list.as_array() else {
        return (String::new(), false);
    };
    items
        .iter()
        .find(|e| truthy(e.get(primary_key)))
        .map(|e| (s(e, address_key), truthy(e.get(verified_key))))
        .unwrap_or_default()
}

fn github_user(v: &Value, emails: &Value) -> ProviderUser {
    let (mut email, mut verified) = primary_email(emails, "primary", "verified");
    if email.is_empty() {
        email = s(v, "email");
        verified = false;
    }
    ProviderUser {
        id: s(v, "id"),
        email,
        verified,
        name: first_of(v, &["name", "login"]),
    }
}

fn gitlab_user(v: &Value, _: &Value) -> ProviderUser {
    ProviderUser {
        id: s(v, "id"),
        email: s(v, "email"),
        // GitLab shows a user their own `confirmed_at`; set once the address is confirmed.
        verified: v.get("confirmed_at").is_some_and(|c| !c.is_null()),
        name: first_of(v, &["name", "username"]),
    }
}

fn discord_user(v: &Value, _: &Value) -> ProviderUser {
    ProviderUser {
        id: s(v, "id"),
        email: s(v, "email"),
        verified: truthy(v.get("verified")),
        name: first_of(v, &["global_name", "username"]),
    }
}

fn microsoft_user(v: &Value, _: &Value) -> ProviderUser {
    // Graph does not say whether `mail` was verified; an unverified address links nothing.
    ProviderUser {
        id: s(v, "id"),
        email: first_of(v, &["mail", "userPrincipalName"]),
        verified: false,
        name: s(v, "displayName"),
    }
}

fn facebook_user(v: &Value, _: &Value) -> ProviderUser {
    ProviderUser {
        id: s(v, "id"),
        email: s(v, "email"),
        verified: false,
        name: s(v, "name"),
    }
}

fn spotify_user(v: &Value, _: &Value) -> ProviderUser {
    ProviderUser {
        id: s(v, "id"),
        email: s(v, "email"),
        verified: false,
        name: s(v, "display_name"),
    }
}

fn twitch_user(v: &Value, _: &Value) -> ProviderUser {
    let u = v.pointer("/data/0").unwrap_or(&Value::Null);
    let email = s(u, "email");
    ProviderUser {
        id: s(u, "id"),
        // Helix returns only a verified address.
        verified: !email.is_empty(),
        email,
        name: first_of(u, &["display_name", "login"]),
    }
}

fn bitbucket_user(v: &Value, emails: &Value) -> ProviderUser {
    let values = emails.get("values").unwrap_or(&Value::Null);
    let (email, verified) = primary_email(values, "is_primary", "is_confirmed");
    ProviderUser {
        id: s(v, "uuid"),
        email,
        verified,
        name: first_of(v, &["display_name", "username"]),
    }
}

fn zoom_user(v: &Value, _: &Value) -> ProviderUser {
    let mut name = s(v, "display_name");
    if name.is_empty() {
        name = format!("{} {}", s(v, "first_name"), s(v, "last_name"))
            .trim()
            .to_owned();
    }
    ProviderUser {
        id: s(v, "id"),
        email: s(v, "email"),
        verified: truthy(v.get("verified")),
        name,
    }
}

fn notion_user(token: &Value, _: &Value) -> ProviderUser {
    let u = token.pointer("/owner/user").unwrap_or(&Value::Null);
    ProviderUser {
        id: s(u, "id"),
        email: u
            .pointer("/person/email")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        verified: false,
        name: s(u, "name"),
    }
}

fn dropbox_user(v: &Value, _: &Value) -> ProviderUser {
    ProviderUser {
        id: s(v, "account_id"),
        email: s(v, "email"),
        verified: truthy(v.get("email_verified")),
        name: v
            .pointer("/name/display_name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    }
}

fn x_user(v: &Value, _: &Value) -> ProviderUser {
    let u = v.get("data").unwrap_or(&Value::Null);
    let email = s(u, "confirmed_email");
    ProviderUser {
        id: s(u, "id"),
        verified: !email.is_empty(),
        email,
        name: first_of(u, &["name", "username"]),
    }
}

/// An OAuth2 provider with the usual shape: secret in the form body, PKCE, no nonce, the user
/// from a GET of `userinfo`, no base URL.
const fn oauth2(
    name: &'static str,
    label: &'static str,
    authorize: &'static str,
    token: &'static str,
    userinfo: &'static str,
    scopes: &'static [&'static str],
    user: fn(&Value, &Value) -> ProviderUser,
) -> Spec {
    Spec {
        name,
        label,
        authorize,
        token,
        userinfo,
        emails: None,
        scopes,
        auth: ClientAuth::Post,
        pkce: true,
        nonce: false,
        source: UserSource::Get,
        extra: &[],
        needs_base: false,
        user,
    }
}

const OPENID: &[&str] = &["openid", "email", "profile"];

/// An OpenID provider at `{base}` with the usual paths.
const fn openid(
    name: &'static str,
    label: &'static str,
    authorize: &'static str,
    token: &'static str,
    userinfo: &'static str,
) -> Spec {
    Spec {
        nonce: true,
        needs_base: true,
        ..oauth2(name, label, authorize, token, userinfo, OPENID, oidc_user)
    }
}

/// Every provider latchkey has an adapter for; `oidc-<name>` providers use `oidc`.
pub static SPECS: &[Spec] = &[
    Spec {
        // Endpoints come from the discovery document or the config.
        needs_base: false,
        ..openid("oidc", "OpenID Connect", "", "", "")
    },
    Spec {
        emails: Some("https://api.github.com/user/emails"),
        ..oauth2(
            "github",
            "GitHub",
            "https://github.com/login/oauth/authorize",
            "https://github.com/login/oauth/access_token",
            "https://api.github.com/user",
            &["user:email"],
            github_user,
        )
    },
    Spec {
        needs_base: false,
        extra: &[("access_type", "offline"), ("prompt", "consent")],
        ..openid(
            "google",
            "Google",
            "https://accounts.google.com/o/oauth2/v2/auth",
            "https://oauth2.googleapis.com/token",
            "https://openidconnect.googleapis.com/v1/userinfo",
        )
    },
    oauth2(
        "gitlab",
        "GitLab",
        "{base}/oauth/authorize",
        "{base}/oauth/token",
        "{base}/api/v4/user",
        &["read_user"],
        gitlab_user,
    ),
    oauth2(
        "discord",
        "Discord",
        "https://discord.com/oauth2/authorize",
        "https://discord.com/api/oauth2/token",
        "https://discord.com/api/users/@me",
        &["identify", "email"],
        discord_user,
    ),
    Spec {
        nonce: true,
        ..oauth2(
            "microsoft",
            "Microsoft",
            "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
            "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
            "https://graph.microsoft.com/v1.0/me",
            &["openid", "offline_access", "user.read"],
            microsoft_user,
        )
    },
    Spec {
        pkce: false,
        nonce: true,
        source: UserSource::IdToken,
        // Apple posts the answer to the callback when names or email are asked for.
        extra: &[("response_mode", "form_post")],
        ..oauth2(
            "apple",
            "Apple",
            "https://appleid.apple.com/auth/authorize",
            "https://appleid.apple.com/auth/token",
            "",
            &["name", "email"],
            oidc_user,
        )
    },
    oauth2(
        "facebook",
        "Facebook",
        "https://www.facebook.com/v19.0/dialog/oauth",
        "https://graph.facebook.com/v19.0/oauth/access_token",
        "https://graph.facebook.com/v19.0/me?fields=id,name,email",
        &["email", "public_profile"],
        facebook_user,
    ),
    Spec {
        needs_base: false,
        pkce: false,
        ..openid(
            "linkedin",
            "LinkedIn",
            "https://www.linkedin.com/oauth/v2/authorization",
            "https://www.linkedin.com/oauth/v2/accessToken",
            "https://api.linkedin.com/v2/userinfo",
        )
    },
    Spec {
        needs_base: false,
        pkce: false,
        ..openid(
            "slack",
            "Slack",
            "https://slack.com/openid/connect/authorize",
            "https://slack.com/api/openid.connect.token",
            "https://slack.com/api/openid.connect.userInfo",
        )
    },
    Spec {
        auth: ClientAuth::Basic,
        ..oauth2(
            "spotify",
            "Spotify",
            "https://accounts.spotify.com/authorize",
            "https://accounts.spotify.com/api/token",
            "https://api.spotify.com/v1/me",
            &["user-read-email", "user-read-private"],
            spotify_user,
        )
    },
    Spec {
        pkce: false,
        ..oauth2(
            "twitch",
            "Twitch",
            "https://id.twitch.tv/oauth2/authorize",
            "https://id.twitch.tv/oauth2/token",
            "https://api.twitch.tv/helix/users",
            &["user:read:email"],
            twitch_user,
        )
    },
    Spec {
        emails: Some("https://api.bitbucket.org/2.0/user/emails"),
        auth: ClientAuth::Basic,
        pkce: false,
        ..oauth2(
            "bitbucket",
            "Bitbucket",
            "https://bitbucket.org/site/oauth2/authorize",
            "https://bitbucket.org/site/oauth2/access_token",
            "https://api.bitbucket.org/2.0/user",
            &["account", "email"],
            bitbucket_user,
        )
    },
    Spec {
        scopes: &["openid", "email", "profile", "offline_access"],
        ..openid(
            "auth0",
            "Auth0",
            "{base}/authorize",
            "{base}/oauth/token",
            "{base}/userinfo",
        )
    },
    Spec {
        scopes: &["openid", "email", "profile", "offline_access"],
        ..openid(
            "okta",
            "Okta",
            "{base}/v1/authorize",
            "{base}/v1/token",
            "{base}/v1/userinfo",
        )
    },
    openid(
        "authentik",
        "authentik",
        "{base}/application/o/authorize/",
        "{base}/application/o/token/",
        "{base}/application/o/userinfo/",
    ),
    openid(
        "keycloak",
        "Keycloak",
        "{base}/protocol/openid-connect/auth",
        "{base}/protocol/openid-connect/token",
        "{base}/protocol/openid-connect/userinfo",
    ),
    openid(
        "fusionauth",
        "FusionAuth",
        "{base}/oauth2/authorize",
        "{base}/oauth2/token",
        "{base}/oauth2/userinfo",
    ),
    Spec {
        auth: ClientAuth::Basic,
        ..oauth2(
            "zoom",
            "Zoom",
            "https://zoom.us/oauth/authorize",
            "https://zoom.us/oauth/token",
            "https://api.zoom.us/v2/users/me",
            &[],
            zoom_user,
        )
    },
    Spec {
        auth: ClientAuth::Basic,
        pkce: false,
        source: UserSource::TokenResponse,
        extra: &[("owner", "user")],
        ..oauth2(
            "notion",
            "Notion",
            "https://api.notion.com/v1/oauth/authorize",
            "https://api.notion.com/v1/oauth/token",
            "",
            &[],
            notion_user,
        )
    },
    Spec {
        source: UserSource::Post,
        extra: &[("token_access_type", "offline")],
        ..oauth2(
            "dropbox",
            "Dropbox",
            "https://www.dropbox.com/oauth2/authorize",
            "https://api.dropboxapi.com/oauth2/token",
            "https://api.dropboxapi.com/2/users/get_current_account",
            &["account_info.read"],
            dropbox_user,
        )
    },
    Spec {
        auth: ClientAuth::Basic,
        ..oauth2(
            "x",
            "X",
            "https://x.com/i/oauth2/authorize",
            "https://api.x.com/2/oauth2/token",
            "https://api.x.com/2/users/me?user.fields=confirmed_email",
            &["users.read", "tweet.read", "users.email", "offline.access"],
            x_user,
        )
    },
    Spec {
        needs_base: false,
        ..openid(
            "yahoo",
            "Yahoo",
            "https://api.login.yahoo.com/oauth2/request_auth",
            "https://api.login.yahoo.com/oauth2/get_token",
            "https://api.login.yahoo.com/openid/v1/userinfo",
        )
    },
];

/// The adapter of a provider name (`oidc-<name>` → `oidc`).
pub fn find(name: &str) -> Option<&'static Spec> {
    let key = if name.starts_with(crate::domain::oauth2::EXTRA_OIDC_PREFIX) {
        "oidc"
    } else {
        name
    };
    SPECS.iter().find(|s| s.name == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_adapter_is_an_accepted_name_once() {
        let mut seen = std::collections::HashSet::new();
        for s in SPECS {
            assert!(crate::domain::oauth2::is_accepted(s.name), "{}", s.name);
            assert!(seen.insert(s.name), "{} twice", s.name);
        }
        assert_eq!(SPECS.len(), 23);
        assert_eq!(find("oidc-corp").map(|s| s.name), Some("oidc"));
        assert!(find("amazon").is_none());
    }

    #[test]
    fn user_documents_read_as_their_providers_write_them() {
        let gh = github_user(
            &json!({"id": 42, "login": "octo", "name": null, "email": "pub@x.io"}),
            &json!([{"email": "a@x.io", "primary": false, "verified": true},
                    {"email": "p@x.io", "primary": true, "verified": true}]),
        );
        assert_eq!(
            gh,
            ProviderUser {
                id: "42".into(),
                email: "p@x.io".into(),
                verified: true,
                name: "octo".into()
            }
        );
        let apple = oidc_user(
            &json!({"sub": "0011.a", "email": "r@privaterelay.appleid.com", "email_verified": "true"}),
            &Value::Null,
        );
        assert!(apple.verified && apple.id == "0011.a");
        let gl = gitlab_user(
            &json!({"id": 7, "email": "g@x.io", "name": "G", "confirmed_at": null}),
            &Value::Null,
        );
        assert!(!gl.verified && gl.id == "7");
        let tw = twitch_user(
            &json!({"data": [{"id": "9", "email": "t@x.io", "display_name": "T"}]}),
            &Value::Null,
        );
        assert!(tw.verified && tw.name == "T");
        let bb = bitbucket_user(
            &json!({"uuid": "{u}", "display_name": "B"}),
            &json!({"values": [{"email": "b@x.io", "is_primary": true, "is_confirmed": false}]}),
        );
        assert_eq!((bb.email.as_str(), bb.verified), ("b@x.io", false));
    }
}
