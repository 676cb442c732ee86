//! Wire models in Appwrite's key order (spec §8). Every field the spec marks required is always
//! present with its JSON type, since Python (pydantic) and Rust SDKs reject anything less.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Value, json};

use crate::domain::geo;
use crate::domain::mfa::Factors;
use crate::domain::time::{WIRE_LEN, format_ms, format_opt_ms, write_wire};
use crate::http::reply::Format;
use crate::store::{
    AuditRow, ChallengeRow, IdentityRow, Page, SessionRow, TargetRow, TokenRow, UserRow,
};

fn json_or(text: &str, fallback: Value) -> Value {
    serde_json::from_str(text).unwrap_or(fallback)
}

/// The Account model's fields added after 1.4, with the format that added them (spec §2.9).
const ACCOUNT_ADDED: [(&str, Format); 5] = [
    ("targets", (1, 5, 0)),
    ("mfa", (1, 5, 0)),
    ("impersonator", (1, 9, 0)),
    ("impersonatorUserId", (1, 9, 0)),
    ("passwordPwned", (2, 0, 0)),
];

/// Whether a client speaking `format` (`None`: the newest) gets the Account field `key`.
pub fn account_keeps(format: Option<Format>, key: &str) -> bool {
    format.is_none_or(|f| {
        ACCOUNT_ADDED
            .iter()
            .all(|(k, since)| *k != key || f >= *since)
    })
}

/// A stored datetime, serialised from a stack buffer.
struct Wire(i64);

impl Serialize for Wire {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0; WIRE_LEN];
        match write_wire(self.0, &mut buf) {
            Some(text) => s.serialize_str(text),
            None => s.serialize_str(&format_ms(self.0)),
        }
    }
}

/// Stored JSON text (labels, prefs) as JSON; `empty` when it is empty or unreadable. The
/// common empty cases are written without parsing.
struct StoredJson<'a>(&'a str, Value);

impl Serialize for StoredJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            "[]" => s.collect_seq(std::iter::empty::<()>()),
            "{}" => s.collect_map(std::iter::empty::<((), ())>()),
            text => serde_json::from_str::<Value>(text)
                .unwrap_or_else(|_| self.1.clone())
                .serialize(s),
        }
    }
}

/// The Account model (§8.1), serialised straight from the rows for a client speaking
/// `format` (`None`: the newest), without the fields its format does not know. This is the
/// body of every `GET /v1/account`, so it builds no `Value` tree.
pub struct Account<'a> {
    pub user: &'a UserRow,
    pub targets: &'a [TargetRow],
    pub format: Option<Format>,
}

impl Serialize for Account<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let u = self.user;
        let keeps = |key| account_keeps(self.format, key);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("$id", &u.id)?;
        m.serialize_entry("$createdAt", &Wire(u.created_at))?;
        m.serialize_entry("$updatedAt", &Wire(u.updated_at))?;
        m.serialize_entry("name", u.name.as_deref().unwrap_or_default())?;
        m.serialize_entry("registration", &Wire(u.registration))?;
        m.serialize_entry("status", &u.status)?;
        m.serialize_entry("labels", &StoredJson(&u.labels, json!([])))?;
        match u.password_update {
            Some(ms) => m.serialize_entry("passwordUpdate", &Wire(ms))?,
            None => m.serialize_entry("passwordUpdate", "")?,
        }
        m.serialize_entry("email", u.email.as_deref().unwrap_or_default())?;
        m.serialize_entry("phone", u.phone.as_deref().unwrap_or_default())?;
        m.serialize_entry("emailVerification", &u.email_verification)?;
        m.serialize_entry("emailCanonical", &u.email_canonical)?;
        m.serialize_entry("emailIsFree", &u.email_is_free)?;
        m.serialize_entry("emailIsDisposable", &u.email_is_disposable)?;
        m.serialize_entry("emailIsCorporate", &u.email_is_corporate)?;
        m.serialize_entry("emailIsCanonical", &u.email_is_canonical)?;
        m.serialize_entry("phoneVerification", &u.phone_verification)?;
        if keeps("mfa") {
            m.serialize_entry("mfa", &u.mfa)?;
        }
        m.serialize_entry("prefs", &StoredJson(&u.prefs, json!({})))?;
        if keeps("targets") {
            m.serialize_entry("targets", &Targets(self.targets))?;
        }
        m.serialize_entry("accessedAt", &Wire(u.accessed_at))?;
        if keeps("impersonator") {
            m.serialize_entry("impersonator", &false)?;
        }
        if keeps("impersonatorUserId") {
            m.serialize_entry("impersonatorUserId", &())?;
        }
        if keeps("passwordPwned") {
            // 2.x: null = never looked up in a breach corpus.
            m.serialize_entry("passwordPwned", &u.password_pwned)?;
        }
        m.end()
    }
}

