//! The GraphQL schema, generated from the route table and the model fields (`shapes.rs`) as
//! Appwrite's `Mapper` builds it (appwrite 1.9.6 src/Appwrite/GraphQL/Types/Mapper.php): one
//! field per Account and Users route, named service + method (`accountCreateEmailPasswordSession`),
//! queries for GET and mutations for the rest; arguments are the declared params; results are
//! the REST models with `$` spelled `_`, free-form objects as `{ data }` (a JSON string) and
//! empty replies as `{ status }`. A new route is a new field with no code here.

use std::sync::LazyLock;

use async_graphql::Value as GValue;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputValue, Object, ResolverContext, Scalar, Schema, TypeRef,
    Union,
};

use crate::http::reply::Model;
use crate::http::route::{Kind, Param, Route, Verb};
use crate::http::routes::routes;
use crate::http::shapes::{F, LISTS, MODELS, Shape, fields, shape};

/// The scalar of free-form object params (prefs): an object, or a JSON string of one, as
/// Appwrite's `Assoc` type takes.
const ASSOC: &str = "Assoc";
/// The type of the empty replies of 204 routes.
const NONE: &str = "None";
const PREFERENCES: &str = "Preferences";
const HASH_OPTIONS: &str = "HashOptions";

/// A hash algorithm field: name, and whether it is an integer (else a string).
type AlgoField = (&'static str, bool);

/// Appwrite's hash algorithm models: `type` value, GraphQL type, fields besides `type`.
const ALGOS: &[(&str, &str, &[AlgoField])] = &[
    (
        "argon2",
        "AlgoArgon2",
        &[("memoryCost", true), ("timeCost", true), ("threads", true)],
    ),
    ("bcrypt", "AlgoBcrypt", &[]),
    ("md5", "AlgoMd5", &[]),
    ("phpass", "AlgoPhpass", &[]),
    (
        "scrypt",
        "AlgoScrypt",
        &[
            ("costCpu", true),
            ("costMemory", true),
            ("costParallel", true),
            ("length", true),
        ],
    ),
    (
        "scryptMod",
        "AlgoScryptModified",
        &[
            ("salt", false),
            ("saltSeparator", false),
            ("signerKey", false),
        ],
    ),
    ("sha", "AlgoSha", &[]),
];

/// Appwrite's Membership model (Teams are not served, so lists of it are always empty).
const MEMBERSHIP: &[(&str, F)] = &[
    ("$id", F::Str),
    ("$createdAt", F::Str),
    ("$updatedAt", F::Str),
    ("userId", F::Str),
    ("userName", F::Str),
    ("userEmail", F::Str),
    ("teamId", F::Str),
    ("teamName", F::Str),
    ("invited", F::Str),
    ("joined", F::Str),
    ("confirm", F::Bool),
    ("mfa", F::Bool),
    ("roles", F::Strings),
];

/// Whether a route is a GraphQL field: the Account and Users APIs, except the browser
/// redirects (OAuth2 start, callback and redirect), which Appwrite leaves out too
/// (`/v1/account/sessions/oauth2` is on its blacklist) and which have no model to return.
fn exposed(route: &Route) -> bool {
    (route.path.starts_with("/v1/account") || route.path.starts_with("/v1/users"))
        && !route.html_errors
}

fn ucfirst(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|first| first.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// `account.updateName` → `accountUpdateName`.
fn field_name(sdk: &str) -> String {
    match sdk.split_once('.') {
        Some((service, method)) => format!("{service}{}", ucfirst(method)),
        None => sdk.to_owned(),
    }
}

/// The GraphQL type of a model: Appwrite's Account API returns its `user` model, so our
/// `account` (the user without password fields) is the `User` type too.
fn type_name(model: &str) -> String {
    match model {
        "account" => "User".to_owned(),
        other => ucfirst(other),
    }
}

/// `$id` → `_id`, as Appwrite's resolvers escape keys.
fn escape(key: &str) -> String {
    key.replace('$', "_")
}

fn field_type(f: F) -> TypeRef {
    match f {
        F::Str | F::NullStr => TypeRef::named(TypeRef::STRING),
        F::Bool | F::NullBool => TypeRef::named(TypeRef::BOOLEAN),
        F::Strings => TypeRef::named_list(TypeRef::STRING),
        F::Object => TypeRef::named(PREFERENCES),
        F::Int => TypeRef::named(TypeRef::INT),
        F::NullObject => TypeRef::named(HASH_OPTIONS),
        F::Array(item) => TypeRef::named_list(type_name(item)),
    }
}

/// The argument type of a param (Mapper::param): required params are non-null.
fn arg_type(p: &Param) -> TypeRef {
    let name = match p.kind {
        Kind::Integer { .. } => TypeRef::INT,
        Kind::Boolean | Kind::StrictBoolean => TypeRef::BOOLEAN,
        Kind::Object { .. } => ASSOC,
        Kind::Queries | Kind::Strings { .. } => {
            return TypeRef::named_list(TypeRef::STRING);
        }
        _ => TypeRef::STRING,
    };
    if p.required {
        TypeRef::named_nn(name)
    } else {
        TypeRef::named(name)
    }
}

/// The value of `key` in the parent object (`None` for null or absent).
fn from_parent<'a>(ctx: &ResolverContext<'a>, key: &str) -> Option<GValue> {
    match ctx.parent_value.as_value()? {
        GValue::Object(m) => m.get(key).filter(|v| **v != GValue::Null).cloned(),
        _ => None,
    }
}

/// A field read from the parent object under its escaped name.
fn value_field(name: String, ty: TypeRef) -> Field {
    let key = name.clone();
    Field::new(name, ty, move |ctx| {
        FieldFuture::from_value(from_parent(&ctx, &key))
    })
}

fn object(name: String, fields: &[(&str, F)]) -> Object {
    fields.iter().fold(Object::new(name), |o, (key, f)| {
        o.field(value_field(escape(key), field_type(*f)))
    })
}

/// `hashOptions`: one of the `Algo*` types, told by its `type`.
fn hash_options_field() -> Field {
    Field::new("hashOptions", TypeRef::named(HASH_OPTIONS), |ctx| {
        let value = from_parent(&ctx, "hashOptions");
        let algo = value.as_ref().and_then(|v| match v {
            GValue::Object(m) => match m.get("type") {
                Some(GValue::String(t)) => ALGOS.iter().find(|(name, ..)| name == t),
                _ => None,
            },
            _ => None,
        });
        FieldFuture::Value(match (value, algo) {
            (Some(v), Some((_, ty, _))) => Some(FieldValue::value(v).with_type(*ty)),
            _ => None,
        })
    })
}

fn model_object(name: &str) -> Object {
    let all = fields(name);
    let (hash, rest): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|(key, _)| *key == "hashOptions");
    let o = object(type_name(name), &rest);
    if hash.is_empty() {
        o
    } else {
        o.field(hash_options_field())
    }
}

