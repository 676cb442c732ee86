//! Twilio: `POST /2010-04-01/Accounts/{sid}/Messages.json`, HTTP Basic `sid:token`, form body
//! `To`, `From`, `Body` (a `from` starting with `MG` is a Messaging Service SID).

use super::{Failure, Request, error_text};

pub const BASE: &str = "https://api.twilio.com";

pub fn request(c: &reqwest::Client, r: &Request<'_>) -> reqwest::RequestBuilder {
    let mut form = vec![("To", r.to), ("Body", r.body)];
    if r.from.starts_with("MG") {
        form.push(("MessagingServiceSid", r.from));
    } else {
        form.push(("From", r.from));
    }
    c.post(format!(
        "{}/2010-04-01/Accounts/{}/Messages.json",
        r.base, r.user
    ))
    .basic_auth(r.user, Some(r.secret))
    .form(&form)
}

pub fn check(status: u16, json: &serde_json::Value) -> Result<(), Failure> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(error_text(json, "/message").into())
    }
}
