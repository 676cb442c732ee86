//! User-agent fields of sessions and logs. Appwrite parses with a Matomo DeviceDetector port;
//! we parse with uap-core (`ua-parser`) and map its families to Matomo's names and codes.

use std::sync::LazyLock;

use regex::Regex;

pub use crate::store::UserAgentInfo;

/// Longest user agent kept, in bytes: the size of Appwrite's `sessions.userAgent` attribute
/// (appwrite 1.9.6 app/config/collections/common.php). Longer ones are cut, never refused.
pub const MAX_USER_AGENT_BYTES: usize = 16_384;

/// `ua` cut to [`MAX_USER_AGENT_BYTES`] on a character boundary.
pub fn truncate(ua: &str) -> &str {
    if ua.len() <= MAX_USER_AGENT_BYTES {
        return ua;
    }
    let mut end = MAX_USER_AGENT_BYTES;
    while !ua.is_char_boundary(end) {
        end -= 1;
    }
    &ua[..end]
}

/// uap-core regexes (Apache-2.0), converted from the copy inside the ua-parser crate.
fn regexes() -> Option<ua_parser::Regexes<'static>> {
    serde_json::from_str(include_str!("../../assets/uap-regexes.json")).ok()
}

/// Browsers and operating systems, needed for every session (about 0.07 s and 14 MB to build).
struct ClientAndOs {
    client: ua_parser::user_agent::Extractor<'static>,
    os: ua_parser::os::Extractor<'static>,
}

static CLIENT_AND_OS: LazyLock<Option<ClientAndOs>> = LazyLock::new(|| {
    let r = regexes()?;
    Some(ClientAndOs {
        client: ua_parser::user_agent::Builder::new()
            .push_all(r.user_agent_parsers)
            .ok()?
            .build()
            .ok()?,
        os: ua_parser::os::Builder::new()
            .push_all(r.os_parsers)
            .ok()?
            .build()
            .ok()?,
    })
});

/// Device brands and models, half of the regexes and of their memory (about 0.15 s and
/// 17 MB), used only for phones and tablets: built the first time one signs in, so a node
/// that serves servers and desktop browsers never holds them.
static DEVICES: LazyLock<Option<ua_parser::device::Extractor<'static>>> = LazyLock::new(|| {
    ua_parser::device::Builder::new()
        .push_all(regexes()?.device_parsers)
        .ok()?
        .build()
        .ok()
});

/// Builds the browser and OS regexes on a background thread, so start-up does not wait for
/// them and the first session rarely does (it blocks on the same `LazyLock`).
pub fn warm_up() {
    std::thread::spawn(|| LazyLock::force(&CLIENT_AND_OS));
}

/// (uap family, Matomo code, Matomo name) for operating systems.
const OSES: &[(&str, &str, &str)] = &[
    ("Windows", "WIN", "Windows"),
    ("Mac OS X", "MAC", "Mac"),
    ("iOS", "IOS", "iOS"),
    ("iPadOS", "IPA", "iPadOS"),
    ("Android", "AND", "Android"),
    ("Linux", "LIN", "GNU/Linux"),
    ("Ubuntu", "UBT", "Ubuntu"),
    ("Fedora", "FED", "Fedora"),
    ("Debian", "DEB", "Debian"),
    ("Chrome OS", "COS", "Chrome OS"),
    ("ChromeOS", "COS", "Chrome OS"),
    ("FreeBSD", "BSD", "FreeBSD"),
    ("Windows Phone", "WPH", "Windows Phone"),
    ("HarmonyOS", "HAR", "HarmonyOS"),
];

/// (uap family, Matomo code, Matomo name, engine) for browsers.
const BROWSERS: &[(&str, &str, &str, &str)] = &[
    ("Chrome", "CH", "Chrome", "Blink"),
    ("Chrome Mobile", "CM", "Chrome Mobile", "Blink"),
    ("Chrome Mobile iOS", "CI", "Chrome Mobile iOS", "WebKit"),
    ("Chrome Mobile WebView", "CV", "Chrome Webview", "Blink"),
    ("Chromium", "CR", "Chromium", "Blink"),
    ("HeadlessChrome", "HC", "Headless Chrome", "Blink"),
    ("Firefox", "FF", "Firefox", "Gecko"),
    ("Firefox Mobile", "FM", "Firefox Mobile", "Gecko"),
    ("Firefox iOS", "FI", "Firefox iOS", "WebKit"),
    ("Safari", "SF", "Safari", "WebKit"),
    ("Mobile Safari", "MF", "Mobile Safari", "WebKit"),
    (
        "Mobile Safari UI/WKWebView",
        "MF",
        "Mobile Safari",
        "WebKit",
    ),
    ("Edge", "PS", "Microsoft Edge", "Blink"),
    ("Edge Mobile", "EM", "Edge Mobile", "Blink"),
    ("Opera", "OP", "Opera", "Blink"),
    ("Opera Mobile", "OM", "Opera Mobile", "Blink"),
    ("Samsung Internet", "SB", "Samsung Browser", "Blink"),
    ("IE", "IE", "Internet Explorer", "Trident"),
    ("Brave", "BR", "Brave", "Blink"),
    ("Vivaldi", "VI", "Vivaldi", "Blink"),
    ("Yandex Browser", "YA", "Yandex Browser", "Blink"),
    ("UC Browser", "UC", "UC Browser", "WebKit"),
];

