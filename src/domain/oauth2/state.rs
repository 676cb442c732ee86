//! The `state` sent through the provider (spec §7.2). Appwrite sends plain JSON
//! `{success, failure, token}`, which anyone can forge to send a victim's session to their own
//! URL; ours is sealed (AES-GCM under the instance key) and carries what only the server may
//! know: the PKCE verifier and the nonce of this sign-in, and when it started.

use serde::{Deserialize, Serialize};

use crate::seal::Sealer;

/// How long a sign-in may take at the provider.
pub const LIFETIME_MS: i64 = 15 * 60 * 1000;

/// What the start route remembers for the redirect.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OAuthState {
    pub success: String,
    pub failure: String,
    /// The token flow (`createOAuth2Token`) rather than the session flow.
    pub token: bool,
    pub provider: String,
    pub project: String,
    /// The PKCE `code_verifier` (`""` for providers without PKCE).
    pub verifier: String,
    /// The OpenID `nonce` sent (`""` for providers without one).
    pub nonce: String,
    /// The app's own `state` (2.x), handed back on the success and failure URLs.
    #[serde(default)]
    pub app_state: String,
    /// The user signed in when the sign-in started (`""`: a guest). Only that user may link
    /// the identity, so a callback URL sent to a signed-in victim cannot link it to them.
    #[serde(default)]
    pub user: String,
    /// SHA-256 of the binder cookie set on the browser that started a session-flow sign-in
    /// (`""` for the token flow, which server SDKs start for a browser that never saw us).
    #[serde(default)]
    pub binder: String,
    /// When the sign-in started, epoch ms.
    pub started: i64,
}

fn context(project: &str, provider: &str) -> String {
    format!("oauth2-state/{project}/{provider}")
}

impl OAuthState {
    /// The value of the provider's `state` parameter.
    pub fn seal(&self, sealer: &Sealer) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        sealer.seal(&context(&self.project, &self.provider), &json)
    }

    /// The state of a sign-in of `provider` in `project` that started less than
    /// [`LIFETIME_MS`] before `now`; `None` for anything else.
    pub fn open(
        sealer: &Sealer,
        sealed: &str,
        project: &str,
        provider: &str,
        now: i64,
    ) -> Option<OAuthState> {
        let bytes = sealer.open(&context(project, provider), sealed)?;
        let s: OAuthState = serde_json::from_slice(&bytes).ok()?;
        (s.project == project
            && s.provider == provider
            && s.started <= now
            && now - s.started < LIFETIME_MS)
            .then_some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn a_state_opens_only_for_its_project_and_provider_and_in_time() {
        let sealer = Sealer::new(&Secret::new("k"), "mfa");
        let s = OAuthState {
            success: "http://localhost/ok".into(),
            failure: String::new(),
            token: true,
            provider: "github".into(),
            project: "p".into(),
            verifier: "v".into(),
            nonce: "n".into(),
            app_state: String::new(),
            user: String::new(),
            binder: String::new(),
            started: 1_000,
        };
        let sealed = s.seal(&sealer);
        assert_eq!(
            OAuthState::open(&sealer, &sealed, "p", "github", 2_000),
            Some(s)
        );
        assert!(OAuthState::open(&sealer, &sealed, "q", "github", 2_000).is_none());
        assert!(OAuthState::open(&sealer, &sealed, "p", "google", 2_000).is_none());
        assert!(OAuthState::open(&sealer, &sealed, "p", "github", 1_000 + LIFETIME_MS).is_none());
        assert!(OAuthState::open(&sealer, "{\"success\":\"x\"}", "p", "github", 2_000).is_none());
    }
}
