//! Users imported with password hashes from other systems sign in with their own password
//! once; the hash is then replaced by the default Argon2id. The vectors were made by Python's
//! `hashlib`, `bcrypt` 4.2.1 and `passlib` 1.7.4 (the SDK suite makes fresh ones at test
//! time); Firebase's is its published sample.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;

/// The User model of `id`, as the key sees it.
async fn user_json(app: &TestApp, id: &str) -> Value {
    let r = app
        .as_key(Method::GET, &format!("/v1/users/{id}"))
        .send()
        .await
        .unwrap();
    r.json().await.unwrap()
}

async fn import(app: &TestApp, path: &str, body: Value) -> Value {
    let r = app
        .as_key(Method::POST, &format!("/v1/users/{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "import {path}: {:?}", r.text().await);
    user_json(app, body["userId"].as_str().unwrap()).await
}

/// Signs in with `password`: the wrong one first (refused), then the right one; then the
/// stored hash is Argon2id.
async fn signs_in_then_rehashed(app: &TestApp, id: &str, email: &str, password: &str, was: &str) {
    let r = app
        .req(Method::POST, "/v1/account/sessions/email")
        .json(&json!({"email": email, "password": format!("{password}x")}))
        .send()
        .await
        .unwrap();
    assert_error(r, 401, "user_invalid_credentials").await;
    let before = user_json(app, id).await;
    assert_eq!(before["hash"], was, "{id} keeps its hash until a login");
    app.login(email, password).await;
    let after = user_json(app, id).await;
    assert_eq!(after["hash"], "argon2", "{id} re-hashed");
    assert!(
        after["password"]
            .as_str()
            .unwrap()
            .starts_with("$argon2id$")
    );
    app.login(email, password).await;
}

#[tokio::test]
async fn every_imported_algorithm_verifies_once_and_is_rehashed() {
    let app = spawn_app().await;
    let cases = [
        (
            "bcrypt",
            json!({"password": "$2b$05$xMvNJTdt2n1oqu/b8aX5x.nd4fEN2xnF3oseBc06j/zcqmpnRErp."}),
            "bcrypt-password",
            "bcrypt",
        ),
        // No `passwordVersion`: SHA3-512, utopia-php/auth's default.
        (
            "sha",
            json!({"password": "187daccbab59831fea09160bf489af5bc65664653a3ba8eec599ef569a6757133c2532b479993dba5c29919d5bbb1470bf194e9584a0aa5175127d3ae5910501"}),
            "sha3-password",
            "sha",
        ),
        (
            "md5",
            json!({"password": "14b94f2bc9a25d8b183218dd7c45feb8"}),
            "md5-password",
            "md5",
        ),
        (
            "sha",
            json!({"password": "258e5aad6fd134d5268e6a9980316e6eb0ff05568e1f00874ad97ef147ddacd3092d991d77fa3e5083a8e16f26de695f8b4859118fd11fe85ce5c6728346bf43",
                       "passwordVersion": "sha512"}),
            "sha-password",
            "sha",
        ),
        (
            "phpass",
            json!({"password": "$P$6/OItfyRua1QteUEN8uwLaOFr1ztS.1"}),
            "phpass-password",
            "phpass",
        ),
        (
            "scrypt",
            json!({"password": "7885bac9912132c72e55fca69cfdfdd8d1fc3d28ac1895bd3b0474de7c84165a",
                          "passwordSalt": "NaCl-salt", "passwordCpu": 1024, "passwordMemory": 8,
                          "passwordParallel": 1, "passwordLength": 32}),
            "scrypt-password",
            "scrypt",
        ),
        (
            "scrypt-modified",
            json!({
            "password": "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
            "passwordSalt": "42xEC+ixf3L2lw==", "passwordSaltSeparator": "Bw==",
            "passwordSignerKey": "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA=="}),
            "user1password",
            "scryptMod",
        ),
    ];
    for (i, (path, mut body, password, name)) in cases.into_iter().enumerate() {
        let id = format!("imp{i}");
        let email = format!("imported{i}@example.com");
        body["userId"] = json!(id);
        body["email"] = json!(email);
        let user = import(&app, path, body).await;
        assert_eq!(user["hash"], name);
        assert_eq!(user["hashOptions"]["type"], name);
        signs_in_then_rehashed(&app, &id, &email, password, name).await;
    }
}

#[tokio::test]
async fn an_imported_argon2_hash_keeps_its_parameters_until_a_login() {
    let app = spawn_app().await;
    // The PHC string of "argon2-password" made with PHP's defaults (m=65536, t=4, p=3) by
    // Python's argon2-cffi 23.1.0.
    let user = import(
        &app,
        "argon2",
        json!({"userId": "a2", "email": "a2@example.com",
               "password": "$argon2id$v=19$m=65536,t=4,p=3$oFSrjXQ91jpoxrHG9XYfeg$WvBzODSr8XQgpGMf/faIq4ZkC3bIgSPIW03Dlzv1XDc"}),
    )
    .await;
    assert_eq!(
        user["hashOptions"],
        json!({"type": "argon2", "memoryCost": 65536, "timeCost": 4, "threads": 3})
    );
    signs_in_then_rehashed_argon2(&app).await;
}

/// Other Argon2 parameters are re-hashed with the instance's after a login.
async fn signs_in_then_rehashed_argon2(app: &TestApp) {
    let before = user_json(app, "a2").await;
    app.login("a2@example.com", "argon2-password").await;
    let after = user_json(app, "a2").await;
    assert_ne!(after["password"], before["password"]);
    assert_eq!(
        after["hashOptions"]["memoryCost"], 1024,
        "the test instance's parameters"
    );
}

#[tokio::test]
async fn hashes_that_could_never_verify_are_refused_at_import() {
    let app = spawn_app().await;
    for (path, body) in [
        ("md5", json!({"password": "not-hex"})),
        (
            "bcrypt",
            json!({"password": "$2y$17$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}),
        ),
        ("argon2", json!({"password": "plain"})),
        (
            "scrypt",
            json!({"password": "00", "passwordSalt": "s", "passwordCpu": 1000,
                          "passwordMemory": 8, "passwordParallel": 1, "passwordLength": 1}),
        ),
        (
            "scrypt",
            json!({"password": "00", "passwordSalt": "s", "passwordCpu": 1048576,
                          "passwordMemory": 8, "passwordParallel": 1, "passwordLength": 1}),
        ),
        (
            "scrypt-modified",
            json!({"password": "%%", "passwordSalt": "c2FsdA==",
                                   "passwordSaltSeparator": "Bw==", "passwordSignerKey": "a2V5"}),
        ),
        (
            "sha",
            json!({"password": "00", "passwordVersion": "sha2000"}),
        ),
    ] {
        let mut body = body;
        body["userId"] = json!("unique()");
        body["email"] = json!(unique_email());
        let r = app
            .as_key(Method::POST, &format!("/v1/users/{path}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_error(r, 400, "general_argument_invalid").await;
    }
}
