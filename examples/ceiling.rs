//! The benchmark's ceiling: the smallest axum server this toolchain builds, answering every
//! request with a small JSON body, so `bench/run.sh` can say what share of bare HTTP latchkey
//! reaches on the same machine. `ceiling ADDR` prints `listening on http://ADDR` when ready.
//! `ceiling ADDR --same-bytes` answers with the headers and the size of body latchkey sends for
//! `GET /v1/account` instead, so the bench can tell the cost of HTTP for that response apart
//! from latchkey's own work.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};

async fn hello() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"$id":"hello","name":"ceiling"}"#,
    )
}

/// Latchkey's response headers for a signed-in `GET /v1/account` (Appwrite's own set).
const HEADERS: [(&str, &str); 13] = [
    ("cache-control", "no-cache, no-store, must-revalidate"),
    ("expires", "0"),
    ("pragma", "no-cache"),
    ("server", "Appwrite"),
    ("x-content-type-options", "nosniff"),
    ("content-type", "application/json; charset=UTF-8"),
    ("x-debug-fallback", "false"),
    (
        "access-control-allow-methods",
        "GET, POST, PUT, PATCH, DELETE",
    ),
    (
        "access-control-allow-headers",
        "Accept, Origin, Cookie, Set-Cookie, Content-Type, Content-Range, X-Appwrite-Project, X-Appwrite-Key, X-Appwrite-Dev-Key, X-Appwrite-Locale, X-Appwrite-Mode, X-Appwrite-JWT, X-Appwrite-Organization, X-Appwrite-Response-Format, X-Appwrite-Timeout, X-Appwrite-ID, X-Appwrite-Timestamp, X-Appwrite-Session, X-Appwrite-Platform, X-Appwrite-Impersonate-User-Id, X-Appwrite-Impersonate-User-Email, X-Appwrite-Impersonate-User-Phone, X-SDK-Version, X-SDK-Name, X-SDK-Language, X-SDK-Platform, X-SDK-GraphQL, X-SDK-Profile, Range, Cache-Control, Expires, Pragma, X-Fallback-Cookies, X-Requested-With, X-Forwarded-For, X-Forwarded-User-Agent",
    ),
    (
        "access-control-expose-headers",
        "X-Appwrite-Session, X-Fallback-Cookies",
    ),
    ("access-control-allow-credentials", "true"),
    ("access-control-max-age", "86400"),
    ("x-request-id", "6b130a3c8d7ce63a31ad"),
];

/// The size of the Account model of the bench's reader (one email target).
const BODY_BYTES: usize = 851;

async fn same_bytes() -> Response {
    let mut resp = vec![b'x'; BODY_BYTES].into_response();
    for (k, v) in HEADERS {
        resp.headers_mut()
            .insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
    resp
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let app = if args.next().as_deref() == Some("--same-bytes") {
        Router::new().fallback(same_bytes)
    } else {
        Router::new().fallback(hello)
    };
    axum::serve(listener, app).await
}
