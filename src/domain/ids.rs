//! Generated ids and secrets (their hashes live in `crate::secret`).

use rand::RngExt;

/// A new id in Appwrite's `ID.unique()` shape: PHP `uniqid()` (8 hex seconds + 5 hex
/// microseconds) followed by 7 random hex chars, so ids sort roughly by creation time.
pub fn unique_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let random: u32 = rand::rng().random_range(0..0x1000_0000);
    format!(
        "{:08x}{:05x}{:07x}",
        now.as_secs() as u32,
        now.subsec_micros(),
        random
    )
}

/// `count` random bytes as lowercase hex (a session secret is 128 bytes = 256 chars).
pub fn random_hex(count: usize) -> String {
    let mut bytes = vec![0u8; count];
    rand::rng().fill(&mut bytes[..]);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_ids_are_20_lowercase_hex_chars_and_distinct() {
        let a = unique_id();
        let b = unique_id();
        assert_eq!(a.len(), 20);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }

    #[test]
    fn session_secrets_are_256_distinct_hex_chars() {
        let s = random_hex(128);
        assert_eq!(s.len(), 256);
        assert!(s.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(s, random_hex(128));
    }
}
