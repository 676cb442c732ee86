//! What a route declaration holds (spec §4): method, path and aliases, SDK method, scope,
//! auth-method switch, groups, rate limit, HTML error view, declared params, success status
//! and model, handler. Everything is `const`, so the table in `routes.rs` is plain data from
//! which the matcher, param validation and (later) OpenAPI and GraphQL are derived.

use std::future::Future;
use std::pin::Pin;

use crate::domain::project::AuthMethod;
use crate::error::Result;
use crate::http::gate::Ctx;
use crate::http::params::Args;
use crate::http::reply::{Model, Reply};

/// A handler: takes the gated context and the validated params.
pub type Handler = fn(Ctx, Args) -> Pin<Box<dyn Future<Output = Result<Reply>> + Send>>;

/// An HTTP method a route answers (HEAD is matched as GET, as Appwrite's router does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    /// The verb of a request method; `None` for methods no route answers.
    pub fn of(method: &http::Method) -> Option<Verb> {
        Some(match *method {
            http::Method::GET | http::Method::HEAD => Verb::Get,
            http::Method::POST => Verb::Post,
            http::Method::PUT => Verb::Put,
            http::Method::PATCH => Verb::Patch,
            http::Method::DELETE => Verb::Delete,
            _ => return None,
        })
    }

    /// The method's name, as `{method}` renders it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }

    /// Whether requests of this verb carry their params in the body (else the query string).
    pub fn has_body(self) -> bool {
        self != Verb::Get
    }
}

/// Appwrite route groups that change the pipeline (spec §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Refused with `user_session_already_exists` when a user is signed in.
    Session,
    /// Allowed while a session still lacks MFA factors.
    Mfa,
    /// Needs an MFA challenge completed in the last 30 minutes (MFA issue).
    MfaProtected,
}

/// A fixed-window rate limit (spec §2.8; enforced by the abuse issue's limiter).
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub limit: u32,
    /// Window length in seconds.
    pub period: u32,
    /// Key templates with `{ip}`, `{url}`, `{userId}`, `{method}`, `{param-<name>}`; a request
    /// is limited by each of them.
    pub keys: &'static [&'static str],
    /// Response statuses after which the route's counters for this request are reset
    /// (Appwrite's `abuse-reset`: a successful login clears its failures).
    pub reset_on: &'static [u16],
}

/// Appwrite's default key: `url:{url},ip:{ip}`.
pub const URL_IP: &[&str] = &["url:{url},ip:{ip}"];

/// The placeholders a rate-limit key may use.
pub const KEY_PLACEHOLDERS: &[&str] = &["{ip}", "{url}", "{userId}", "{method}", "{projectId}"];

/// What a parameter must be (Appwrite's validator of that param).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// `unique()` or a client-chosen id (`CustomId`).
    CustomId,
    /// A plain id (`UID`).
    Uid,
    /// An email address, trimmed and lower-cased.
    Email,
    /// An E.164 phone number.
    Phone,
    /// A string of `min..=max` characters.
    Text { min: usize, max: usize },
    /// A new password, checked by the project's password policy.
    NewPassword,
    /// A password that is only compared (8–256 bytes).
    Password,
    /// An integer in `min..=max`; numeric strings are accepted.
    Integer { min: i64, max: i64 },
    /// A loose boolean (`true/false/1/0` in any case).
    Boolean,
    /// A JSON boolean and nothing else (Appwrite's strict `Boolean`, e.g. `phrase`).
    StrictBoolean,
    /// An array of query strings.
    Queries,
    /// A JSON object of at most `max_bytes` as PHP encodes it.
    Object { max_bytes: usize },
    /// A redirect URL whose host must be one of the project's platforms (spec §2.7).
    Redirect,
    /// One of these names, in any case (Appwrite's non-strict `WhiteList`); the value is
    /// passed on as the list spells it.
    OneOf(&'static [&'static str]),
    /// An array of at most `max_items` strings of at most `max_len` characters (a single
    /// string is an array of one).
    Strings { max_items: usize, max_len: usize },
    /// An OAuth2 provider name, case-sensitive: Appwrite's list (spec §7.1) or `oidc-<name>`.
    Provider,
}

