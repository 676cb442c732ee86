//! Msg91: `POST /api/v5/flow/`, header `authkey`, JSON body `{template_id, sender,
//! recipients: [{mobiles, content, otp}]}` (mobiles as digits without `+`). The username is
//! the sender id and `templateId` the flow template.

use super::{Failure, Request};

pub const BASE: &str = "https://control.msg91.com";

pub fn request(c: &reqwest::Client, r: &Request<'_>) -> reqwest::RequestBuilder {
    c.post(format!("{}/api/v5/flow/", r.base))
        .header("authkey", r.secret)
        .json(&serde_json::json!({
            "template_id": r.template_id,
            "sender": r.user,
            "short_url": "0",
            "recipients": [{
                "mobiles": r.to.trim_start_matches('+'),
                "content": r.body,
                "otp": r.body,
            }],
        }))
}

pub fn check(status: u16, json: &serde_json::Value) -> Result<(), Failure> {
    let failed = json.get("type").and_then(|t| t.as_str()) == Some("error");
    if (200..300).contains(&status) && !failed {
        Ok(())
    } else {
        Err(json
            .get("message")
            .and_then(|v| v.as_str())
            .unwrap_or("Unknown error")
            .to_owned()
            .into())
    }
}
