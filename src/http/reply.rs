//! What a handler returns and how it goes on the wire: JSON models (down-converted for old
//! `X-Appwrite-Response-Format`s), empty 204s, cookies, and Appwrite-shaped errors.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::error::{Error, ErrorType, wire_status};
use crate::http::models;
use crate::store::{TargetRow, UserRow};

/// The Appwrite API version this server reports (`/v1/health/version`, errors' `version`): the
/// newest format it renders, so the newest SDKs see a server as new as they are. Older
/// clients still get their shapes (they name their format; see [`downgrade`]).
pub const API_VERSION: &str = "2.6.2";

/// The response model a route declares (spec §8), so response-format filters know what to
/// strip and later OpenAPI and GraphQL know the shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    Account,
    /// The Account model with password material (Users API).
    User,
    UserList,
    TargetList,
    /// Always empty: Teams are not served.
    MembershipList,
    /// Always empty: latchkey is not an OAuth2 provider.
    ConsentList,
    Passkey,
    PasskeyList,
    PasskeyChallenge,
    MfaChallengeSecret,
    Session,
    SessionList,
    IdentityList,
    LogList,
    Target,
    Token,
    Preferences,
    Jwt,
    MfaType,
    MfaChallenge,
    MfaFactors,
    MfaRecoveryCodes,
    HealthStatus,
    HealthStatusList,
    /// A free-form object (health).
    Plain,
    /// No body (204).
    None,
}

/// A reply's JSON body.
#[derive(Debug)]
pub enum Payload {
    Value(Value),
    /// A user's Account model, serialised from the rows when the response is written, in the
    /// client's format (the body of every `GET /v1/account`: no `Value` tree on that path).
    Account(Box<(UserRow, Vec<TargetRow>)>),
}

impl Payload {
    /// The body as a `Value`, in the newest format (GraphQL).
    pub fn into_value(self) -> Value {
        match self {
            Payload::Value(v) => v,
            Payload::Account(a) => models::account(&a.0, &a.1),
        }
    }

    /// The body as JSON text for a client speaking `format`.
    fn render(self, model: Model, format: Option<Format>) -> Vec<u8> {
        let mut out = Vec::with_capacity(1024);
        let written = match self {
            Payload::Value(mut value) => {
                if let Some(f) = format {
                    downgrade(model, &mut value, f);
                }
                serde_json::to_writer(&mut out, &value)
            }
            Payload::Account(a) => serde_json::to_writer(
                &mut out,
                &models::Account {
                    user: &a.0,
                    targets: &a.1,
                    format,
                },
            ),
        };
        // Serialising a model into memory cannot fail: its maps have string keys.
        if written.is_err() {
            out.clear();
        }
        out
    }
}

/// What a handler returns: the body of its route's declared model, plus cookies and headers.
/// The status comes from the route's declaration.
#[derive(Debug, Default)]
pub struct Reply {
    pub body: Option<Payload>,
    /// A body that is not JSON, with its content type (the GraphQL SDL); wins over `body`.
    pub text: Option<(&'static str, String)>,
    pub cookies: Vec<String>,
    pub headers: Vec<(HeaderName, String)>,
    /// A status other than the route's declared one (a failed readiness probe's 503).
    pub status: Option<u16>,
}

impl Reply {
    /// A JSON body.
    pub fn json(value: Value) -> Self {
        Reply {
            body: Some(Payload::Value(value)),
            ..Reply::default()
        }
    }

    /// The Account model of `user`.
    pub fn account(user: UserRow, targets: Vec<TargetRow>) -> Self {
        Reply {
            body: Some(Payload::Account(Box::new((user, targets)))),
            ..Reply::default()
        }
    }

    /// No body (a 204 route).
    pub fn empty() -> Self {
        Reply::default()
    }

