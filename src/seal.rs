//! Encryption at rest for what must be stored readable later (an outbox message holds a live
//! link or code). AES-256-GCM under a key derived from the instance key with HKDF-SHA256, a
//! fresh 96-bit nonce per message, and the row id as associated data, so a ciphertext moved to
//! another row does not open.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, KeyType, Salt};
use base64::Engine;

use crate::secret::Secret;

const ENGINE: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Seals and opens payloads with one derived key.
pub struct Sealer {
    key: LessSafeKey,
}

struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

impl Sealer {
    /// Derives the key for `purpose` (e.g. `outbox`) from the instance key.
    pub fn new(instance_key: &Secret, purpose: &str) -> Self {
        let salt = Salt::new(HKDF_SHA256, b"latchkey seal v1");
        let prk = salt.extract(instance_key.expose().as_bytes());
        let info = [purpose.as_bytes()];
        let mut bytes = [0u8; 32];
        prk.expand(&info, Len(32))
            .and_then(|okm| okm.fill(&mut bytes))
            .expect("HKDF can expand 32 bytes");
        let key = UnboundKey::new(&AES_256_GCM, &bytes).expect("AES-256 takes a 32-byte key");
        Sealer {
            key: LessSafeKey::new(key),
        }
    }

    /// `base64(nonce ‖ ciphertext ‖ tag)` of `plain`, bound to `context`.
    pub fn seal(&self, context: &str, plain: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::RngExt::fill(&mut rand::rng(), &mut nonce[..]);
        let mut data = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut data,
            )
            .expect("AES-GCM sealing of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        ENGINE.encode(out)
    }

    /// The plaintext, or `None` when the payload was not sealed by this key for `context`.
    pub fn open(&self, context: &str, sealed: &str) -> Option<Vec<u8>> {
        let bytes = ENGINE.decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut data = rest.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut data)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_payload_opens_only_with_its_key_and_its_row() {
        let a = Sealer::new(&Secret::new("instance-a"), "outbox");
        let sealed = a.seal("row-1", b"https://x/?secret=abc");
        assert!(!sealed.contains("secret"));
        assert_eq!(a.open("row-1", &sealed).unwrap(), b"https://x/?secret=abc");
        assert_eq!(a.open("row-2", &sealed), None);
        assert_eq!(
            Sealer::new(&Secret::new("instance-b"), "outbox").open("row-1", &sealed),
            None
        );
        assert_eq!(
            Sealer::new(&Secret::new("instance-a"), "other").open("row-1", &sealed),
            None
        );
        // Two seals of the same text differ (fresh nonce).
        assert_ne!(a.seal("row-1", b"x"), a.seal("row-1", b"x"));
        assert_eq!(a.open("row-1", "not base64!"), None);
        assert_eq!(a.open("row-1", "AAAA"), None);
    }
}
