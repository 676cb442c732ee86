//! The calls every adapter makes: the authorization URL, the code exchange, the refresh and
//! the user fetch, tolerant of what real providers send (errors with status 200, `expires_in`
//! as a string, no `token_type`).

use base64::Engine;
use serde_json::Value;

use crate::domain::oauth2::{ProviderTokens, ProviderUser};
use crate::oauth2::spec::{ClientAuth, Spec, UserSource};
use crate::oauth2::{Endpoints, ProviderError};
use crate::secret::Secret;

/// Largest provider answer read.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// A provider as one project configured it.
pub struct Configured<'a> {
    pub spec: &'static Spec,
    pub name: &'a str,
    pub client_id: &'a str,
    /// The client secret sent to the token endpoint (Apple's is made per request).
    pub client_secret: Secret,
    pub endpoints: Endpoints,
    pub extra_scopes: &'a [String],
}

/// What the start route sends the browser to.
pub struct Authorize<'a> {
    pub redirect_uri: &'a str,
    pub state: &'a str,
    pub scopes: &'a [String],
    /// The S256 challenge of the verifier, when the adapter does PKCE.
    pub challenge: Option<&'a str>,
    pub nonce: Option<&'a str>,
}

impl Configured<'_> {
    /// The provider's login URL.
    pub fn authorize_url(&self, a: &Authorize<'_>) -> Result<String, ProviderError> {
        let mut u = url::Url::parse(&self.endpoints.authorize)
            .map_err(|e| ProviderError::Misconfigured(format!("authorization endpoint: {e}")))?;
        let mut scopes: Vec<&str> = self.spec.scopes.to_vec();
        for s in self.extra_scopes.iter().chain(a.scopes) {
            if !scopes.contains(&s.as_str()) {
                scopes.push(s);
            }
        }
        {
            let mut q = u.query_pairs_mut();
            q.append_pair("client_id", self.client_id)
                .append_pair("redirect_uri", a.redirect_uri)
                .append_pair("response_type", "code")
                .append_pair("state", a.state);
            if !scopes.is_empty() {
                q.append_pair("scope", &scopes.join(" "));
            }
            if let Some(c) = a.challenge {
                q.append_pair("code_challenge", c)
                    .append_pair("code_challenge_method", "S256");
            }
            if let Some(n) = a.nonce {
                q.append_pair("nonce", n);
            }
            for (k, v) in self.spec.extra {
                q.append_pair(k, v);
            }
        }
        Ok(u.into())
    }

    fn token_request(
        &self,
        http: &reqwest::Client,
        form: &mut Vec<(&str, String)>,
    ) -> reqwest::RequestBuilder {
        let req = http
            .post(&self.endpoints.token)
            .header(reqwest::header::ACCEPT, "application/json");
        match self.spec.auth {
            ClientAuth::Post => {
                form.push(("client_id", self.client_id.to_owned()));
                form.push(("client_secret", self.client_secret.expose().to_owned()));
                req
            }
            ClientAuth::Basic => {
                let pair = format!("{}:{}", self.client_id, self.client_secret.expose());
                req.header(
                    reqwest::header::AUTHORIZATION,
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(pair)
                    ),
                )
            }
        }
    }

    /// Exchanges the callback's code (with the PKCE verifier, when one was sent); the token
    /// response comes back too, for adapters whose user is in it.
    pub async fn exchange(
        &self,
        http: &reqwest::Client,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<(ProviderTokens, Value), ProviderError> {
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", redirect_uri.to_owned()),
        ];
        if !verifier.is_empty() {
            form.push(("code_verifier", verifier.to_owned()));
        }
        let req = self.token_request(http, &mut form);
        let answer = send_json(req.form(&form)).await?;
        Ok((tokens_of(&answer)?, answer))
    }

    /// A refresh-token grant; a provider that sends no new refresh token keeps the old one.
    pub async fn refresh(
        &self,
        http: &reqwest::Client,
        refresh_token: &Secret,
    ) -> Result<ProviderTokens, ProviderError> {
        let mut form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token.expose().to_owned()),
        ];
        let req = self.token_request(http, &mut form);
        let answer = send_json(req.form(&form)).await?;
        let mut t = tokens_of(&answer)?;
        if t.refresh.is_empty() {
            t.refresh = refresh_token.clone();
        }
        Ok(t)
    }

    /// The signed-in user, from the adapter's source.
    pub async fn user(
        &self,
        http: &reqwest::Client,
        tokens: &ProviderTokens,
        token_answer: &Value,
    ) -> Result<ProviderUser, ProviderError> {
        let bearer = format!("Bearer {}", tokens.access.expose());
        let doc = match self.spec.source {
            UserSource::TokenResponse => token_answer.clone(),
            UserSource::IdToken => id_token_claims(token_answer)?,
            UserSource::Get | UserSource::Post => {
                let req = if self.spec.source == UserSource::Get {
                    http.get(&self.endpoints.userinfo)
                } else {
                    http.post(&self.endpoints.userinfo)
                };
                // Twitch's Helix wants the client id beside the token.
                send_json(
                    req.header(reqwest::header::AUTHORIZATION, &bearer)
                        .header(reqwest::header::ACCEPT, "application/json")
                        .header("client-id", self.client_id),
                )
                .await?
            }
        };
        let emails = match &self.endpoints.emails {
            Some(url) => send_json(
                http.get(url)
                    .header(reqwest::header::AUTHORIZATION, &bearer)
                    .header(reqwest::header::ACCEPT, "application/json"),
            )
            .await
            .unwrap_or(Value::Null),
            None => Value::Null,
        };
        Ok((self.spec.user)(&doc, &emails))
    }
}

