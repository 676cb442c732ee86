//! The fields of each response model, declared once: OpenAPI's schemas and GraphQL's object
//! types are both generated from this list, and the test script checks every live response
//! against the OpenAPI schemas, so the three cannot drift apart.

use crate::http::reply::Model;

/// The field types models use.
#[derive(Clone, Copy)]
pub enum F {
    Str,
    NullStr,
    Bool,
    NullBool,
    Int,
    Strings,
    Object,
    NullObject,
    Array(&'static str),
}

const ID_DATES: &[(&str, F)] = &[
    ("$id", F::Str),
    ("$createdAt", F::Str),
    ("$updatedAt", F::Str),
];

/// The OAuth2 provider fields sessions and identities share.
const PROVIDER: &[(&str, F)] = &[
    ("providerUid", F::Str),
    ("providerAccessToken", F::Str),
    ("providerAccessTokenExpiry", F::Str),
    ("providerRefreshToken", F::Str),
];

const CLIENT: &[(&str, F)] = &[
    ("ip", F::Str),
    ("osCode", F::Str),
    ("osName", F::Str),
    ("osVersion", F::Str),
    ("clientType", F::Str),
    ("clientCode", F::Str),
    ("clientName", F::Str),
    ("clientVersion", F::Str),
    ("clientEngine", F::Str),
    ("clientEngineVersion", F::Str),
    ("deviceName", F::Str),
    ("deviceBrand", F::Str),
    ("deviceModel", F::Str),
    ("countryCode", F::Str),
    ("countryName", F::Str),
];

/// Fields of each model as `models.rs` renders them for the newest response format; the
/// optional ones (added in 2.x or absent for some callers) are listed in [`OPTIONAL`].
pub fn fields(name: &str) -> Vec<(&'static str, F)> {
    let mut f: Vec<(&'static str, F)> = Vec::new();
    match name {
        "account" => {
            f.extend(ID_DATES);
            f.extend([
                ("name", F::Str),
                ("registration", F::Str),
                ("status", F::Bool),
                ("labels", F::Strings),
                ("passwordUpdate", F::Str),
                ("email", F::Str),
                ("phone", F::Str),
                ("emailVerification", F::Bool),
                ("emailCanonical", F::NullStr),
                ("emailIsFree", F::NullBool),
                ("emailIsDisposable", F::NullBool),
                ("emailIsCorporate", F::NullBool),
                ("emailIsCanonical", F::NullBool),
                ("phoneVerification", F::Bool),
                ("mfa", F::Bool),
                ("prefs", F::Object),
                ("targets", F::Array("target")),
                ("accessedAt", F::Str),
                ("impersonator", F::Bool),
                ("impersonatorUserId", F::NullStr),
                ("passwordPwned", F::NullBool),
            ]);
        }
        "user" => {
            let account = fields("account");
            let (head, tail) = account.split_at(4);
            f.extend(head);
            f.extend([
                ("password", F::NullStr),
                ("hash", F::NullStr),
                ("hashOptions", F::NullObject),
            ]);
            f.extend(tail);
        }
        "mfaChallengeSecret" => {
            f.extend(fields("mfaChallenge"));
            f.push(("code", F::Str));
        }
        "session" => {
            f.extend(ID_DATES);
            f.extend([("userId", F::Str), ("expire", F::Str), ("provider", F::Str)]);
            f.extend(PROVIDER);
            f.extend(CLIENT);
            f.extend([
                ("current", F::Bool),
                ("factors", F::Strings),
                ("secret", F::Str),
                ("mfaUpdatedAt", F::Str),
            ]);
        }
        "target" => {
            f.extend(ID_DATES);
            f.extend([
                ("name", F::Str),
                ("userId", F::Str),
                ("providerId", F::NullStr),
                ("providerType", F::Str),
                ("identifier", F::Str),
                ("expired", F::Bool),
            ]);
        }
        "identity" => {
            f.extend(ID_DATES);
            f.extend([
                ("userId", F::Str),
                ("provider", F::Str),
                ("providerEmail", F::Str),
                ("providerIdToken", F::Str),
            ]);
            f.extend(PROVIDER);
        }
        "log" => {
            f.extend([
                ("event", F::Str),
                ("userId", F::Str),
                ("userEmail", F::Str),
                ("userName", F::Str),
                ("mode", F::Str),
                ("userType", F::Str),
                ("time", F::Str),
            ]);
            f.extend(CLIENT);
        }
        "token" => f.extend([
            ("$id", F::Str),
            ("$createdAt", F::Str),
            ("userId", F::Str),
            ("secret", F::Str),
            ("expire", F::Str),
            ("phrase", F::Str),
        ]),
        // `refreshToken` only when asked for (latchkey's refreshable JWTs).
        "jwt" => f.extend([("jwt", F::Str), ("refreshToken", F::Str)]),
        "mfaType" => f.extend([("secret", F::Str), ("uri", F::Str)]),
        "healthStatus" => f.extend([("name", F::Str), ("ping", F::Int), ("status", F::Str)]),
        "mfaChallenge" => f.extend([
            ("$id", F::Str),
            ("$createdAt", F::Str),
            ("userId", F::Str),
            ("expire", F::Str),
        ]),
        "mfaFactors" => f.extend([
            ("totp", F::Bool),
            ("phone", F::Bool),
            ("email", F::Bool),
            ("recoveryCode", F::Bool),
            ("custom", F::Bool),
        ]),
        "mfaRecoveryCodes" => f.push(("recoveryCodes", F::Strings)),
        "passkey" => {
            f.extend(ID_DATES);
            f.extend([("name", F::Str), ("accessedAt", F::Str)]);
        }
        "passkeyChallenge" => f.extend([
            ("$id", F::Str),
            ("$createdAt", F::Str),
            ("passkeyId", F::Str),
            ("expire", F::Str),
            ("publicKey", F::Object),
        ]),
        _ => {}
    }
    f
}

/// Fields that are not always present (2.x additions stripped for older formats).
pub const OPTIONAL: &[&str] = &[
    "passwordPwned",
    "providerIdToken",
    "phrase",
    "custom",
    "refreshToken",
];

/// Every model with fields of its own, in the order documents list them.
pub const MODELS: &[&str] = &[
    "account",
    "user",
    "mfaChallengeSecret",
    "session",
    "target",
    "identity",
    "log",
    "token",
    "jwt",
    "mfaType",
    "mfaChallenge",
    "mfaFactors",
    "mfaRecoveryCodes",
    "healthStatus",
    "passkey",
    "passkeyChallenge",
];

/// The list models: name, the key of their items, the items' model (`None`: always empty).
pub const LISTS: &[(&str, &str, Option<&str>)] = &[
    ("sessionList", "sessions", Some("session")),
    ("identityList", "identities", Some("identity")),
    ("logList", "logs", Some("log")),
    ("userList", "users", Some("user")),
    ("targetList", "targets", Some("target")),
    // Teams are not served.
    ("membershipList", "memberships", None),
    // latchkey is not an OAuth2 provider.
    ("oauth2ConsentList", "consents", None),
    ("passkeyList", "passkeys", Some("passkey")),
    ("healthStatusList", "statuses", Some("healthStatus")),
];

/// What a route's success body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One of [`MODELS`] or [`LISTS`], by name.
    Named(&'static str),
    /// A free-form JSON object (prefs, health).
    FreeForm,
    /// No body.
    Empty,
}

/// The shape of a declared model.
pub fn shape(model: Model) -> Shape {
    Shape::Named(match model {
        Model::Account => "account",
        Model::User => "user",
        Model::UserList => "userList",
        Model::TargetList => "targetList",
        Model::MembershipList => "membershipList",
        Model::ConsentList => "oauth2ConsentList",
        Model::Passkey => "passkey",
        Model::PasskeyList => "passkeyList",
        Model::PasskeyChallenge => "passkeyChallenge",
        Model::MfaChallengeSecret => "mfaChallengeSecret",
        Model::Session => "session",
        Model::SessionList => "sessionList",
        Model::IdentityList => "identityList",
        Model::LogList => "logList",
        Model::Target => "target",
        Model::Token => "token",
        Model::Jwt => "jwt",
        Model::MfaType => "mfaType",
        Model::MfaChallenge => "mfaChallenge",
        Model::MfaFactors => "mfaFactors",
        Model::MfaRecoveryCodes => "mfaRecoveryCodes",
        Model::HealthStatus => "healthStatus",
        Model::HealthStatusList => "healthStatusList",
        Model::Preferences | Model::Plain => return Shape::FreeForm,
        Model::None => return Shape::Empty,
    })
}
