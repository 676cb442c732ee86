//! Password hashes imported from other systems (spec §11, `POST /v1/users/<algorithm>`):
//! bcrypt, MD5, SHA-1/2/3, phpass, scrypt and Firebase's modified scrypt. Each is verified
//! with its own parameters once, at the next login, and then replaced by Argon2id.

use base64::Engine;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

/// Highest bcrypt cost a stored hash may ask for (2^16 rounds, a few seconds here).
pub const MAX_BCRYPT_COST: u32 = 16;
/// Highest scrypt memory a stored hash may ask for (128 · r · N bytes): 256 MiB, as for Argon2.
pub const MAX_SCRYPT_BYTES: u64 = 256 * 1024 * 1024;
/// Highest scrypt work (N · r · p) a stored hash may ask for: 32 times Firebase's.
pub const MAX_SCRYPT_WORK: u64 = 1 << 22;
/// Highest phpass iteration count (log2): 2^20 MD5 rounds (WordPress uses 2^13, passlib 2^19;
/// phpass itself allows 2^30, minutes of a hashing thread per login attempt).
pub const MAX_PHPASS_LOG2: u32 = 20;
/// Highest scrypt parallelism and output length accepted.
pub const MAX_SCRYPT_PARALLEL: u32 = 16;
pub const MAX_SCRYPT_LENGTH: u32 = 1024;
/// Firebase's scrypt parameters (its `auth:export` `hash_config`: rounds 8, mem_cost 14).
pub const FIREBASE_ROUNDS: u32 = 8;
pub const FIREBASE_MEM_COST: u32 = 14;

/// The SHA variants of `createSHAUser`'s `passwordVersion` (Appwrite's list).
pub const SHA_VERSIONS: &[&str] = &[
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512/224",
    "sha512/256",
    "sha512",
    "sha3-224",
    "sha3-256",
    "sha3-384",
    "sha3-512",
];

/// An imported hash and the parameters it is checked with (`Debug` names the algorithm only:
/// a Firebase project's signer key is a secret).
#[derive(Clone, PartialEq)]
pub enum Imported {
    Bcrypt,
    Md5,
    Sha {
        version: String,
    },
    Phpass,
    Scrypt {
        salt: String,
        cost_cpu: u32,
        cost_memory: u32,
        cost_parallel: u32,
        length: u32,
    },
    /// Firebase: `salt`, `saltSeparator` and `signerKey` are base64.
    ScryptModified {
        salt: String,
        salt_separator: String,
        signer_key: String,
    },
}

impl std::fmt::Debug for Imported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Imported({})", self.name())
    }
}

/// Why imported parameters were refused (the message of a 400).
pub type Refusal = String;

fn b64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

impl Imported {
    /// Whether a check costs next to nothing (MD5, SHA, portable phpass): a failed one then
    /// also pays an Argon2 hash, as an unknown account does. bcrypt and scrypt cost their own.
    pub fn is_fast(&self, stored: &str) -> bool {
        match self {
            Imported::Md5 | Imported::Sha { .. } => true,
            Imported::Phpass => bcrypt_cost(stored).is_none(),
            _ => false,
        }
    }

