//! The locales latchkey speaks (emails, SMS, country names), and how a requested locale
//! (`X-Appwrite-Locale`) maps onto them: the exact code, else its language, else English.

/// Locale codes we ship texts for, lower-case; `en` first.
pub const LOCALES: &[&str] = &[
    "en", "es", "fr", "de", "pt-br", "it", "nl", "ja", "zh-cn", "hi", "ar",
];

/// The shipped locale for `requested` (`pt-BR` → `pt-br`, `fr-CA` → `fr`, `xx` → `en`).
pub fn resolve(requested: &str) -> &'static str {
    let lower = requested.trim().to_ascii_lowercase().replace('_', "-");
    let language = lower.split('-').next().unwrap_or_default();
    LOCALES
        .iter()
        .find(|c| **c == lower)
        .or_else(|| LOCALES.iter().find(|c| **c == language))
        .copied()
        .unwrap_or("en")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_resolve_exactly_then_by_language_then_to_english() {
        assert_eq!(resolve("pt-BR"), "pt-br");
        assert_eq!(resolve("pt_br"), "pt-br");
        assert_eq!(resolve("fr-CA"), "fr");
        assert_eq!(resolve("zh-CN"), "zh-cn");
        assert_eq!(resolve("zh-TW"), "en", "no zh-tw texts and no bare zh");
        assert_eq!(resolve("xx"), "en");
        assert_eq!(resolve(""), "en");
    }
}
