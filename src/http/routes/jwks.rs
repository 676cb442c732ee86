//! Where other services fetch the public keys of a project's JWTs (a latchkey addition): the
//! well-known path with the project as a param or header, and a path that names it, for
//! verifiers that take only a URL.

use crate::http::jwts;
use crate::http::reply::Model;
use crate::http::route::{Route, Verb::*, h, p};

#[rustfmt::skip]
pub static JWKS_ROUTES: &[Route] = &[
    Route::new(Get, "/v1/.well-known/jwks.json", "jwks.get", h!(jwts::jwks))
        .scope("public").returns(200, Model::Plain),
    Route::new(Get, "/v1/projects/:projectId/jwks.json", "jwks.getForProject", h!(jwts::jwks))
        .projectless()
        .params(&[p::path_text("projectId", 36)])
        .returns(200, Model::Plain),
];