    /// Appwrite's `hash` name.
    pub fn name(&self) -> &'static str {
        match self {
            Imported::Bcrypt => "bcrypt",
            Imported::Md5 => "md5",
            Imported::Sha { .. } => "sha",
            Imported::Phpass => "phpass",
            Imported::Scrypt { .. } => "scrypt",
            Imported::ScryptModified { .. } => "scryptMod",
        }
    }

    /// Appwrite's `hashOptions` (the `Algo*` models of the User model).
    pub fn options(&self) -> Value {
        match self {
            Imported::Bcrypt | Imported::Md5 | Imported::Phpass => json!({"type": self.name()}),
            Imported::Sha { version } => json!({"type": "sha", "version": version}),
            Imported::Scrypt {
                salt,
                cost_cpu,
                cost_memory,
                cost_parallel,
                length,
            } => json!({
                "type": "scrypt",
                "salt": salt,
                "costCpu": cost_cpu,
                "costMemory": cost_memory,
                "costParallel": cost_parallel,
                "length": length,
            }),
            Imported::ScryptModified {
                salt,
                salt_separator,
                signer_key,
            } => json!({
                "type": "scryptMod",
                "salt": salt,
                "saltSeparator": salt_separator,
                "signerKey": signer_key,
            }),
        }
    }

    /// Reads a stored `hash` name and `hashOptions`; `None` for Argon2 (or anything unknown,
    /// which then verifies as nothing).
    pub fn from_stored(name: &str, options: &str) -> Option<Imported> {
        let o: Value = serde_json::from_str(options).unwrap_or(Value::Null);
        let text = |k: &str| {
            o.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let num = |k: &str| {
            o.get(k)
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0)
        };
        Some(match name {
            "bcrypt" => Imported::Bcrypt,
            "md5" => Imported::Md5,
            "sha" => Imported::Sha {
                version: Some(text("version"))
                    .filter(|v| !v.is_empty())
                    // utopia-php/auth `Hashes\Sha`: an import without a version is SHA3-512.
                    .unwrap_or_else(|| "sha3-512".into()),
            },
            "phpass" => Imported::Phpass,
            "scrypt" => Imported::Scrypt {
                salt: text("salt"),
                cost_cpu: num("costCpu"),
                cost_memory: num("costMemory"),
                cost_parallel: num("costParallel"),
                length: num("length"),
            },
            "scryptMod" => Imported::ScryptModified {
                salt: text("salt"),
                salt_separator: text("saltSeparator"),
                signer_key: text("signerKey"),
            },
            _ => return None,
        })
    }

    /// Checks the parameters and the stored hash's form before an import is accepted, so a
    /// hash that can never verify (or would cost too much) is refused up front.
    pub fn check(&self, stored: &str) -> Result<(), Refusal> {
        let hex_of = |bytes: usize| {
            stored.len() == bytes * 2 && stored.bytes().all(|c| c.is_ascii_hexdigit())
        };
        match self {
            Imported::Bcrypt => {
                let cost = bcrypt_cost(stored).ok_or("Invalid bcrypt hash")?;
                if cost > MAX_BCRYPT_COST {
                    return Err(format!("bcrypt cost above {MAX_BCRYPT_COST}"));
                }
            }
            Imported::Md5 if !hex_of(16) => return Err("Invalid MD5 hash".into()),
            Imported::Sha { version } => {
                let bytes = sha_digest(version, b"").ok_or("Invalid SHA version")?.len();
                if !hex_of(bytes) {
                    return Err(format!("Invalid {version} hash"));
                }
            }
            Imported::Phpass => {
                if bcrypt_cost(stored).is_none() && phpass_setting(stored).is_none() {
                    return Err("Invalid phpass hash".into());
                }
            }
            Imported::Scrypt {
                cost_cpu,
                cost_memory,
                cost_parallel,
                length,
                ..
            } => {
                scrypt_params(*cost_cpu, *cost_memory, *cost_parallel)?;
                if *length == 0 || *length > MAX_SCRYPT_LENGTH {
                    return Err(format!(
                        "Invalid passwordLength: between 1 and {MAX_SCRYPT_LENGTH}"
                    ));
                }
                if !hex_of(*length as usize) {
                    return Err(
                        "Invalid scrypt hash: the hex digest of passwordLength bytes".into(),
                    );
                }
            }
            Imported::ScryptModified {
                salt,
                salt_separator,
                signer_key,
            } => {
                for (name, v) in [
                    ("passwordSalt", salt),
                    ("passwordSaltSeparator", salt_separator),
                    ("passwordSignerKey", signer_key),
                ] {
                    if b64(v).is_none() {
                        return Err(format!("Invalid {name}: base64 expected"));
                    }
                }
                if b64(stored).is_none() {
                    return Err("Invalid scryptMod hash: base64 expected".into());
                }
            }
            Imported::Md5 => {}
        }
        Ok(())
    }

    /// Whether `password` matches `stored` under these parameters. Runs on the hashing pool.
    pub fn verify(&self, password: &[u8], stored: &str) -> bool {
        let eq = |a: &[u8], b: &[u8]| bool::from(a.ct_eq(b));
        let hex_eq = |digest: &[u8]| {
            eq(
                hex::encode(digest).as_bytes(),
                stored.to_ascii_lowercase().as_bytes(),
            )
        };
        match self {
            Imported::Bcrypt => verify_bcrypt(password, stored),
            Imported::Md5 => {
                use md5::Digest;
                hex_eq(&md5::Md5::digest(password))
            }
            Imported::Sha { version } => sha_digest(version, password).is_some_and(|d| hex_eq(&d)),
            Imported::Phpass => {
                if bcrypt_cost(stored).is_some() {
                    verify_bcrypt(password, stored)
                } else {
                    phpass(password, stored).is_some_and(|h| eq(h.as_bytes(), stored.as_bytes()))
                }
            }
            Imported::Scrypt {
                salt,
                cost_cpu,
                cost_memory,
                cost_parallel,
                length,
            } => {
                let Ok(params) = scrypt_params(*cost_cpu, *cost_memory, *cost_parallel) else {
                    return false;
                };
                if *length == 0 || *length > MAX_SCRYPT_LENGTH {
                    return false;
                }
                let mut out = vec![0u8; *length as usize];
                scrypt::scrypt(password, salt.as_bytes(), &params, &mut out).is_ok() && hex_eq(&out)
            }
            Imported::ScryptModified {
                salt,
                salt_separator,
                signer_key,
            } => {
                let (Some(salt), Some(sep), Some(signer), Some(expected)) =
                    (b64(salt), b64(salt_separator), b64(signer_key), b64(stored))
                else {
                    return false;
                };
                firebase_scrypt(password, &salt, &sep, &signer).is_some_and(|h| eq(&h, &expected))
            }
        }
    }
}

