//! Tokens (spec §3.1): their types, secrets and lifetimes, issuing one with the message that
//! carries it, and finding and consuming one. Only the SHA-256 of a secret is stored; a token
//! is deleted in the unit of work that uses it, so it works once.

use rand::RngExt;

use crate::domain::Env;
use crate::domain::ids::{random_hex, unique_id};
use crate::domain::messages::Message;
use crate::domain::time::{format_ms, seconds_to_ms};
use crate::error::{ErrorType, Result};
use crate::secret::{Secret, sha256_hex};
use crate::store::{TokenRow, Tx, UserRow};

/// Appwrite's token types (`TOKEN_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Verification = 2,
    Recovery = 3,
    MagicUrl = 5,
    Phone = 6,
    OAuth2 = 7,
    Generic = 8,
    EmailOtp = 9,
    /// 2.x: a six-digit password-reset code by email (the type Appwrite's recovery-OTP branch
    /// uses). Kept apart from link tokens, so a code never completes the link flow.
    RecoveryOtp = 10,
    /// 2.x: a six-digit email-verification code.
    VerificationOtp = 12,
    /// 2.x: what a passkey sign-in yields, exchanged for a session within a minute (the
    /// number is latchkey's own).
    Passkey = 13,
}

impl TokenKind {
    /// The kind of a stored type number.
    pub fn of(n: i64) -> Option<TokenKind> {
        Some(match n {
            2 => TokenKind::Verification,
            3 => TokenKind::Recovery,
            5 => TokenKind::MagicUrl,
            6 => TokenKind::Phone,
            7 => TokenKind::OAuth2,
            8 => TokenKind::Generic,
            9 => TokenKind::EmailOtp,
            10 => TokenKind::RecoveryOtp,
            12 => TokenKind::VerificationOtp,
            13 => TokenKind::Passkey,
            _ => return None,
        })
    }
}

/// A long secret: `bytes` random bytes as hex (128 → 256 chars, 32 → 64 chars).
pub fn long_secret(bytes: usize) -> Secret {
    Secret::new(random_hex(bytes))
}

/// Six decimal digits, each uniform.
pub fn six_digits() -> Secret {
    let mut rng = rand::rng();
    Secret::new(
        (0..6)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect::<String>(),
    )
}

const ADJECTIVES: &[&str] = &[
    "Amber", "Bold", "Brave", "Bright", "Calm", "Clever", "Cosy", "Curious", "Daring", "Eager",
    "Fancy", "Gentle", "Glad", "Golden", "Happy", "Honest", "Jolly", "Kind", "Lively", "Lucky",
    "Mellow", "Merry", "Nimble", "Noble", "Polite", "Proud", "Quick", "Quiet", "Rapid", "Shiny",
    "Silver", "Sunny", "Swift", "Tidy", "Witty", "Zesty",
];
const NOUNS: &[&str] = &[
    "badger", "beaver", "bison", "crane", "dolphin", "eagle", "falcon", "ferret", "finch", "fox",
    "gecko", "heron", "ibis", "koala", "lark", "lemur", "lynx", "marten", "moose", "newt", "otter",
    "owl", "panda", "parrot", "pelican", "penguin", "puffin", "quail", "raven", "robin", "salmon",
    "seal", "swan", "tiger", "walrus", "wren",
];

/// A security phrase, `"<Adjective> <noun>"`, shown to the user and in the email so they can
/// tell the two belong together.
pub fn phrase() -> String {
    let mut rng = rand::rng();
    format!(
        "{} {}",
        ADJECTIVES[rng.random_range(0..ADJECTIVES.len())],
        NOUNS[rng.random_range(0..NOUNS.len())]
    )
}

/// A phrase when one was asked for, else `""`.
pub fn phrase_if(asked: bool) -> String {
    if asked { phrase() } else { String::new() }
}

