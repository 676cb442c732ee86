//! How a request carries its session: `Cookie` headers (both session cookies), the
//! `X-Appwrite-Session` header and the `X-Fallback-Cookies` JSON, each holding a base64
//! `{id, secret}` document. Input: the three header values separated by NUL bytes.
#![no_main]

use http::{HeaderMap, HeaderValue};
use latchkey::domain::sessions::decode_session;
use latchkey::http::cookies::parse_cookie_headers;
use latchkey::http::gate::carried_session;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0);
    let mut headers = HeaderMap::new();
    for name in ["cookie", "x-appwrite-session", "x-fallback-cookies"] {
        if let Some(v) = parts.next().and_then(|p| HeaderValue::from_bytes(p).ok()) {
            headers.append(name, v);
        }
    }
    let _ = carried_session("p", &headers);
    let text = String::from_utf8_lossy(data);
    let _ = decode_session(&text);
    let _ = parse_cookie_headers(text.split('\n'));
});