/// The cost of a `$2a$`/`$2b$`/`$2x$`/`$2y$` hash.
fn bcrypt_cost(stored: &str) -> Option<u32> {
    let rest = stored
        .strip_prefix("$2a$")
        .or_else(|| stored.strip_prefix("$2b$"))
        .or_else(|| stored.strip_prefix("$2x$"))
        .or_else(|| stored.strip_prefix("$2y$"))?;
    if rest.len() != 2 + 1 + 53 {
        return None;
    }
    rest.get(..2)?.parse().ok().filter(|c| (4..=31).contains(c))
}

fn verify_bcrypt(password: &[u8], stored: &str) -> bool {
    // Checked again here: a stored hash with a higher cost fails instead of stalling a thread.
    bcrypt_cost(stored).is_some_and(|c| c <= MAX_BCRYPT_COST)
        && bcrypt::verify(password, stored).unwrap_or(false)
}

fn sha_digest(version: &str, data: &[u8]) -> Option<Vec<u8>> {
    use sha2::Digest;
    Some(match version {
        "sha1" => sha1::Sha1::digest(data).to_vec(),
        "sha224" => sha2::Sha224::digest(data).to_vec(),
        "sha256" => sha2::Sha256::digest(data).to_vec(),
        "sha384" => sha2::Sha384::digest(data).to_vec(),
        "sha512/224" => sha2::Sha512_224::digest(data).to_vec(),
        "sha512/256" => sha2::Sha512_256::digest(data).to_vec(),
        "sha512" => sha2::Sha512::digest(data).to_vec(),
        "sha3-224" => sha3::Sha3_224::digest(data).to_vec(),
        "sha3-256" => sha3::Sha3_256::digest(data).to_vec(),
        "sha3-384" => sha3::Sha3_384::digest(data).to_vec(),
        "sha3-512" => sha3::Sha3_512::digest(data).to_vec(),
        _ => return None,
    })
}