/// A token just issued: the row stored, and what only this response may reveal.
pub struct Issued {
    pub token: TokenRow,
    /// What API-key callers get as `secret` (clients get `""`).
    pub secret: Secret,
    /// `""` unless a phrase was asked for.
    pub phrase: String,
}

/// A token row for `user` of `kind` with `secret`, expiring in `lifetime_s`.
pub fn new_token(
    env: &Env<'_>,
    user: &str,
    kind: TokenKind,
    secret: &Secret,
    lifetime_s: u64,
) -> TokenRow {
    let now = env.now();
    TokenRow {
        id: unique_id(),
        user_id: user.to_owned(),
        created_at: now,
        kind: kind as i64,
        secret_hash: Secret::new(sha256_hex(secret.expose())),
        expire: now.saturating_add(seconds_to_ms(lifetime_s)),
    }
}

/// Writes the token and, if any, its message in the unit of work.
pub async fn store_token(
    env: &Env<'_>,
    tx: &mut Box<dyn Tx>,
    token: &TokenRow,
    message: Option<&Message>,
) -> Result<()> {
    tx.insert_token(env.pid(), token).await?;
    if let Some(m) = message {
        env.enqueue(tx, &token.user_id, m, Some(token.expire))
            .await?;
    }
    Ok(())
}

/// Wrong guesses a user's short codes survive: Appwrite's per-route limit (10 an hour per
/// user) is what stops guessing a six-digit code there, and until our limiter enforces it the
/// codes themselves give out after this many misses.
pub const MAX_WRONG_GUESSES: i64 = 10;

/// The kinds whose secret is short enough to guess (six digits; generic tokens may be as
/// short as four characters). Link secrets (64–256 hex) are not counted, so nobody can void
/// another user's links by guessing.
const GUESSABLE: &[TokenKind] = &[
    TokenKind::Phone,
    TokenKind::Generic,
    TokenKind::EmailOtp,
    TokenKind::RecoveryOtp,
    TokenKind::VerificationOtp,
];

/// The user's unexpired token whose secret is `secret` and whose kind is one of `kinds`;
/// Appwrite's `tokenVerify`. The comparison is of SHA-256 hashes, found by index; a miss is
/// `user_invalid_token`. When short codes are among `kinds`, the guess is counted first, in a
/// unit of work that holds the counted rows, and kept only when it missed: parallel guesses
/// queue behind each other and cannot overtake [`MAX_WRONG_GUESSES`].
pub async fn verify(
    env: &Env<'_>,
    user: &UserRow,
    secret: &str,
    kinds: &[TokenKind],
) -> Result<(TokenRow, TokenKind)> {
    let now = env.now();
    let hash = sha256_hex(secret);
    let pick = |found: Vec<TokenRow>| {
        found.into_iter().find_map(|t| {
            let kind = TokenKind::of(t.kind)?;
            (t.expire >= now && kinds.contains(&kind)).then_some((t, kind))
        })
    };
    let counted: Vec<i64> = kinds
        .iter()
        .filter(|k| GUESSABLE.contains(k))
        .map(|k| *k as i64)
        .collect();
    if counted.is_empty() {
        let found = env
            .store
            .find_tokens_by_secret_hash(env.pid(), &user.id, &hash)
            .await?;
        return pick(found).ok_or_else(|| ErrorType::UserInvalidToken.into());
    }
    let mut tx = env.begin().await?;
    tx.record_failed_attempt(env.pid(), &user.id, &counted, MAX_WRONG_GUESSES)
        .await?;
    let found = tx
        .find_tokens_by_secret_hash(env.pid(), &user.id, &hash)
        .await?;
    match pick(found) {
        // Dropping the unit rolls the count back: a right guess costs nothing.
        Some(hit) => Ok(hit),
        None => {
            tx.commit().await?;
            Err(ErrorType::UserInvalidToken.into())
        }
    }
}