/// The claims of the token response's `id_token`. It came straight from the provider's token
/// endpoint over the connection we opened, so (as OpenID Connect Core §3.1.3.7 allows) its
/// signature is not checked again here.
pub fn id_token_claims(answer: &Value) -> Result<Value, ProviderError> {
    let token = answer
        .get("id_token")
        .and_then(Value::as_str)
        .ok_or_else(|| ProviderError::Failure("id_token_missing".into()))?;
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| ProviderError::Failure("id_token_malformed".into()))?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| ProviderError::Failure("id_token_malformed".into()))
}

/// The tokens of a token-endpoint answer; an `error` field (some providers send it with 200)
/// or a missing access token is the provider's failure.
fn tokens_of(answer: &Value) -> Result<ProviderTokens, ProviderError> {
    if let Some(e) = answer.get("error") {
        return Err(ProviderError::Failure(error_code(e)));
    }
    if answer.get("ok") == Some(&Value::Bool(false)) {
        return Err(ProviderError::Failure("not_ok".into()));
    }
    let text = |k: &str| answer.get(k).and_then(Value::as_str).unwrap_or_default();
    let access = text("access_token");
    if access.is_empty() {
        return Err(ProviderError::Failure("access_token_missing".into()));
    }
    let expires_in = match answer.get("expires_in") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    Ok(ProviderTokens {
        access: Secret::new(access),
        refresh: Secret::new(text("refresh_token")),
        expires_in,
        id_token: Secret::new(text("id_token")),
    })
}

/// A provider's `error` as it may go into a message and a URL: an OAuth error code
/// (`invalid_grant`) of at most 64 safe characters, else `invalid_error`.
fn error_code(e: &Value) -> String {
    let code = e
        .as_str()
        .or_else(|| e.get("code").and_then(Value::as_str))
        .unwrap_or_default();
    if !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
    {
        code.to_owned()
    } else {
        "invalid_error".to_owned()
    }
}

/// Sends a request and reads a JSON answer of at most [`MAX_ANSWER_BYTES`]. An error status
/// with an OAuth `error` field is that error; without, `http_<status>`.
pub async fn send_json(req: reqwest::RequestBuilder) -> Result<Value, ProviderError> {
    let mut resp = req
        .send()
        .await
        .map_err(|e| ProviderError::Unreachable(e.without_url().to_string()))?;
    let status = resp.status();
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| ProviderError::Unreachable(e.without_url().to_string()))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(ProviderError::Failure("answer_too_large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    let value: Value = serde_json::from_slice(&body)
        .or_else(|_| {
            // A few providers still answer the token endpoint form-encoded.
            let pairs: serde_json::Map<String, Value> = url::form_urlencoded::parse(&body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect();
            if pairs.contains_key("access_token") || pairs.contains_key("error") {
                Ok(Value::Object(pairs))
            } else {
                Err(())
            }
        })
        .unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(ProviderError::Failure(match value.get("error") {
            Some(e) => error_code(e),
            None => format!("http_{}", status.as_u16()),
        }));
    }
    if value.is_null() {
        return Err(ProviderError::Failure("answer_not_json".into()));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn token_answers_are_read_leniently() {
        let t = tokens_of(&json!({"access_token": "a", "expires_in": "3600"})).unwrap();
        assert_eq!((t.access.expose(), t.expires_in), ("a", Some(3600)));
        assert!(t.refresh.is_empty());
        assert!(matches!(
            tokens_of(&json!({"error": "bad_verification_code"})),
            Err(ProviderError::Failure(c)) if c == "bad_verification_code"
        ));
        assert!(matches!(
            tokens_of(&json!({"error": "<script>".repeat(100)})),
            Err(ProviderError::Failure(c)) if c == "invalid_error"
        ));
        assert!(matches!(
            tokens_of(&json!({"token_type": "bearer"})),
            Err(ProviderError::Failure(c)) if c == "access_token_missing"
        ));
        assert!(matches!(
            tokens_of(&json!({"ok": false, "access_token": "x"})),
            Err(ProviderError::Failure(_))
        ));
    }

    #[test]
    fn id_token_claims_are_the_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"sub":"s1","email":"a@b.c","email_verified":"true"}"#);
        let claims = id_token_claims(&json!({"id_token": format!("h.{payload}.sig")})).unwrap();
        assert_eq!(claims["sub"], "s1");
        assert!(id_token_claims(&json!({})).is_err());
    }
}