/// A default for an optional param.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    None,
    Int(i64),
    Bool(bool),
    Text(&'static str),
}

/// Where a param is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The body (POST/PUT/PATCH/DELETE) or query string (GET).
    Request,
    /// A `:name` segment of the path.
    Path,
}

/// One declared parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub default: DefaultValue,
    pub source: Source,
    /// `""` is accepted as it is, unchecked (Appwrite's `allowEmpty`: the Users API clears an
    /// email or phone with it).
    pub empty_ok: bool,
}

impl Param {
    /// Makes the param optional.
    pub const fn optional(mut self) -> Self {
        self.required = false;
        self
    }

    /// Makes the param optional with a default integer.
    pub const fn or_int(mut self, default: i64) -> Self {
        self.required = false;
        self.default = DefaultValue::Int(default);
        self
    }

    /// Makes the param optional with a default boolean.
    pub const fn or_bool(mut self, default: bool) -> Self {
        self.required = false;
        self.default = DefaultValue::Bool(default);
        self
    }

    /// Accepts `""` as it is (the value then means "none").
    pub const fn or_empty(mut self) -> Self {
        self.empty_ok = true;
        self
    }

    /// Makes the param optional with a default string.
    pub const fn or_text(mut self, default: &'static str) -> Self {
        self.required = false;
        self.default = DefaultValue::Text(default);
        self
    }
}

const fn param(name: &'static str, kind: Kind) -> Param {
    Param {
        name,
        kind,
        required: true,
        default: DefaultValue::None,
        source: Source::Request,
        empty_ok: false,
    }
}

/// Required params of each kind; `.optional()` / `.or_int(..)` and friends relax them.
pub mod p {
    use super::*;

    pub const fn custom_id(name: &'static str) -> Param {
        param(name, Kind::CustomId)
    }
    pub const fn uid(name: &'static str) -> Param {
        param(name, Kind::Uid)
    }
    pub const fn email(name: &'static str) -> Param {
        param(name, Kind::Email)
    }
    pub const fn phone(name: &'static str) -> Param {
        param(name, Kind::Phone)
    }
    pub const fn text(name: &'static str, min: usize, max: usize) -> Param {
        param(name, Kind::Text { min, max })
    }
    pub const fn new_password(name: &'static str) -> Param {
        param(name, Kind::NewPassword)
    }
    pub const fn password(name: &'static str) -> Param {
        param(name, Kind::Password)
    }
    pub const fn integer(name: &'static str, min: i64, max: i64) -> Param {
        param(name, Kind::Integer { min, max })
    }
    pub const fn boolean(name: &'static str) -> Param {
        param(name, Kind::Boolean)
    }
    pub const fn strict_boolean(name: &'static str) -> Param {
        param(name, Kind::StrictBoolean)
    }
    pub const fn queries(name: &'static str) -> Param {
        param(name, Kind::Queries).optional()
    }
    pub const fn object(name: &'static str, max_bytes: usize) -> Param {
        param(name, Kind::Object { max_bytes })
    }
    pub const fn redirect(name: &'static str) -> Param {
        param(name, Kind::Redirect)
    }
    pub const fn one_of(name: &'static str, names: &'static [&'static str]) -> Param {
        param(name, Kind::OneOf(names))
    }
    /// A `:name` path segment holding one of `names`.
    pub const fn path_one_of(name: &'static str, names: &'static [&'static str]) -> Param {
        let mut p = param(name, Kind::OneOf(names));
        p.source = Source::Path;
        p
    }
    pub const fn strings(name: &'static str, max_items: usize, max_len: usize) -> Param {
        param(name, Kind::Strings { max_items, max_len })
    }
    pub const fn provider(name: &'static str) -> Param {
        param(name, Kind::Provider)
    }
    /// A `:name` path segment holding an OAuth2 provider name.
    pub const fn path_provider(name: &'static str) -> Param {
        let mut p = param(name, Kind::Provider);
        p.source = Source::Path;
        p
    }
    /// A `:name` path segment holding any text of `1..=max` characters.
    pub const fn path_text(name: &'static str, max: usize) -> Param {
        let mut p = param(name, Kind::Text { min: 1, max });
        p.source = Source::Path;
        p
    }
    /// A `:name` path segment holding a plain id.
    pub const fn path_uid(name: &'static str) -> Param {
        let mut p = param(name, Kind::Uid);
        p.source = Source::Path;
        p
    }
}

/// One route.
#[derive(Clone, Copy)]
pub struct Route {
    pub verb: Verb,
    /// The path template in Appwrite's syntax (`/v1/account/sessions/:sessionId`); it is also
    /// the `{url}` of rate-limit keys.
    pub path: &'static str,
    /// Older paths that lead here too.
    pub aliases: &'static [&'static str],
    /// The SDK method name, e.g. `account.createEmailPasswordSession`.
    pub sdk: &'static str,
    /// The scope the caller must hold.
    pub scope: &'static str,
    pub auth: Option<AuthMethod>,
    pub groups: &'static [Group],
    pub limit: Option<RateLimit>,
    /// Errors render as an HTML page (OAuth2 browser routes).
    pub html_errors: bool,
    /// Works without a project (health).
    pub projectless: bool,
    /// Only API keys may call it, whatever scopes a user holds (the Users API: a user has
    /// `targets.read`, but must not read other users' targets).
    pub keys_only: bool,
    pub params: &'static [Param],
    /// The success status.
    pub status: u16,
    pub model: Model,
    pub handler: Handler,
}

impl Route {
    /// A route needing scope `public` that answers 200 with a plain object, no params.
    pub const fn new(verb: Verb, path: &'static str, sdk: &'static str, handler: Handler) -> Self {
        Route {
            verb,
            path,
            aliases: &[],
            sdk,
            scope: "public",
            auth: None,
            groups: &[],
            limit: None,
            html_errors: false,
            projectless: false,
            keys_only: false,
            params: &[],
            status: 200,
            model: Model::Plain,
            handler,
        }
    }

