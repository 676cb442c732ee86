//! Wire models in Appwrite's key order (spec §8). Every field the spec marks required is always
//! present with its JSON type, since Python (pydantic) and Rust SDKs reject anything less.

use serde_json::{Value, json};

use crate::domain::geo;
use crate::domain::mfa::Factors;
use crate::domain::time::{format_ms, format_opt_ms};
use crate::store::{
    AuditRow, ChallengeRow, IdentityRow, Page, SessionRow, TargetRow, TokenRow, UserRow,
};

fn json_or(text: &str, fallback: Value) -> Value {
    serde_json::from_str(text).unwrap_or(fallback)
}

/// The Account model (§8.1).
pub fn account(u: &UserRow, targets: &[TargetRow]) -> Value {
    json!({
        "$id": u.id,
        "$createdAt": format_ms(u.created_at),
        "$updatedAt": format_ms(u.updated_at),
        "name": u.name.clone().unwrap_or_default(),
        "registration": format_ms(u.registration),
        "status": u.status,
        "labels": json_or(&u.labels, json!([])),
        "passwordUpdate": format_opt_ms(u.password_update),
        "email": u.email.clone().unwrap_or_default(),
        "phone": u.phone.clone().unwrap_or_default(),
        "emailVerification": u.email_verification,
        "emailCanonical": u.email_canonical,
        "emailIsFree": u.email_is_free,
        "emailIsDisposable": u.email_is_disposable,
        "emailIsCorporate": u.email_is_corporate,
        "emailIsCanonical": u.email_is_canonical,
        "phoneVerification": u.phone_verification,
        "mfa": u.mfa,
        "prefs": json_or(&u.prefs, json!({})),
        "targets": targets.iter().map(target).collect::<Vec<_>>(),
        "accessedAt": format_ms(u.accessed_at),
        "impersonator": false,
        "impersonatorUserId": Value::Null,
        // 2.x: null = never checked against breached-password lists.
        "passwordPwned": Value::Null,
    })
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

/// The Target model (§8.10).
pub fn target(t: &TargetRow) -> Value {
    json!({
        "$id": t.id,
        "$createdAt": format_ms(t.created_at),
        "$updatedAt": format_ms(t.updated_at),
        "name": t.name,
        "userId": t.user_id,
        "providerId": t.provider_id,
        "providerType": t.provider_type,
        "identifier": t.identifier,
        "expired": t.expired,
    })
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
