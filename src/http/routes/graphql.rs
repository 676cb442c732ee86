//! The GraphQL API's routes (appwrite 1.9.6 app/controllers/api/graphql.php): every Account
//! and Users route again as one field each, so these routes check only what Appwrite checks
//! for the whole request; each field then passes its own route's checks.

use crate::http::graphql;
use crate::http::reply::Model;
use crate::http::route::{Group::Mfa, Route, URL_IP, Verb::*, h};

/// Appwrite's scope for the GraphQL endpoints (guests, users and keys all have it).
const GRAPHQL: &str = "graphql";

/// In the `mfa` group so a session still owing a factor can reach the MFA fields; each field
/// then applies its own route's MFA gate.
#[rustfmt::skip]
pub static GRAPHQL_ROUTES: &[Route] = &[
    Route::new(Get, "/v1/graphql", "graphql.get", h!(graphql::get))
        .scope(GRAPHQL).groups(&[Mfa]).limit(60, 60, URL_IP)
        .returns(200, Model::Plain),
    Route::new(Post, "/v1/graphql", "graphql.query", h!(graphql::post))
        .scope(GRAPHQL).groups(&[Mfa]).limit(60, 60, URL_IP)
        .returns(200, Model::Plain),
    Route::new(Post, "/v1/graphql/mutation", "graphql.mutation", h!(graphql::post))
        .scope(GRAPHQL).groups(&[Mfa]).limit(60, 60, URL_IP)
        .returns(200, Model::Plain),
    // Not Appwrite's: the schema in SDL for tools (the same for every project).
    Route::new(Get, "/v1/graphql/schema", "graphql.getSchema", h!(graphql::sdl))
        .projectless().returns(200, Model::Plain),
];