/// The Account model (§8.1) as a `Value`, for the Users API and GraphQL.
pub fn account(u: &UserRow, targets: &[TargetRow]) -> Value {
    serde_json::to_value(Account {
        user: u,
        targets,
        format: None,
    })
    .unwrap_or(Value::Null)
}

/// The User model (§8.1 plus password material, Users API only): the Account model with
/// `password`, `hash` and `hashOptions` after `name` (null for a user without a password).
pub fn user(u: &UserRow, targets: &[TargetRow]) -> Value {
    let Value::Object(account) = account(u, targets) else {
        return Value::Null;
    };
    let has_password = u.password.is_some();
    let mut m = serde_json::Map::new();
    for (k, v) in account {
        let after_name = k == "name";
        m.insert(k, v);
        if after_name {
            m.insert(
                "password".into(),
                json!(u.password.as_ref().map(|p| p.expose())),
            );
            m.insert(
                "hash".into(),
                json!(u.hash.as_deref().filter(|_| has_password)),
            );
            m.insert(
                "hashOptions".into(),
                u.hash_options
                    .as_deref()
                    .filter(|_| has_password)
                    .map_or(Value::Null, |o| json_or(o, Value::Null)),
            );
        }
    }
    Value::Object(m)
}

/// The Token model (§8.4). `secret` is revealed to key callers only; `phrase` is `""` unless
/// one was asked for.
pub fn token(t: &TokenRow, secret: &str, phrase: &str) -> Value {
    json!({
        "$id": t.id,
        "$createdAt": format_ms(t.created_at),
        "userId": t.user_id,
        "secret": secret,
        "expire": format_ms(t.expire),
        "phrase": phrase,
    })
}

/// The Preferences model: the stored object, `{}` when empty.
pub fn prefs(u: &UserRow) -> Value {
    json_or(&u.prefs, json!({}))
}

/// The Session model (§8.2); `countryName` in the client's locale. `secret` is the encoded session for key callers at creation,
/// otherwise `""`: only its hash is stored.
pub fn session(s: &SessionRow, current: bool, secret: &str, locale: &str) -> Value {
    json!({
        "$id": s.id,
        "$createdAt": format_ms(s.created_at),
        "$updatedAt": format_ms(s.updated_at),
        "userId": s.user_id,
        "expire": format_ms(s.expire),
        "provider": s.provider,
        "providerUid": s.provider_uid,
        "providerAccessToken": s.provider_access_token.expose(),
        "providerAccessTokenExpiry": format_opt_ms(s.provider_access_token_expiry),
        "providerRefreshToken": s.provider_refresh_token.expose(),
        "ip": s.ip,
        "osCode": s.ua.os_code,
        "osName": s.ua.os_name,
        "osVersion": s.ua.os_version,
        "clientType": s.ua.client_type,
        "clientCode": s.ua.client_code,
        "clientName": s.ua.client_name,
        "clientVersion": s.ua.client_version,
        "clientEngine": s.ua.client_engine,
        "clientEngineVersion": s.ua.client_engine_version,
        "deviceName": s.ua.device_name,
        "deviceBrand": s.ua.device_brand,
        "deviceModel": s.ua.device_model,
        "countryCode": s.country_code,
        "countryName": geo::country_name_in(&s.country_code, locale),
        "current": current,
        "factors": json_or(&s.factors, json!([])),
        "secret": secret,
        "mfaUpdatedAt": format_opt_ms(s.mfa_updated_at),
    })
}

/// The Target model (§8.10), serialised from its row.
struct Target<'a>(&'a TargetRow);

impl Serialize for Target<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let mut m = s.serialize_map(Some(9))?;
        m.serialize_entry("$id", &t.id)?;
        m.serialize_entry("$createdAt", &Wire(t.created_at))?;
        m.serialize_entry("$updatedAt", &Wire(t.updated_at))?;
        m.serialize_entry("name", &t.name)?;
        m.serialize_entry("userId", &t.user_id)?;
        m.serialize_entry("providerId", &t.provider_id)?;
        m.serialize_entry("providerType", &t.provider_type)?;
        m.serialize_entry("identifier", &t.identifier)?;
        m.serialize_entry("expired", &t.expired)?;
        m.end()
    }
}

struct Targets<'a>(&'a [TargetRow]);

impl Serialize for Targets<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(Target))
    }
}

/// The Target model (§8.10) as a `Value`.
pub fn target(t: &TargetRow) -> Value {
    serde_json::to_value(Target(t)).unwrap_or(Value::Null)
}

/// The Identity model (§8.7).
pub fn identity(i: &IdentityRow) -> Value {
    json!({
        "$id": i.id,
        "$createdAt": format_ms(i.created_at),
        "$updatedAt": format_ms(i.updated_at),
        "userId": i.user_id,
        "provider": i.provider,
        "providerUid": i.provider_uid,
        "providerEmail": i.provider_email,
        "providerAccessToken": i.provider_access_token.expose(),
        "providerAccessTokenExpiry": format_opt_ms(i.provider_access_token_expiry),
        "providerRefreshToken": i.provider_refresh_token.expose(),
        // 2.x: only identities made by an ID-token sign-in carry one.
        "providerIdToken": i.provider_id_token.expose(),
    })
}

