//! Vonage (Nexmo): `POST /sms/json`, form body with `api_key`, `api_secret`, `from`, `to`
//! (digits, no `+`), `text`. It answers 200 even on failure: success is `messages[0].status`
//! `"0"` (a string in Vonage's documentation; a number is accepted too).

use super::{Request, error_text};

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

pub fn check(status: u16, json: &serde_json::Value) -> Result<(), String> {
    let s = json.pointer("/messages/0/status");
    let ok = matches!(s, Some(serde_json::Value::String(v)) if v == "0")
        || s.and_then(serde_json::Value::as_i64) == Some(0);
    if (200..300).contains(&status) && ok {
        Ok(())
    } else {
        Err(error_text(json, "/messages/0/error-text"))
    }
}