/// The token kinds an address change voids: they were sent to, or prove, the old address.
pub const EMAIL_KINDS: &[i64] = &[
    TokenKind::Verification as i64,
    TokenKind::Recovery as i64,
    TokenKind::MagicUrl as i64,
    TokenKind::EmailOtp as i64,
    TokenKind::RecoveryOtp as i64,
    TokenKind::VerificationOtp as i64,
];
/// See [`EMAIL_KINDS`].
pub const PHONE_KINDS: &[i64] = &[TokenKind::Phone as i64];

/// Deletes a token in the unit of work; a token another request consumed first is
/// `user_invalid_token`.
pub async fn consume(env: &Env<'_>, tx: &mut Box<dyn Tx>, token: &TokenRow) -> Result<()> {
    if !tx.delete_token(env.pid(), &token.id).await? {
        return Err(ErrorType::UserInvalidToken.into());
    }
    Ok(())
}

/// `url` with `params` merged into its query (existing params kept, ours replacing any of the
/// same name), as Appwrite builds emailed links. Redirects and project URLs are checked
/// before they get here, so a URL that does not parse is a server error, never a link sent
/// without its secret.
pub fn link(url: &str, params: &[(&str, &str)]) -> Result<String> {
    let mut u = url::Url::parse(url)
        .map_err(|e| crate::error::Error::internal(anyhow::anyhow!("link base: {e}")))?;
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| !params.iter().any(|(n, _)| n == k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut q = u.query_pairs_mut();
        q.clear();
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    if u.query() == Some("") {
        u.set_query(None);
    }
    Ok(u.to_string())
}

/// The link of a verification or recovery email: `userId`, `secret`, `expire` added.
pub fn secret_link(url: &str, token: &TokenRow, secret: &Secret) -> Result<String> {
    link(
        url,
        &[
            ("userId", &token.user_id),
            ("secret", secret.expose()),
            ("expire", &format_ms(token.expire)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_secrets_have_their_lengths() {
        for _ in 0..50 {
            let c = six_digits();
            assert_eq!(c.expose().len(), 6);
            assert!(c.expose().bytes().all(|b| b.is_ascii_digit()));
        }
        assert_eq!(long_secret(128).expose().len(), 256);
        assert_eq!(long_secret(32).expose().len(), 64);
        let p = phrase();
        let (adj, noun) = p.split_once(' ').unwrap();
        assert!(ADJECTIVES.contains(&adj) && NOUNS.contains(&noun), "{p}");
    }

    #[test]
    fn links_keep_the_callers_query_and_add_ours() {
        assert_eq!(
            link(
                "https://app.example.com/reset?lang=fr&secret=old#top",
                &[("userId", "u1"), ("secret", "s")]
            )
            .unwrap(),
            "https://app.example.com/reset?lang=fr&userId=u1&secret=s#top"
        );
        assert_eq!(
            link(
                "http://localhost/v",
                &[("expire", "2026-01-01T00:00:00.000+00:00")]
            )
            .unwrap(),
            "http://localhost/v?expire=2026-01-01T00%3A00%3A00.000%2B00%3A00"
        );
        assert_eq!(
            link("http://localhost:3000/ok", &[]).unwrap(),
            "http://localhost:3000/ok",
            "no empty query"
        );
        assert!(
            link("not a url", &[]).is_err(),
            "never a link without its secret"
        );
    }

    #[test]
    fn stored_type_numbers_map_to_kinds() {
        for k in [
            TokenKind::Verification,
            TokenKind::Recovery,
            TokenKind::MagicUrl,
            TokenKind::Phone,
            TokenKind::OAuth2,
            TokenKind::Generic,
            TokenKind::EmailOtp,
            TokenKind::RecoveryOtp,
            TokenKind::VerificationOtp,
        ] {
            assert_eq!(TokenKind::of(k as i64), Some(k));
        }
        assert_eq!(TokenKind::of(1), None);
    }
}
