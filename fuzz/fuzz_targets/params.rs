//! Request params against every route's declaration: the body (JSON or form) or query string
//! is read as the dispatcher reads it and validated as the route declares, for a route and
//! path chosen by the input. Input: route index, encoding flag, then the body.
#![no_main]

use latchkey::domain::project::{Project, ProjectSettings};
use latchkey::http::extract::RawParams;
use latchkey::http::{params, routes};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static PROJECT: LazyLock<Project> =
    LazyLock::new(|| Project::new(ProjectSettings::default_project()));
static ROUTES: LazyLock<Vec<&'static latchkey::http::route::Route>> =
    LazyLock::new(|| routes::routes().collect());

fuzz_target!(|data: &[u8]| {
    let [index, flags, body @ ..] = data else {
        return;
    };
    let route = ROUTES[usize::from(*index) % ROUTES.len()];
    let method = http::Method::from_bytes(route.verb.as_str().as_bytes()).expect("a method");
    let is_json = flags & 1 == 1;
    let text = String::from_utf8_lossy(body);
    let raw = RawParams::from_request(&method, is_json, &text, body);
    // Path params as the matcher gives them, from a path the input also shapes.
    let path = format!("/v1/account/{}", text.split('\n').next().unwrap_or_default());
    let matched = routes::find(&method, &path);
    let path_params = matched.map(|m| m.path_params).unwrap_or_default();
    let _ = params::validate(route, &raw, &path_params, &PROJECT);
});