/// The Log model (§8.8), `countryName` in the client's locale; client fields were parsed when the record was written.
pub fn log(a: &AuditRow, locale: &str) -> Value {
    let ua = &a.ua;
    json!({
        "event": a.event,
        "userId": a.user_id,
        "userEmail": a.user_email,
        "userName": a.user_name,
        "mode": a.mode,
        "userType": a.user_type,
        "ip": a.ip,
        "time": format_ms(a.time),
        "osCode": ua.os_code,
        "osName": ua.os_name,
        "osVersion": ua.os_version,
        "clientType": ua.client_type,
        "clientCode": ua.client_code,
        "clientName": ua.client_name,
        "clientVersion": ua.client_version,
        "clientEngine": ua.client_engine,
        "clientEngineVersion": ua.client_engine_version,
        "deviceName": ua.device_name,
        "deviceBrand": ua.device_brand,
        "deviceModel": ua.device_model,
        "countryCode": a.country_code,
        "countryName": geo::country_name_in(&a.country_code, locale),
    })
}

/// A list model: `{"total": n, "<key>": [...]}`, `total` first.
pub fn list(total: i64, key: &str, items: Vec<Value>) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("total".into(), json!(total));
    m.insert(key.into(), Value::Array(items));
    Value::Object(m)
}

/// The list model of a page; `total` is 0 when the client asked not to count (`total=false`).
pub fn page<T>(page: &Page<T>, with_total: bool, key: &str, item: impl Fn(&T) -> Value) -> Value {
    list(
        if with_total { page.total } else { 0 },
        key,
        page.rows.iter().map(item).collect(),
    )
}

/// The MFAChallenge model (§8.9): never the code.
pub fn mfa_challenge(c: &ChallengeRow) -> Value {
    json!({
        "$id": c.id,
        "$createdAt": format_ms(c.created_at),
        "userId": c.user_id,
        "expire": format_ms(c.expire),
    })
}

/// The MFAChallengeSecret model (2.x, Users API): the challenge and its code (`""` for a
/// factor without one, such as TOTP).
pub fn mfa_challenge_secret(c: &ChallengeRow, code: &str) -> Value {
    let mut v = mfa_challenge(c);
    if let Value::Object(m) = &mut v {
        m.insert("code".into(), json!(code));
    }
    v
}

/// The MFAFactors model (§8.9).
pub fn mfa_factors(f: &Factors) -> Value {
    json!({
        "totp": f.totp,
        "phone": f.phone,
        "email": f.email,
        "recoveryCode": f.recovery_code,
        "custom": f.custom,
    })
}

/// The MFARecoveryCodes model (§8.9).
pub fn mfa_recovery_codes(codes: &[String]) -> Value {
    json!({ "recoveryCodes": codes })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes the Account model went out as when it was built with `json!` (before the
    /// typed serialiser): a user with nothing optional set, in the newest format and in 1.4's.
    #[test]
    fn the_account_of_a_bare_user_keeps_its_wire_bytes() {
        let t = 1_602_743_880_123;
        let user = UserRow {
            id: "u2".into(),
            created_at: t,
            updated_at: t,
            registration: t,
            accessed_at: t,
            ..UserRow::default()
        };
        let at = "2020-10-15T06:38:00.123+00:00";
        let newest = format!(
            r#"{{"$id":"u2","$createdAt":"{at}","$updatedAt":"{at}","name":"","registration":"{at}","status":false,"labels":[],"passwordUpdate":"","email":"","phone":"","emailVerification":false,"emailCanonical":null,"emailIsFree":null,"emailIsDisposable":null,"emailIsCorporate":null,"emailIsCanonical":null,"phoneVerification":false,"mfa":false,"prefs":{{}},"targets":[],"accessedAt":"{at}","impersonator":false,"impersonatorUserId":null,"passwordPwned":null}}"#
        );
        let render = |format| {
            serde_json::to_string(&Account {
                user: &user,
                targets: &[],
                format,
            })
            .unwrap()
        };
        assert_eq!(render(None), newest);
        assert_eq!(render(Some((2, 6, 2))), newest);
        let old = format!(
            r#"{{"$id":"u2","$createdAt":"{at}","$updatedAt":"{at}","name":"","registration":"{at}","status":false,"labels":[],"passwordUpdate":"","email":"","phone":"","emailVerification":false,"emailCanonical":null,"emailIsFree":null,"emailIsDisposable":null,"emailIsCorporate":null,"emailIsCanonical":null,"phoneVerification":false,"prefs":{{}},"accessedAt":"{at}"}}"#
        );
        assert_eq!(render(Some((1, 4, 0))), old);
    }
}
