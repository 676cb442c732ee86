//! Email metadata on the Account model: canonical form and free/disposable/corporate flags
//! (the rules of utopia-php/emails, with lists from npm `free-email-domains` and
//! `disposable-email-domains`, both MIT).

/// The lists, one domain a line, sorted bytewise (`LC_ALL=C sort`): looked up by binary search
/// in the text itself, so they cost no start-up time and no memory beyond the binary's pages.
static FREE: &str = include_str!("../../assets/email/free-domains.txt");
static DISPOSABLE: &str = include_str!("../../assets/email/disposable-domains.txt");

/// Whether `domain` is a line of the sorted `list`.
fn listed(list: &str, domain: &str) -> bool {
    let bytes = list.as_bytes();
    let (mut lo, mut hi) = (0usize, bytes.len());
    // Invariant: every line starting before `lo` is < domain; every line starting at or
    // after `hi` is > domain. Each step looks at the line holding the midpoint byte.
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let start = bytes[lo..mid]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(lo, |i| lo + i + 1);
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| start + i);
        match list[start..end].trim_end_matches('\r').cmp(domain) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => lo = end + 1,
            std::cmp::Ordering::Greater => hi = start,
        }
    }
    false
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
    let is_disposable = listed(DISPOSABLE, domain);
    let is_free = listed(FREE, domain) && !is_disposable;
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

    #[test]
    fn every_listed_domain_is_found_by_the_search_and_no_other() {
        for list in [FREE, DISPOSABLE] {
            let lines: Vec<&str> = list.lines().collect();
            assert!(
                lines.windows(2).all(|w| w[0] < w[1]),
                "the list must stay sorted bytewise (LC_ALL=C sort -u)"
            );
            for d in &lines {
                assert!(listed(list, d), "{d}");
                // Neighbours that are not lines: a prefix, an extension, a sibling.
                assert!(
                    !listed(list, &format!("{d}x")) || lines.contains(&format!("{d}x").as_str())
                );
            }
            assert!(!listed(list, ""));
            assert!(!listed(list, "~~~not-a-domain"));
            assert!(!listed(list, "0"));
        }
    }
}