/// scrypt parameters from Appwrite's `costCpu` (N itself, a power of two), `costMemory` (r)
/// and `costParallel` (p), within the memory cap.
fn scrypt_params(n: u32, r: u32, p: u32) -> Result<scrypt::Params, Refusal> {
    if n < 2 || !n.is_power_of_two() {
        return Err("Invalid passwordCpu: a power of two of at least 2".into());
    }
    if r == 0 || p == 0 || p > MAX_SCRYPT_PARALLEL {
        return Err(format!(
            "Invalid passwordMemory or passwordParallel: at least 1, parallel at most {MAX_SCRYPT_PARALLEL}"
        ));
    }
    // scrypt holds 128·r·N bytes for its table and 128·r·p for its blocks, and works N·r·p.
    let (n64, r64, p64) = (u64::from(n), u64::from(r), u64::from(p));
    if r64.saturating_mul(128).saturating_mul(n64 + p64 + 2) > MAX_SCRYPT_BYTES {
        return Err("scrypt parameters need more than 256 MiB".into());
    }
    if n64.saturating_mul(r64).saturating_mul(p64) > MAX_SCRYPT_WORK {
        return Err(format!(
            "scrypt parameters ask for more work (N·r·p) than {MAX_SCRYPT_WORK}"
        ));
    }
    scrypt::Params::new(n.trailing_zeros() as u8, r, p)
        .map_err(|_| "Invalid scrypt parameters".to_owned())
}

/// Firebase's modified scrypt: the derived key encrypts the project's signer key.
fn firebase_scrypt(password: &[u8], salt: &[u8], sep: &[u8], signer: &[u8]) -> Option<Vec<u8>> {
    use aes::cipher::{KeyIvInit, StreamCipher};
    let params = scrypt::Params::new(FIREBASE_MEM_COST as u8, FIREBASE_ROUNDS, 1).ok()?;
    let mut salted = salt.to_vec();
    salted.extend_from_slice(sep);
    let mut derived = [0u8; 64];
    scrypt::scrypt(password, &salted, &params, &mut derived).ok()?;
    let mut out = signer.to_vec();
    let mut cipher =
        ctr::Ctr128BE::<aes::Aes256>::new((&derived[..32]).try_into().ok()?, &[0u8; 16].into());
    cipher.apply_keystream(&mut out);
    Some(out)
}

const ITOA64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The iteration count (log2) and salt of a portable phpass hash (`$P$` or `$H$`).
fn phpass_setting(stored: &str) -> Option<(u32, &str)> {
    if !(stored.starts_with("$P$") || stored.starts_with("$H$")) || stored.len() != 34 {
        return None;
    }
    let log2 = ITOA64.iter().position(|&c| c == stored.as_bytes()[3])? as u32;
    if !(7..=MAX_PHPASS_LOG2).contains(&log2) {
        return None;
    }
    Some((log2, stored.get(4..12)?))
}

/// phpass's own base64 of a 16-byte digest.
fn phpass_encode(input: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < input.len() {
        let mut value = u32::from(input[i]);
        i += 1;
        out.push(ITOA64[(value & 0x3f) as usize] as char);
        if i < input.len() {
            value |= u32::from(input[i]) << 8;
        }
        out.push(ITOA64[((value >> 6) & 0x3f) as usize] as char);
        if i >= input.len() {
            break;
        }
        i += 1;
        if i < input.len() {
            value |= u32::from(input[i]) << 16;
        }
        out.push(ITOA64[((value >> 12) & 0x3f) as usize] as char);
        if i >= input.len() {
            break;
        }
        i += 1;
        out.push(ITOA64[((value >> 18) & 0x3f) as usize] as char);
    }
    out
}

