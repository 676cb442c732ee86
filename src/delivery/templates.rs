//! Email and SMS texts: our own strings per locale (`templates/email/locales/*.json`, English
//! filling any gap), one HTML and one plain-text layout, and per-project overrides read at start
//! from the folder a project's `templates` key names. Strings and layouts are minijinja; the
//! HTML layout escapes every value, so a user's name cannot inject markup.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::Context;
use minijinja::{AutoEscape, Environment, Value as J};
use serde_json::Value;

use crate::domain::messages::{Message, Template};
use crate::domain::project::ProjectSettings;

/// The texts of each locale of [`crate::domain::locale::LOCALES`], in that order.
pub const LOCALES: &[(&str, &str)] = &[
    ("en", include_str!("../../templates/email/locales/en.json")),
    ("es", include_str!("../../templates/email/locales/es.json")),
    ("fr", include_str!("../../templates/email/locales/fr.json")),
    ("de", include_str!("../../templates/email/locales/de.json")),
    (
        "pt-br",
        include_str!("../../templates/email/locales/pt-br.json"),
    ),
    ("it", include_str!("../../templates/email/locales/it.json")),
    ("nl", include_str!("../../templates/email/locales/nl.json")),
    ("ja", include_str!("../../templates/email/locales/ja.json")),
    (
        "zh-cn",
        include_str!("../../templates/email/locales/zh-cn.json"),
    ),
    ("hi", include_str!("../../templates/email/locales/hi.json")),
    ("ar", include_str!("../../templates/email/locales/ar.json")),
];

const LAYOUT_HTML: &str = include_str!("../../templates/email/layout.html");
const LAYOUT_TEXT: &str = include_str!("../../templates/email/layout.txt");

/// A rendered email; its parts hold a live link or code, so `Debug` shows the subject only.
#[derive(Clone, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendered")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// A project's own files for one template (any may be missing).
#[derive(Debug, Clone, Default)]
struct Override {
    subject: Option<String>,
    html: Option<String>,
    text: Option<String>,
}

/// Every text the server sends, loaded once.
pub struct Templates {
    env: Environment<'static>,
    /// Strings by locale, each already merged over English.
    strings: HashMap<&'static str, Value>,
    /// Overrides by (project, locale or "", template name).
    overrides: HashMap<(String, String, &'static str), Override>,
}

fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(slot) if slot.is_object() => merge(slot, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

fn read_opt(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
    }
}

impl Templates {
    /// Loads the built-in texts and every project's override folder; a missing folder or a
    /// template that does not parse stops the start with the file's name.
    pub fn load(projects: &[ProjectSettings]) -> anyhow::Result<Self> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.add_template("layout.html", LAYOUT_HTML)?;
        env.add_template("layout.txt", LAYOUT_TEXT)?;
        let en: Value = serde_json::from_str(LOCALES[0].1).context("en.json")?;
        let mut strings = HashMap::new();
        for (code, text) in LOCALES {
            let own: Value =
                serde_json::from_str(text).with_context(|| format!("locale {code}"))?;
            let mut merged = en.clone();
            merge(&mut merged, &own);
            strings.insert(*code, merged);
        }
        let mut overrides = HashMap::new();
        for p in projects {
            let Some(dir) = p.templates.as_deref().filter(|d| !d.is_empty()) else {
                continue;
            };
            let dir = Path::new(dir);
            anyhow::ensure!(
                dir.is_dir(),
                "project {}: templates folder {} does not exist",
                p.id,
                dir.display()
            );
            let mut locales = vec![String::new()];
            for entry in std::fs::read_dir(dir)? {
                let entry = entry?;
                if entry.file_type()?.is_dir() {
                    locales.push(entry.file_name().to_string_lossy().to_lowercase());
                }
            }
            for locale in &locales {
                for t in Template::EMAILS.iter().chain([&Template::Sms]) {
                    let base = dir.join(locale).join(t.name());
                    let o = Override {
                        subject: read_opt(&base.with_extension("subject"))?
                            .map(|s| s.trim().to_owned()),
                        html: read_opt(&base.with_extension("html"))?,
                        text: read_opt(&base.with_extension("txt"))?,
                    };
                    if o.subject.is_none() && o.html.is_none() && o.text.is_none() {
                        continue;
                    }
                    // Parse now, so a broken template fails at start, not at 3 a.m.
                    for (ext, src) in [("html", &o.html), ("txt", &o.text), ("subject", &o.subject)]
                    {
                        if let Some(src) = src {
                            env.render_named_str(
                                &format!("check.{ext}"),
                                src,
                                minijinja::context! {},
                            )
                            .map_err(|e| anyhow::anyhow!("{}.{ext}: {e}", base.display()))?;
                        }
                    }
                    overrides.insert((p.id.clone(), locale.clone(), t.name()), o);
                }
            }
        }
        Ok(Templates {
            env,
            strings,
            overrides,
        })
    }

