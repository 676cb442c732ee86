//! TextMagic: `POST /api/v2/messages`, headers `X-TM-Username` and `X-TM-Key`, form body
//! `text`, `phones` (digits, no `+`) and `from`.

use super::{Failure, Request, error_text};

pub const BASE: &str = "https://rest.textmagic.com";

pub fn request(c: &reqwest::Client, r: &Request<'_>) -> reqwest::RequestBuilder {
    let mut form = vec![("text", r.body), ("phones", r.to.trim_start_matches('+'))];
    if !r.from.is_empty() {
        form.push(("from", r.from.trim_start_matches('+')));
    }
    c.post(format!("{}/api/v2/messages", r.base))
        .header("X-TM-Username", r.user)
        .header("X-TM-Key", r.secret)
        .form(&form)
}

pub fn check(status: u16, json: &serde_json::Value) -> Result<(), Failure> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(error_text(json, "/message").into())
    }
}
