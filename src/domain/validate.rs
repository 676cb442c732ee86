//! Checked inputs. Each `parse` returns the validator description Appwrite puts after
//! ``Invalid `<param>` param: `` when the value is rejected.

use std::sync::LazyLock;

use regex::Regex;

/// Appwrite's `CustomId` description (appwrite 1.9.6 src/Appwrite/Utopia/Database/Validator/CustomId.php).
pub const CUSTOM_ID_DESCRIPTION: &str = "Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special char";
/// Appwrite's `UID` description (utopia-php/database Validator/UID.php).
pub const UID_DESCRIPTION: &str = "UID must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, and underscore. Can't start with a leading underscore";
/// Appwrite's email validator description.
pub const EMAIL_DESCRIPTION: &str = "Value must be a valid email address";
/// Appwrite 1.9.6 `Phone` validator description.
pub const PHONE_DESCRIPTION: &str =
    "Phone number must start with a '+' can have a maximum of fifteen digits.";

const MAX_ID_LEN: usize = 36;
/// What [`uid`] accepts, as a regular expression (for the OpenAPI document).
pub const ID_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,35}$";
/// What [`custom_id`] accepts.
pub const CUSTOM_ID_PATTERN: &str = r"^(unique\(\)|[A-Za-z0-9][A-Za-z0-9._-]{0,35})$";
/// The first check of [`phone`] (libphonenumber then drops unknown calling codes).
pub const PHONE_PATTERN: &str = r"^\+[1-9]\d{6,14}$";

fn key_chars_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !matches!(s.as_bytes()[0], b'.' | b'_' | b'-')
}

/// A client-chosen id: `None` means the client asked for a generated one (`unique()`).
pub fn custom_id(s: &str) -> Result<Option<String>, &'static str> {
    if s == "unique()" {
        return Ok(None);
    }
    if key_chars_ok(s) {
        Ok(Some(s.to_owned()))
    } else {
        Err(CUSTOM_ID_DESCRIPTION)
    }
}

/// A plain id (`sessionId`, `targetId`, …): like [`custom_id`] but `unique()` is not an id.
pub fn uid(s: &str) -> Result<String, &'static str> {
    if key_chars_ok(s) {
        Ok(s.to_owned())
    } else {
        Err(UID_DESCRIPTION)
    }
}

/// A string of `min..=max` characters, with Appwrite's `Text` description on failure.
pub fn text(s: &str, min: usize, max: usize) -> Result<String, String> {
    let n = s.chars().count();
    // NUL cannot be stored in a PostgreSQL text column; refuse it on every backend alike.
    if n >= min && n <= max && !s.contains('\0') {
        Ok(s.to_owned())
    } else {
        Err(text_description(min, max))
    }
}

/// Appwrite's `Text` validator description for the given bounds.
pub fn text_description(min: usize, max: usize) -> String {
    let mut d = String::from("Value must be a valid string");
    if min > 0 {
        d.push_str(&format!(" and at least {min} chars"));
    }
    d.push_str(&format!(" and no longer than {max} chars"));
    d
}

/// An email as Appwrite accepts it: trimmed and lower-cased, then checked like PHP's
/// `FILTER_VALIDATE_EMAIL` (local part ≤ 64, a dotted domain with an alphabetic TLD).
pub fn email(raw: &str) -> Result<String, &'static str> {
    let e = raw.trim().to_lowercase();
    let ok = (|| -> Option<()> {
        if e.len() > 320 {
            return None;
        }
        let (local, domain) = e.rsplit_once('@')?;
        Some(local).filter(|l| !l.is_empty() && l.len() <= 64)?;
        let tld = domain.rsplit_once('.')?.1;
        if tld.len() < 2 || !tld.chars().all(|c| c.is_ascii_alphabetic()) {
            return None;
        }
        email_address::EmailAddress::parse_with_options(
            &e,
            email_address::Options::default()
                .with_required_tld()
                .without_display_text()
                .without_domain_literal(),
        )
        .ok()
        .map(|_| ())
    })()
    .is_some();
    if ok { Ok(e) } else { Err(EMAIL_DESCRIPTION) }
}

static PHONE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(PHONE_PATTERN).expect("phone regex"));

/// A phone number in E.164 form that maps to a known calling code (appwrite 1.9.6: regex
/// `^\+[1-9]\d{6,14}$`, then libphonenumber parsing).
pub fn phone(s: &str) -> Result<String, &'static str> {
    if !PHONE_RE.is_match(s) || phonenumber::parse(None, s).is_err() {
        return Err(PHONE_DESCRIPTION);
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_id_patterns_say_what_the_validators_accept() {
        let id = Regex::new(ID_PATTERN).unwrap();
        let custom = Regex::new(CUSTOM_ID_PATTERN).unwrap();
        let long = "a".repeat(37);
        for s in [
            "a",
            "A.b_c-9",
            "unique()",
            "_a",
            ".a",
            "-a",
            "",
            "a b",
            "é",
            &long[..36],
            &long,
        ] {
            assert_eq!(id.is_match(s), uid(s).is_ok(), "uid {s:?}");
            assert_eq!(custom.is_match(s), custom_id(s).is_ok(), "custom id {s:?}");
        }
    }

    #[test]
    fn custom_id_accepts_unique_and_keys_and_rejects_leading_specials() {
        assert_eq!(custom_id("unique()"), Ok(None));
        assert_eq!(custom_id("user-1.a_b"), Ok(Some("user-1.a_b".into())));
        assert!(custom_id("_abc").is_err());
        assert!(custom_id("-abc").is_err());
        assert!(custom_id(&"a".repeat(37)).is_err());
        assert!(custom_id("a b").is_err());
        assert!(custom_id("").is_err());
    }

    #[test]
    fn uid_does_not_treat_unique_as_an_id() {
        assert!(uid("unique()").is_err());
        assert_eq!(uid("abc123"), Ok("abc123".into()));
    }

    #[test]
    fn emails_are_trimmed_lowercased_and_need_a_dotted_domain() {
        assert_eq!(email(" John@Example.COM "), Ok("john@example.com".into()));
        assert!(email("john@localhost").is_err());
        assert!(email("john@example.c0m").is_err());
        assert!(email("no-at-sign.com").is_err());
        assert!(email(&format!("{}@example.com", "a".repeat(65))).is_err());
        assert!(email("a..b@example.com").is_err());
    }

    #[test]
    fn text_description_matches_appwrite() {
        assert_eq!(
            text("", 1, 128).unwrap_err(),
            "Value must be a valid string and at least 1 chars and no longer than 128 chars"
        );
        assert_eq!(text("héllo", 1, 5), Ok("héllo".into()));
        assert!(text("a\0b", 1, 5).is_err());
    }

    #[test]
    fn phone_requires_plus_and_known_calling_code() {
        assert!(phone("+16502530000").is_ok());
        assert!(phone("16502530000").is_err());
        assert!(phone("+0123456789").is_err());
        assert!(phone("+1234").is_err());
    }
}