    pub const fn aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }

    pub const fn scope(mut self, scope: &'static str) -> Self {
        self.scope = scope;
        self
    }

    pub const fn auth(mut self, method: AuthMethod) -> Self {
        self.auth = Some(method);
        self
    }

    pub const fn groups(mut self, groups: &'static [Group]) -> Self {
        self.groups = groups;
        self
    }

    /// `limit` requests per `period` seconds for each of `keys`.
    pub const fn limit(mut self, limit: u32, period: u32, keys: &'static [&'static str]) -> Self {
        self.limit = Some(RateLimit {
            limit,
            period,
            keys,
            reset_on: &[],
        });
        self
    }

    /// As [`Route::limit`], with the counters reset after a 201.
    pub const fn limit_reset(
        mut self,
        limit: u32,
        period: u32,
        keys: &'static [&'static str],
    ) -> Self {
        self.limit = Some(RateLimit {
            limit,
            period,
            keys,
            reset_on: &[201],
        });
        self
    }

    pub const fn html_errors(mut self) -> Self {
        self.html_errors = true;
        self
    }

    pub const fn projectless(mut self) -> Self {
        self.projectless = true;
        self
    }

    pub const fn keys_only(mut self) -> Self {
        self.keys_only = true;
        self
    }

    pub const fn params(mut self, params: &'static [Param]) -> Self {
        self.params = params;
        self
    }

    /// The success status and the model of its body (`204` with [`Model::None`]).
    pub const fn returns(mut self, status: u16, model: Model) -> Self {
        self.status = status;
        self.model = model;
        self
    }

    /// Whether the route is in `group`.
    pub fn in_group(&self, group: Group) -> bool {
        self.groups.contains(&group)
    }
}

/// Turns a handler function into a [`Handler`].
macro_rules! h {
    ($f:path) => {
        |ctx, args| Box::pin($f(ctx, args))
    };
}
pub(crate) use h;