/// The field of one route; its resolver runs the route (`super::resolve`).
fn route_field(route: &'static Route) -> Field {
    let ty = match shape(route.model) {
        Shape::Named(model) => type_name(model),
        Shape::FreeForm => PREFERENCES.to_owned(),
        Shape::Empty => NONE.to_owned(),
    };
    let field = Field::new(field_name(route.sdk), TypeRef::named(ty), move |ctx| {
        FieldFuture::new(super::resolve(route, ctx))
    });
    route.params.iter().fold(field, |f, p| {
        f.argument(InputValue::new(p.name, arg_type(p)))
    })
}

fn build() -> Result<Schema, async_graphql::dynamic::SchemaError> {
    let (mut query, mut mutation) = (Object::new("Query"), Object::new("Mutation"));
    for route in routes().filter(|r| exposed(r)) {
        if route.verb == Verb::Get {
            query = query.field(route_field(route));
        } else {
            mutation = mutation.field(route_field(route));
        }
    }
    let mut schema = Schema::build("Query", Some("Mutation"), None)
        .register(query)
        .register(mutation);
    // `account` is served as `User`.
    for name in MODELS.iter().filter(|m| **m != "account") {
        schema = schema.register(model_object(name));
    }
    for (name, key, item) in LISTS {
        let items = match item {
            Some(item) => type_name(item),
            None => "Membership".to_owned(),
        };
        schema = schema.register(
            Object::new(type_name(name))
                .field(value_field("total".into(), TypeRef::named(TypeRef::INT)))
                .field(value_field((*key).into(), TypeRef::named_list(items))),
        );
    }
    schema = schema.register(object("Membership".into(), MEMBERSHIP));
    let mut union = Union::new(HASH_OPTIONS);
    for (_, ty, extra) in ALGOS {
        let o = Object::new(*ty).field(value_field("type".into(), TypeRef::named(TypeRef::STRING)));
        let o = extra.iter().fold(o, |o, (key, int)| {
            let t = if *int { TypeRef::INT } else { TypeRef::STRING };
            o.field(value_field((*key).into(), TypeRef::named(t)))
        });
        schema = schema.register(o);
        union = union.possible_type(*ty);
    }
    schema
        .register(union)
        .register(
            Object::new(PREFERENCES)
                .field(value_field("data".into(), TypeRef::named(TypeRef::STRING))),
        )
        .register(Object::new(NONE).field(value_field(
            "status".into(),
            TypeRef::named(TypeRef::STRING),
        )))
        .register(
            Scalar::new(ASSOC)
                .description("A JSON object, or a string holding one (Appwrite's Assoc)."),
        )
        .finish()
}