    fn find_override(&self, m: &Message, locale: &str) -> Option<&Override> {
        let key = |l: &str| (m.project_id.clone(), l.to_owned(), m.template.name());
        self.overrides
            .get(&key(&m.locale.to_ascii_lowercase()))
            .or_else(|| self.overrides.get(&key(locale)))
            .or_else(|| self.overrides.get(&key("")))
    }

    /// Renders a string of the locale table with the message's variables (no escaping: the
    /// result is text, escaped later by the HTML layout).
    fn string(
        &self,
        table: &Value,
        path: &[&str],
        vars: &BTreeMap<String, String>,
    ) -> anyhow::Result<String> {
        let mut v = table;
        for p in path {
            v = v.get(*p).unwrap_or(&Value::Null);
        }
        let Some(src) = v.as_str() else {
            return Ok(String::new());
        };
        Ok(self.env.render_str(src, vars)?)
    }

    /// The variables a template sees: the message's, plus the date pieces in the locale.
    fn variables(&self, m: &Message, table: &Value) -> anyhow::Result<BTreeMap<String, String>> {
        let mut vars = m.vars.clone();
        if let Some(month) = vars.get("month").and_then(|s| s.parse::<usize>().ok()) {
            let name = table["months"][month.saturating_sub(1)]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            vars.insert("month_name".into(), name);
            let date = self.string(table, &["date"], &vars)?;
            vars.insert("date".into(), date);
        }
        Ok(vars)
    }

    /// Renders an email: the project's override where it has one, else our texts.
    pub fn render_email(&self, m: &Message) -> anyhow::Result<Rendered> {
        let locale = crate::domain::locale::resolve(&m.locale);
        let table = &self.strings[locale];
        let vars = self.variables(m, table)?;
        let section = m.template.name();
        let s = |key: &str| self.string(table, &[section, key], &vars);
        let hello = if vars.get("user").is_some_and(|u| !u.is_empty()) {
            self.string(table, &["hello"], &vars)?
        } else {
            self.string(table, &["helloNoName"], &vars)?
        };
        let lines = match m.template {
            Template::SessionAlert => vec![s("device")?, s("ipAddress")?, s("country")?],
            _ => vec![],
        };
        let phrase_line = match vars.get("phrase") {
            Some(p) if !p.is_empty() => self.string(table, &["phrase"], &vars)?,
            _ => String::new(),
        };
        let mut ctx: BTreeMap<String, J> = vars
            .iter()
            .map(|(k, v)| (k.clone(), J::from(v.as_str())))
            .collect();
        let subject = s("subject")?;
        for (k, v) in [
            ("lang", locale.to_owned()),
            ("direction", self.string(table, &["direction"], &vars)?),
            ("subject", subject.clone()),
            ("heading", s("heading")?),
            ("hello", hello),
            ("body", s("body")?),
            ("button", s("button")?),
            ("footer", s("footer")?),
            ("expiry", s("expiry")?),
            ("thanks", self.string(table, &["thanks"], &vars)?),
            ("signature", self.string(table, &["signature"], &vars)?),
            (
                "link_fallback",
                self.string(table, &["linkFallback"], &vars)?,
            ),
            ("phrase_line", phrase_line),
        ] {
            ctx.insert(k.to_owned(), J::from(v));
        }
        ctx.insert("lines".into(), J::from(lines));
        let custom = self.find_override(m, locale);
        let render = |name: &str, src: Option<&String>| -> anyhow::Result<String> {
            Ok(match src {
                Some(src) => self.env.render_named_str(name, src, &ctx)?,
                None => self.env.get_template(name)?.render(&ctx)?,
            })
        };
        let subject = match custom.and_then(|o| o.subject.as_ref()) {
            Some(src) => self.env.render_str(src, &ctx)?,
            None => subject,
        };
        Ok(Rendered {
            subject: subject.lines().next().unwrap_or_default().trim().to_owned(),
            html: render("layout.html", custom.and_then(|o| o.html.as_ref()))?,
            text: render("layout.txt", custom.and_then(|o| o.text.as_ref()))?,
        })
    }

