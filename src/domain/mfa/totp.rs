//! TOTP (RFC 6238: HMAC-SHA-1, six digits, 30-second steps) through `totp-rs`, and the
//! `otpauth://` URI authenticator apps scan.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use totp_rs::{Algorithm, Builder};

/// Bytes of randomness in a secret, as Appwrite (103 base32 characters).
const SECRET_BYTES: usize = 64;
/// Seconds per step.
pub const STEP_S: u64 = 30;

/// PHP `rawurlencode`: everything but `A-Z a-z 0-9 - _ . ~` is escaped.
const RAW_URL: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A new secret, as upper-case unpadded base32.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::RngExt::fill(&mut rand::rng(), &mut bytes[..]);
    totp_rs::Secret::from(bytes).to_base32()
}

/// `otpauth://totp/<issuer:label>?issuer=<issuer>&secret=<secret>` (Appwrite's layout).
pub fn uri(issuer: &str, label: &str, secret: &str) -> String {
    let enc = |s: &str| utf8_percent_encode(s, RAW_URL).to_string();
    format!(
        "otpauth://totp/{}?issuer={}&secret={}",
        enc(&format!("{issuer}:{label}")),
        enc(issuer),
        secret
    )
}

/// The step `code` belongs to if it is the code of the step containing `now_s` (no drift
/// window, as Appwrite); `None` for a wrong code or an unreadable secret.
pub fn check(secret: &str, code: &str, now_s: u64) -> Option<u64> {
    let bytes = totp_rs::Secret::try_from_base32(secret).ok()?;
    let totp = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(0)
        .with_step_duration(STEP_S)
        .with_secret(bytes)
        .build()
        .ok()?;
    totp.check(code, now_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 seed, "12345678901234567890".
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn the_rfc_6238_vectors_hold_for_six_digits() {
        // The RFC's eight-digit values, of which six digits are the last six.
        for (t, eight) in [
            (59u64, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            let six = &eight[2..];
            assert_eq!(check(RFC_SECRET, six, t), Some(t / STEP_S), "T={t}");
        }
    }

    #[test]
    fn only_the_current_step_is_accepted() {
        // 287082 is the code of the step holding T=59 (30..=59).
        assert_eq!(check(RFC_SECRET, "287082", 30), Some(1));
        assert_eq!(check(RFC_SECRET, "287082", 29), None, "one step early");
        assert_eq!(check(RFC_SECRET, "287082", 60), None, "one step late");
        assert_eq!(check(RFC_SECRET, "287083", 59), None);
        assert_eq!(check(RFC_SECRET, "28708", 59), None, "five digits");
        assert_eq!(check(RFC_SECRET, "+28708", 59), None);
        assert_eq!(check("not base32!", "287082", 59), None);
    }

    #[test]
    fn secrets_are_103_base32_characters_and_the_uri_is_appwrites() {
        let s = new_secret();
        assert_eq!(s.len(), 103);
        assert!(
            s.chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
        );
        assert_ne!(s, new_secret());
        assert_eq!(
            uri("My App", "a+b@example.com", "ABC"),
            "otpauth://totp/My%20App%3Aa%2Bb%40example.com?issuer=My%20App&secret=ABC"
        );
    }
}