    /// A text body of `content_type`.
    pub fn text(content_type: &'static str, text: String) -> Self {
        Reply {
            text: Some((content_type, text)),
            ..Reply::default()
        }
    }
}

/// A parsed `X-Appwrite-Response-Format` (`major.minor.patch`).
pub type Format = (u32, u32, u32);

/// Parses `1.4.0`-style versions; anything else means "newest".
pub fn parse_format(s: &str) -> Option<Format> {
    let mut it = s.trim().split('.').map(|p| p.parse::<u32>().ok());
    Some((
        it.next()??,
        it.next().flatten().unwrap_or(0),
        it.next().flatten().unwrap_or(0),
    ))
}

fn strip(v: &mut Value, keys: &[&str]) {
    if let Value::Object(m) = v {
        for k in keys {
            m.shift_remove(*k);
        }
    }
}

/// Applies Appwrite's response filters for formats older than the server (spec §2.9).
pub fn downgrade(model: Model, value: &mut Value, format: Format) {
    let before = |v: Format| format < v;
    let account = |v: &mut Value| {
        if let Value::Object(m) = v {
            m.retain(|k, _| models::account_keeps(Some(format), k));
        }
    };
    let session = |v: &mut Value| {
        if before((1, 5, 0)) {
            strip(v, &["factors", "secret", "mfaUpdatedAt"]);
        }
    };
    let identity = |v: &mut Value| {
        if before((2, 0, 0)) {
            strip(v, &["providerIdToken"]);
        }
    };
    match model {
        Model::Account | Model::User => account(value),
        Model::UserList => {
            if let Some(Value::Array(items)) = value.get_mut("users") {
                items.iter_mut().for_each(account);
            }
        }
        Model::Token => {
            if before((1, 5, 0)) {
                strip(value, &["phrase"]);
            }
        }
        Model::IdentityList => {
            if let Some(Value::Array(items)) = value.get_mut("identities") {
                items.iter_mut().for_each(identity);
            }
        }
        Model::Session => session(value),
        Model::SessionList => {
            if let Some(Value::Array(items)) = value.get_mut("sessions") {
                items.iter_mut().for_each(session);
            }
        }
        Model::MfaFactors => {
            if before((2, 0, 0)) {
                strip(value, &["custom"]);
            }
        }
        Model::LogList
        | Model::TargetList
        | Model::MembershipList
        | Model::ConsentList
        | Model::Passkey
        | Model::PasskeyList
        | Model::PasskeyChallenge
        | Model::MfaChallengeSecret
        | Model::MfaType
        | Model::MfaChallenge
        | Model::MfaRecoveryCodes
        | Model::HealthStatus
        | Model::HealthStatusList
        | Model::Target
        | Model::Preferences
        | Model::Jwt
        | Model::Plain
        | Model::None => {}
    }
}

/// Adds the headers every API response carries.
fn no_cache(builder: axum::http::response::Builder) -> axum::http::response::Builder {
    builder
        .header(header::CACHE_CONTROL, "no-cache, no-store, must-revalidate")
        .header(header::EXPIRES, "0")
        .header(header::PRAGMA, "no-cache")
        .header(header::SERVER, "Appwrite")
        .header("x-content-type-options", "nosniff")
}

/// The newest response format we render: the 2.x shapes of the newest official SDKs (crate
/// `appwrite` 0.22 sends 2.6.2, PyPI 27 sends 2.5.0, npm `appwrite` 28 sends 2.3.0).
pub const NEWEST_FORMAT: Format = (2, 6, 2);

/// The format a client gets when it names none, or one newer than ours: the newest.
fn served_format() -> Format {
    NEWEST_FORMAT
}

/// Appwrite's warning for an SDK built for a newer server than this one (newer than every
/// format we render).
pub fn newer_format_warning(format: Option<Format>) -> Option<String> {
    let (a, b, c) = format.filter(|f| *f > served_format())?;
    Some(format!(
        "The current SDK is built for Appwrite {a}.{b}.{c}. However, the current Appwrite server version is {API_VERSION}. Please downgrade your SDK to match the Appwrite version: https://appwrite.io/docs/sdks"
    ))
}

/// Renders a reply of a route declaring `status` and `model` for a client speaking `format`.
pub fn render(reply: Reply, status: u16, model: Model, format: Option<Format>) -> Response {
    let status = StatusCode::from_u16(reply.status.unwrap_or(status)).unwrap_or(StatusCode::OK);
    let mut b = no_cache(Response::builder().status(status));
    if let Some(w) = newer_format_warning(format) {
        b = b.header("x-appwrite-warning", w);
    }
    for c in &reply.cookies {
        b = b.header(header::SET_COOKIE, c);
    }
    for (k, v) in &reply.headers {
        b = b.header(k, v);
    }
    let body = match (reply.text, reply.body) {
        (Some((content_type, text)), _) => {
            b = b.header(header::CONTENT_TYPE, content_type);
            Body::from(text)
        }
        (None, Some(payload)) => {
            b = b.header(header::CONTENT_TYPE, "application/json; charset=UTF-8");
            Body::from(payload.render(model, format))
        }
        (None, None) => {
            // Every SDK accepts an empty 204 with this type; JSON or no type breaks some.
            b = b.header(header::CONTENT_TYPE, "text/html; charset=UTF-8");
            Body::empty()
        }
    };
    b.body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// Renders an error as `{message, code, type, version}`; causes are logged, never sent.
pub fn render_error(err: &Error) -> Response {
    let (status, hide) = wire_status(err.ty.status());
    if let Some(src) = &err.source {
        tracing::error!(error = %src, r#type = err.ty.as_str(), "request failed");
    }
    let message = if hide { "Server Error" } else { err.message() };
    let body = json!({
        "message": message,
        "code": status,
        "type": err.ty.as_str(),
        "version": API_VERSION,
    });
    no_cache(Response::builder().status(status))
        .header(header::CONTENT_TYPE, "application/json; charset=UTF-8")
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// An error of a browser route (OAuth2 start and redirect) as a page a person can read; the
/// status, `type` and message are Appwrite's.
pub fn render_html_error(err: &Error) -> Response {
    let (status, hide) = wire_status(err.ty.status());
    if let Some(src) = &err.source {
        tracing::error!(error = %src, r#type = err.ty.as_str(), "request failed");
    }
    let message = if hide { "Server Error" } else { err.message() };
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error {status}</title></head>\n<body><main><h1>Error {status}</h1><p>{}</p><p><code>{}</code></p></main></body></html>\n",
        escape(message),
        escape(err.ty.as_str()),
    );
    no_cache(Response::builder().status(status))
        .header(header::CONTENT_TYPE, "text/html; charset=UTF-8")
        .body(Body::from(page))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// The body of an error answered before any route runs (an oversized or slow request), with
/// its real status: Appwrite's web server answers these itself, outside the pass-through rule.
pub fn transport_error_body(status: u16, message: &str) -> String {
    json!({
        "message": message,
        "code": status,
        "type": ErrorType::GeneralBadRequest.as_str(),
        "version": API_VERSION,
    })
    .to_string()
}

/// [`transport_error_body`] as a response.
pub fn render_transport_error(status: StatusCode, message: &str) -> Response {
    no_cache(Response::builder().status(status))
        .header(header::CONTENT_TYPE, "application/json; charset=UTF-8")
        .body(Body::from(transport_error_body(status.as_u16(), message)))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// Adds a header value if it is representable.
pub fn set_header(resp: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_formats_lose_fields_added_later() {
        let mut acc = json!({"$id": "u", "targets": [], "mfa": false, "impersonator": false, "impersonatorUserId": null});
        downgrade(Model::Account, &mut acc, (1, 8, 0));
        assert!(acc.get("impersonator").is_none() && acc.get("targets").is_some());
        downgrade(Model::Account, &mut acc, (1, 4, 0));
        assert!(acc.get("targets").is_none() && acc.get("mfa").is_none());
        let mut list =
            json!({"total": 1, "sessions": [{"factors": [], "secret": "", "current": true}]});
        downgrade(Model::SessionList, &mut list, (1, 4, 0));
        assert_eq!(list["sessions"][0], json!({"current": true}));
        assert_eq!(parse_format("1.9.5"), Some((1, 9, 5)));
        assert!(newer_format_warning(Some((1, 9, 5))).is_none());
        assert!(newer_format_warning(None).is_none());
        assert!(newer_format_warning(Some((2, 6, 2))).is_none());
        assert_eq!(
            parse_format(API_VERSION),
            Some(NEWEST_FORMAT),
            "the reported version is the newest rendered format"
        );
        assert!(
            newer_format_warning(Some((2, 7, 0)))
                .unwrap()
                .contains("built for Appwrite 2.7.0")
        );
        assert_eq!(parse_format("junk"), None);
    }

    #[test]
    fn the_account_written_from_rows_matches_the_downgraded_model_in_every_format() {
        let user = UserRow {
            id: "u1".into(),
            created_at: 1_602_743_880_123,
            updated_at: 1_602_743_880_456,
            name: Some("Ann \"Q\" <x>".into()),
            email: Some("ann@example.com".into()),
            password_update: Some(1_602_743_881_000),
            labels: r#"["vip","beta"]"#.into(),
            prefs: r#"{"theme":"dark","n":[1,2]}"#.into(),
            email_canonical: Some("ann@example.com".into()),
            email_is_free: Some(false),
            mfa: true,
            ..UserRow::default()
        };
        let target = TargetRow {
            id: "t1".into(),
            user_id: "u1".into(),
            provider_type: "email".into(),
            identifier: "ann@example.com".into(),
            ..TargetRow::default()
        };
        let bare = UserRow {
            labels: "not json".into(),
            prefs: "{}".into(),
            ..user.clone()
        };
        for (u, targets) in [(&user, vec![target]), (&bare, vec![])] {
            for format in [
                None,
                Some((1, 4, 0)),
                Some((1, 5, 0)),
                Some((1, 8, 1)),
                Some((1, 9, 5)),
                Some((2, 0, 0)),
                Some((2, 6, 2)),
                Some((3, 0, 0)),
            ] {
                let typed = Payload::Account(Box::new((u.clone(), targets.clone())))
                    .render(Model::Account, format);
                let tree =
                    Payload::Value(models::account(u, &targets)).render(Model::Account, format);
                assert_eq!(
                    String::from_utf8(typed).unwrap(),
                    String::from_utf8(tree).unwrap(),
                    "{format:?}"
                );
            }
        }
        let newest: Value = serde_json::from_slice(
            &Payload::Account(Box::new((bare, vec![]))).render(Model::Account, None),
        )
        .unwrap();
        assert_eq!(
            newest["labels"],
            json!([]),
            "unreadable labels fall back to none"
        );
        assert_eq!(newest["prefs"], json!({}));
        assert_eq!(newest["passwordUpdate"], "2020-10-15T06:38:01.000+00:00");
        let keys: Vec<&str> = newest
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "$id",
                "$createdAt",
                "$updatedAt",
                "name",
                "registration",
                "status",
                "labels",
                "passwordUpdate",
                "email",
                "phone",
                "emailVerification",
                "emailCanonical",
                "emailIsFree",
                "emailIsDisposable",
                "emailIsCorporate",
                "emailIsCanonical",
                "phoneVerification",
                "mfa",
                "prefs",
                "targets",
                "accessedAt",
                "impersonator",
                "impersonatorUserId",
                "passwordPwned",
            ]
        );
    }

    #[test]
    fn two_x_fields_reach_two_x_clients_only() {
        let acc = json!({"$id": "u", "passwordPwned": null});
        let mut old = acc.clone();
        downgrade(Model::Account, &mut old, (1, 9, 5));
        assert!(old.get("passwordPwned").is_none());
        let mut new = acc.clone();
        downgrade(Model::Account, &mut new, (2, 3, 0));
        assert_eq!(new, acc);
        let list = json!({"total": 1, "identities": [{"$id": "i", "providerIdToken": ""}]});
        let mut old = list.clone();
        downgrade(Model::IdentityList, &mut old, (1, 9, 5));
        assert_eq!(old["identities"][0], json!({"$id": "i"}));
        let mut new = list.clone();
        downgrade(Model::IdentityList, &mut new, (2, 5, 0));
        assert_eq!(new, list);
        let mut token = json!({"$id": "t", "phrase": ""});
        downgrade(Model::Token, &mut token, (1, 4, 0));
        assert!(token.get("phrase").is_none());
    }
}
