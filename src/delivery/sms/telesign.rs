//! Telesign: `POST /v1/messaging`, HTTP Basic `customerId:apiKey`, form body `phone_number`
//! (digits, no `+`), `message` and `message_type=OTP`. Success is 200 with
//! `status.code` below 300 (Telesign's documented codes: 290 = queued).

use super::{Failure, Request};

pub const BASE: &str = "https://rest-api.telesign.com";

pub fn request(c: &reqwest::Client, r: &Request<'_>) -> reqwest::RequestBuilder {
    c.post(format!("{}/v1/messaging", r.base))
        .basic_auth(r.user, Some(r.secret))
        .form(&[
            ("phone_number", r.to.trim_start_matches('+')),
            ("message", r.body),
            ("message_type", "OTP"),
        ])
}

pub fn check(status: u16, json: &serde_json::Value) -> Result<(), Failure> {
    let code = json
        .pointer("/status/code")
        .and_then(serde_json::Value::as_i64);
    if (200..300).contains(&status) && code.is_none_or(|c| c < 300) {
        Ok(())
    } else {
        Err(json
            .pointer("/status/description")
            .or_else(|| json.pointer("/errors/0/description"))
            .and_then(|v| v.as_str())
            .unwrap_or("Unknown error")
            .to_owned()
            .into())
    }
}
