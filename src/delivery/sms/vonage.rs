//! Vonage (Nexmo): `POST /sms/json`, form body with `api_key`, `api_secret`, `from`, `to`
//! (digits, no `+`), `text`. It answers 200 even on failure: success is `messages[0].status`
//! `"0"` (a string in Vonage's documentation; a number is accepted too).

use super::{Failure, Request, error_text};

pub const BASE: &str = "https://rest.nexmo.com";

pub fn request(c: &reqwest::Client, r: &Request<'_>) -> reqwest::RequestBuilder {
    c.post(format!("{}/sms/json", r.base)).form(&[
        ("api_key", r.user),
        ("api_secret", r.secret),
        ("from", r.from),
        ("to", r.to.trim_start_matches('+')),
        ("text", r.body),
    ])
}

pub fn check(status: u16, json: &serde_json::Value) -> Result<(), Failure> {
    let code = match json.pointer("/messages/0/status") {
        Some(serde_json::Value::String(v)) => v.parse::<i64>().ok(),
        Some(v) => v.as_i64(),
        None => None,
    };
    if (200..300).contains(&status) && code == Some(0) {
        return Ok(());
    }
    Err(Failure {
        text: error_text(json, "/messages/0/error-text"),
        // Vonage's documented codes: 1 throttled and 5 internal error may pass later; the
        // others (bad parameters, credentials, barred or illegal numbers …) will not.
        permanent: code.map(|c| !matches!(c, 1 | 5)),
    })
}