    /// Renders an SMS body (by default the bare code).
    pub fn render_sms(&self, m: &Message) -> anyhow::Result<String> {
        let locale = crate::domain::locale::resolve(&m.locale);
        let table = &self.strings[locale];
        let vars = self.variables(m, table)?;
        if let Some(src) = self.find_override(m, locale).and_then(|o| o.text.as_ref()) {
            return Ok(self.env.render_str(src, &vars)?.trim().to_owned());
        }
        self.string(table, &["sms", "body"], &vars)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(template: Template, locale: &str) -> Message {
        let mut vars = BTreeMap::new();
        for (k, v) in [
            ("project", "Acme"),
            ("user", "<b>Eve</b>"),
            ("otp", "123456"),
            ("redirect", "https://app.example.com/r?userId=u&secret=s"),
            ("phrase", "Brave owl"),
            ("device", "Chrome"),
            ("ipAddress", "203.0.113.9"),
            ("country", "France"),
            ("month", "7"),
            ("day", "14"),
            ("year", "2026"),
            ("time", "10:11:12"),
            ("secret", "654321"),
        ] {
            vars.insert(k.to_owned(), v.to_owned());
        }
        Message {
            template,
            locale: locale.into(),
            to: "eve@example.com".into(),
            to_name: "Eve".into(),
            project_id: "p".into(),
            vars,
        }
    }

    #[test]
    fn every_template_renders_in_every_locale_with_its_code_or_link() {
        let t = Templates::load(&[]).unwrap();
        for locale in crate::domain::locale::LOCALES {
            for template in Template::EMAILS {
                let r = t.render_email(&message(*template, locale)).unwrap();
                assert!(
                    !r.subject.is_empty() && r.subject.contains("Acme"),
                    "{locale} {template:?}: {}",
                    r.subject
                );
                assert!(
                    !r.html.contains("<b>Eve</b>"),
                    "{locale} {template:?}: the name is escaped"
                );
                assert_eq!(r.html.contains("dir=\"rtl\""), *locale == "ar", "{locale}");
                match template {
                    Template::Verification | Template::Recovery | Template::MagicSession => {
                        assert!(
                            r.text
                                .contains("https://app.example.com/r?userId=u&secret=s"),
                            "{locale} {template:?}"
                        );
                        assert!(
                            r.html.contains("href=\"https:&#x2f;&#x2f;app.example.com"),
                            "{locale} {template:?}"
                        );
                    }
                    Template::SessionAlert => {
                        assert!(
                            r.text.contains("203.0.113.9")
                                && r.text.contains("France")
                                && r.text.contains("10:11:12"),
                            "{locale}: {}",
                            r.text
                        );
                    }
                    _ => assert!(
                        r.text.contains("123456") && r.html.contains("123456"),
                        "{locale} {template:?}"
                    ),
                }
                if matches!(template, Template::OtpSession | Template::MagicSession) {
                    assert!(
                        r.text.contains("Brave owl"),
                        "{locale} {template:?}: the phrase"
                    );
                }
                assert!(
                    !r.html.contains("{{") && !r.text.contains("{{"),
                    "{locale} {template:?}: no placeholder left"
                );
            }
            assert_eq!(
                t.render_sms(&message(Template::Sms, locale)).unwrap(),
                "654321"
            );
        }
        let en = t
            .render_email(&message(Template::SessionAlert, "en"))
            .unwrap();
        assert!(
            en.text
                .contains("New login detected on Acme at July 14, 2026 10:11:12 UTC."),
            "{}",
            en.text
        );
    }

    #[test]
    fn a_project_folder_overrides_templates_per_locale_and_a_broken_one_stops_the_start() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("recovery.subject"),
            "Reset {{ project }} now",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("recovery.html"),
            "<p>{{ user }}: <a href=\"{{ redirect }}\">go</a></p>",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("fr")).unwrap();
        std::fs::write(
            dir.path().join("fr").join("recovery.subject"),
            "Réinitialiser {{ project }}",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("sms.txt"),
            "Your {{ project }} code: {{ secret }}",
        )
        .unwrap();
        let mut p = ProjectSettings::default_project();
        p.id = "p".into();
        p.templates = Some(dir.path().display().to_string());
        let t = Templates::load(std::slice::from_ref(&p)).unwrap();
        let r = t.render_email(&message(Template::Recovery, "en")).unwrap();
        assert_eq!(r.subject, "Reset Acme now");
        assert!(
            r.html
                .starts_with("<p>&lt;b&gt;Eve&lt;&#x2f;b&gt;: <a href="),
            "{}",
            r.html
        );
        assert!(
            r.text.contains("Reset your Acme password using the link."),
            "no .txt: our text part"
        );
        assert_eq!(
            t.render_email(&message(Template::Recovery, "fr-CA"))
                .unwrap()
                .subject,
            "Réinitialiser Acme"
        );
        assert_eq!(
            t.render_sms(&message(Template::Sms, "en")).unwrap(),
            "Your Acme code: 654321"
        );
        let other = message(Template::Recovery, "en");
        let other = Message {
            project_id: "q".into(),
            ..other
        };
        assert_eq!(
            t.render_email(&other).unwrap().subject,
            "Password Reset for Acme"
        );

        std::fs::write(dir.path().join("otpSession.html"), "{% if %}").unwrap();
        let e = Templates::load(std::slice::from_ref(&p))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("otpSession.html"), "{e}");
        p.templates = Some("/nonexistent/folder".into());
        assert!(Templates::load(&[p]).is_err());
    }
}