/// The schema, built once.
pub static SCHEMA: LazyLock<Schema> =
    LazyLock::new(|| build().unwrap_or_else(|e| panic!("GraphQL schema: {e}")));

/// The schema in SDL, printed once.
pub static SDL: LazyLock<String> = LazyLock::new(|| SCHEMA.sdl());

/// Converts a REST body of `model` to the value its GraphQL type reads: keys escaped,
/// free-form objects (prefs) as `{ data }`, nothing as `{ status: "OK" }`.
pub fn output(model: Model, body: Option<serde_json::Value>) -> GValue {
    match (shape(model), body) {
        (Shape::Empty, _) | (_, None) => {
            GValue::Object([(async_graphql::Name::new("status"), GValue::from("OK"))].into())
        }
        (Shape::FreeForm, Some(body)) => data(&body),
        (Shape::Named(name), Some(body)) => convert(Some(name), body),
    }
}

/// `{ data: "<JSON>" }`; an empty object stays `{}` (PHP's `JSON_FORCE_OBJECT`).
fn data(v: &serde_json::Value) -> GValue {
    GValue::Object(
        [(
            async_graphql::Name::new("data"),
            GValue::from(v.to_string()),
        )]
        .into(),
    )
}

/// A JSON value of model `model` (when known) as a GraphQL value.
fn convert(model: Option<&str>, v: serde_json::Value) -> GValue {
    use serde_json::Value as J;
    match v {
        J::Object(m) => {
            let declared = model.map(fields).unwrap_or_default();
            let list = model.and_then(|n| LISTS.iter().find(|(name, ..)| *name == n));
            let out = m
                .into_iter()
                .map(|(k, v)| {
                    let kind = declared
                        .iter()
                        .find(|(name, _)| *name == k)
                        .map(|(_, f)| *f);
                    let value = match (kind, list) {
                        (Some(F::Object), _) => data(&v),
                        (Some(F::Array(item)), _) => convert_list(Some(item), v),
                        (_, Some((_, key, item))) if *key == k => convert_list(*item, v),
                        _ => convert(None, v),
                    };
                    (async_graphql::Name::new(escape(&k)), value)
                })
                .collect();
            GValue::Object(out)
        }
        J::Array(items) => GValue::List(items.into_iter().map(|v| convert(None, v)).collect()),
        other => GValue::from_json(other).unwrap_or(GValue::Null),
    }
}

fn convert_list(item: Option<&str>, v: serde_json::Value) -> GValue {
    match v {
        serde_json::Value::Array(items) => {
            GValue::List(items.into_iter().map(|v| convert(item, v)).collect())
        }
        other => convert(None, other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exposed_route_is_one_field_named_service_and_method() {
        let mut seen = std::collections::HashSet::new();
        for r in routes().filter(|r| exposed(r)) {
            assert!(seen.insert(field_name(r.sdk)), "{} twice", r.sdk);
        }
        let sdl = SCHEMA.sdl();
        for name in [
            "accountGet: User",
            "accountCreateEmailPasswordSession(email: String!, password: String!): Session",
            "accountUpdatePrefs(prefs: Assoc!): User",
            "usersGetPrefs(userId: String!): Preferences",
            "accountDeleteSession(sessionId: String!): None",
            "usersList(queries: [String], search: String",
            "accountCreateOAuth2Token",
        ] {
            let found = sdl.contains(name);
            assert_eq!(
                found,
                name != "accountCreateOAuth2Token",
                "{name} in the SDL:\n{sdl}"
            );
        }
        assert!(!sdl.contains("accountCreateOAuth2Session"));
        assert!(sdl.contains("type Mutation"));
    }

    #[test]
    fn output_escapes_keys_and_wraps_prefs_and_empty_replies() {
        let body = serde_json::json!({
            "$id": "u1", "prefs": {"theme": "dark", "$x": 1},
            "targets": [{"$id": "t1", "identifier": "a@b.co"}],
        });
        let v = output(Model::Account, Some(body)).into_json().unwrap();
        assert_eq!(v["_id"], "u1");
        assert_eq!(v["targets"][0]["_id"], "t1");
        let prefs: serde_json::Value =
            serde_json::from_str(v["prefs"]["data"].as_str().unwrap()).unwrap();
        assert_eq!(prefs, serde_json::json!({"theme": "dark", "$x": 1}));
        let v = output(Model::Preferences, Some(serde_json::json!({})))
            .into_json()
            .unwrap();
        assert_eq!(v["data"], "{}");
        let v = output(Model::None, None).into_json().unwrap();
        assert_eq!(v["status"], "OK");
        let list =
            serde_json::json!({"total": 1, "sessions": [{"$id": "s", "factors": ["password"]}]});
        let v = output(Model::SessionList, Some(list)).into_json().unwrap();
        assert_eq!(v["sessions"][0]["_id"], "s");
    }
}