/// The portable phpass hash of `password` with `stored`'s setting (MD5, 2^log2 rounds).
fn phpass(password: &[u8], stored: &str) -> Option<String> {
    use md5::Digest;
    let (log2, salt) = phpass_setting(stored)?;
    let mut hash = md5::Md5::new_with_prefix(salt.as_bytes())
        .chain_update(password)
        .finalize();
    for _ in 0..(1u64 << log2) {
        hash = md5::Md5::new_with_prefix(hash)
            .chain_update(password)
            .finalize();
    }
    Some(format!("{}{}", &stored[..12], phpass_encode(&hash)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firebase_published_test_vector_verifies() {
        // github.com/firebase/scrypt README: the sample user and project parameters.
        let f = Imported::ScryptModified {
            salt: "42xEC+ixf3L2lw==".into(),
            salt_separator: "Bw==".into(),
            signer_key:
                "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA=="
                    .into(),
        };
        let stored = "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==";
        assert!(f.check(stored).is_ok());
        assert!(f.verify(b"user1password", stored));
        assert!(!f.verify(b"user1passwore", stored));
    }

    #[test]
    fn digests_compare_case_insensitively_and_refuse_wrong_lengths() {
        let md5 = Imported::Md5;
        // md5("password")
        let stored = "5F4DCC3B5AA765D61D8327DEB882CF99";
        assert!(md5.check(stored).is_ok());
        assert!(md5.verify(b"password", stored));
        assert!(!md5.verify(b"Password", stored));
        assert!(md5.check("5f4d").is_err());
        let sha = Imported::Sha {
            version: "sha3-999".into(),
        };
        assert!(sha.check("00").is_err());
    }

    #[test]
    fn costly_or_malformed_parameters_are_refused_before_import() {
        let s = |n, r, p, length| Imported::Scrypt {
            salt: "s".into(),
            cost_cpu: n,
            cost_memory: r,
            cost_parallel: p,
            length,
        };
        let hex64 = "00".repeat(64);
        assert!(s(16384, 8, 1, 64).check(&hex64).is_ok());
        assert!(
            s(16383, 8, 1, 64).check(&hex64).is_err(),
            "not a power of two"
        );
        assert!(s(1 << 20, 8, 1, 64).check(&hex64).is_err(), "1 GiB");
        assert!(
            s(16384, 8, 1, 32).check(&hex64).is_err(),
            "length and digest differ"
        );
        let slow = format!("$2y$17${}", "a".repeat(53));
        assert!(Imported::Bcrypt.check(&slow).is_err());
        assert!(!Imported::Bcrypt.verify(b"x", &slow));
        assert!(Imported::Phpass.check("$P$Bnot-long-enough").is_err());
        // 2^30 rounds (`S`), allowed by phpass itself, are refused.
        assert!(
            Imported::Phpass
                .check(&format!("$P$S{}", "a".repeat(30)))
                .is_err()
        );
        assert!(
            Imported::Phpass
                .check(&format!("$P$B{}", "a".repeat(30)))
                .is_ok()
        );
        assert!(
            s(2, 1 << 20, 16, 64).check(&hex64).is_err(),
            "r·p blocks of 2 GiB"
        );
        assert!(s(1 << 14, 8, 16, 64).check(&hex64).is_ok());
        assert!(
            s(1 << 14, 32, 16, 64).check(&hex64).is_err(),
            "work above the cap"
        );
    }

    #[test]
    fn options_round_trip_through_the_stored_form() {
        for i in [
            Imported::Bcrypt,
            Imported::Sha {
                version: "sha512/256".into(),
            },
            Imported::Scrypt {
                salt: "salt".into(),
                cost_cpu: 16384,
                cost_memory: 8,
                cost_parallel: 1,
                length: 64,
            },
        ] {
            let back = Imported::from_stored(i.name(), &i.options().to_string()).unwrap();
            assert_eq!(back, i);
        }
        assert_eq!(Imported::from_stored("argon2", "{}"), None);
    }
}