static CLI_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"AppwriteCLI/([\d.]+)").expect("cli regex"));
/// The token that carries each engine's version in a user agent.
fn engine_version(engine: &str, ua: &str) -> String {
    static BLINK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"Chrome/([\d.]+)").expect("re"));
    static WEBKIT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"AppleWebKit/([\d.]+)").expect("re"));
    static GECKO: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"rv:([\d.]+)").expect("re"));
    static TRIDENT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"Trident/([\d.]+)").expect("re"));
    let re = match engine {
        "Blink" => &BLINK,
        "WebKit" => &WEBKIT,
        "Gecko" => &GECKO,
        "Trident" => &TRIDENT,
        _ => return String::new(),
    };
    re.captures(ua).map(|c| c[1].to_owned()).unwrap_or_default()
}

/// `major.minor` of a version, as Appwrite's detector truncates (`Chrome/70.0.3538.77` → `70.0`).
fn major_minor(major: Option<&str>, minor: Option<&str>) -> String {
    match (major, minor) {
        (Some(a), Some(b)) if !b.is_empty() => format!("{a}.{b}"),
        (Some(a), _) => format!("{a}.0"),
        _ => String::new(),
    }
}

/// Parses a `User-Agent` value into Appwrite's session fields; unknown parts stay `""`.
pub fn parse(ua: &str) -> UserAgentInfo {
    let mut info = UserAgentInfo::default();
    let Some(extractor) = CLIENT_AND_OS.as_ref() else {
        return info;
    };
    let (client, os) = (extractor.client.extract(ua), extractor.os.extract(ua));

    if let Some(os) = os
        && let Some(&(_, code, name)) = OSES.iter().find(|(f, _, _)| *f == os.os)
    {
        info.os_code = code.into();
        info.os_name = name.into();
        info.os_version = if os.os == "Windows" {
            // uap reads "Windows NT 10.0" as Windows 10; Matomo reports just "10".
            os.major.as_deref().unwrap_or_default().to_owned()
        } else {
            match (&os.major, &os.minor) {
                (Some(a), Some(b)) => format!("{a}.{b}"),
                (Some(a), None) => a.to_string(),
                _ => String::new(),
            }
        };
    }

    if let Some(cli) = CLI_RE.captures(ua) {
        info.client_type = "desktop".into();
        info.client_code = "cli".into();
        info.client_name = "Appwrite CLI".into();
        info.client_version = cli[1].to_owned();
    } else if let Some(client) = client
        && let Some(&(_, code, name, engine)) = BROWSERS.iter().find(|(f, ..)| *f == client.family)
    {
        info.client_type = "browser".into();
        info.client_code = code.into();
        info.client_name = name.into();
        info.client_version = major_minor(client.major, client.minor);
        info.client_engine = engine.into();
        info.client_engine_version = engine_version(engine, ua);
    }

    let mobile_os = matches!(info.os_code.as_str(), "AND" | "IOS" | "IPA" | "WPH");
    info.device_name = if info.os_code == "IPA" || ua.contains("iPad") || ua.contains("Tablet") {
        "tablet".into()
    } else if mobile_os {
        if info.os_code == "AND" && !ua.contains("Mobile") {
            "tablet".into()
        } else {
            "smartphone".into()
        }
    } else if !info.os_code.is_empty() {
        "desktop".into()
    } else {
        String::new()
    };
    if mobile_os || info.device_name == "tablet" {
        let device = DEVICES.as_ref().and_then(|d| d.extract(ua));
        let device_brand = device.as_ref().and_then(|d| d.brand.as_deref());
        let device_model = device.as_ref().and_then(|d| d.model.as_deref());
        info.device_brand = device_brand
            .filter(|b| *b != "Generic" && *b != "Generic_Android")
            .unwrap_or_default()
            .to_owned();
        info.device_model = device_model
            .filter(|m| *m != "Smartphone" && *m != "Tablet")
            .unwrap_or_default()
            .to_owned();
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_chrome_matches_appwrite_reference_values() {
        let i = parse(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.77 Safari/537.36",
        );
        assert_eq!(i.os_name, "Windows");
        assert_eq!(i.os_code, "WIN");
        assert_eq!(i.os_version, "10");
        assert_eq!(i.client_type, "browser");
        assert_eq!(i.client_name, "Chrome");
        assert_eq!(i.client_code, "CH");
        assert_eq!(i.client_version, "70.0");
        assert_eq!(i.client_engine, "Blink");
        assert_eq!(i.client_engine_version, "70.0.3538.77");
        assert_eq!(i.device_name, "desktop");
        assert_eq!(i.device_brand, "");
        assert_eq!(i.device_model, "");
    }

    #[test]
    fn long_user_agents_are_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_USER_AGENT_BYTES);
        let cut = truncate(&long);
        assert!(cut.len() <= MAX_USER_AGENT_BYTES && cut.len() >= MAX_USER_AGENT_BYTES - 1);
        assert!(cut.chars().all(|c| c == 'é'));
        assert_eq!(truncate("short"), "short");
    }

    #[test]
    fn android_chrome_is_chrome_mobile() {
        let i = parse(
            "Mozilla/5.0 (Linux; Android 10; SM-G973F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/83.0.4103.106 Mobile Safari/537.36",
        );
        assert_eq!(i.client_code, "CM");
        assert_eq!(i.client_name, "Chrome Mobile");
        assert_eq!(i.os_code, "AND");
        assert_eq!(i.device_name, "smartphone");
        assert_eq!(i.device_brand, "Samsung");
    }

    #[test]
    fn appwrite_cli_is_a_desktop_client() {
        let i = parse("AppwriteCLI/12.0.1 (linux; x64)");
        assert_eq!(i.client_type, "desktop");
        assert_eq!(i.client_code, "cli");
        assert_eq!(i.client_name, "Appwrite CLI");
    }

    #[test]
    fn unknown_agents_leave_fields_empty() {
        let i = parse("UNKNOWN");
        assert_eq!(i, UserAgentInfo::default());
    }
}
