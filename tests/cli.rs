//! The admin commands on the real binary: exit codes, `--json` shapes, tables, errors for bad
//! input, and their effect on a server running on the same data folder.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

#[path = "support/binary.rs"]
mod binary;
use binary::*;

const CONFIG: &str = r#"
[passwords]
memoryCost = 1024
timeCost = 1
parallelism = 1

[[projects]]
id = "shop"
name = "Shop"
  [[projects.keys]]
  id = "from-config"
  secret = "standard_cli_config_key_0123456789"
  scopes = ["users.read", "users.write"]

[[projects]]
id = "blog"
name = "Blog"
  [projects.jwt]
  algorithm = "EdDSA"
"#;

/// The instance's config file, written on first use.
fn config(data: &Path) -> std::path::PathBuf {
    let config = data.join("latchkey.toml");
    if !config.exists() {
        std::fs::create_dir_all(data).unwrap();
        std::fs::write(&config, CONFIG).unwrap();
    }
    config
}

/// Runs `latchkey <args> --data <data> --config <config>`.
fn run(data: &Path, args: &[&str]) -> Output {
    let config = config(data);
    Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(args)
        .arg("--data")
        .arg(data.join("data"))
        .arg("--config")
        .arg(&config)
        .env_remove("LATCHKEY_DATABASE_URL")
        .env_remove("_APP_OPENSSL_KEY_V1")
        .output()
        .expect("run latchkey")
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints JSON")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// An instance that `serve` has created (and stopped).
fn created(data: &Path) {
    assert!(terminate(serve(data)).success());
}

fn serve(data: &Path) -> Server {
    let config = config(data);
    start(&["--config", config.to_str().unwrap()], &data.join("data"))
}

async fn call(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Value,
) -> reqwest::Response {
    reqwest::Client::new()
        .request(method, format!("{}{path}", server.url))
        .header("x-appwrite-project", "shop")
        .header("x-appwrite-key", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn sign_in(server: &Server, email: &str, password: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/v1/account/sessions/email", server.url))
        .header("x-appwrite-project", "shop")
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_created_key_works_at_once_on_a_running_server_until_it_is_revoked() {
    let dir = tempfile::tempdir().unwrap();
    created(dir.path());
    let created = json_of(&run(
        dir.path(),
        &[
            "keys",
            "create",
            "--project",
            "shop",
            "--name",
            "ci",
            "--scopes",
            "users.read",
            "--json",
        ],
    ));
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("standard_") && secret.len() == 9 + 256);
    assert_eq!(created["scopes"], json!(["users.read"]));
    let id = created["$id"].as_str().unwrap().to_owned();
    let server = serve(dir.path());
    let r = call(
        &server,
        reqwest::Method::GET,
        "/v1/users",
        &secret,
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = call(
        &server,
        reqwest::Method::POST,
        "/v1/users",
        &secret,
        json!({"userId": "x"}),
    )
    .await;
    assert_eq!(r.status(), 401, "the key has only users.read");

    // Listed with the config file's key; only the secret's hash is in the database.
    let listed = json_of(&run(
        dir.path(),
        &["keys", "list", "--project", "shop", "--json"],
    ));
    let sources: Vec<(&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["$id"].as_str().unwrap(), k["source"].as_str().unwrap()))
        .collect();
    assert_eq!(sources, [("from-config", "config"), (id.as_str(), "store")]);
    let table = run(dir.path(), &["keys", "list", "--project", "shop"]);
    let text = String::from_utf8_lossy(&table.stdout).into_owned();
    assert!(text.starts_with("ID"), "{text}");
    assert!(!text.contains(&secret), "the secret is shown once");
    let db = std::fs::read(dir.path().join("data/latchkey.db")).unwrap();
    assert!(!db.windows(secret.len()).any(|w| w == secret.as_bytes()));

    let out = run(
        dir.path(),
        &["keys", "revoke", "--project", "shop", "from-config"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("comes from the config file"),
        "{}",
        stderr(&out)
    );
    let out = run(dir.path(), &["keys", "revoke", "--project", "shop", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = call(
        &server,
        reqwest::Method::GET,
        "/v1/users",
        &secret,
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 401, "revoked on the running server");
    let out = run(dir.path(), &["keys", "revoke", "--project", "shop", &id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(terminate(server).success());
}

#[tokio::test]
async fn users_exported_by_the_users_api_import_elsewhere_and_keep_their_passwords() {
    // The export: `GET /v1/users` as a key sees it, from a server holding an imported MD5
    // user and an Argon2 one.
    let from = tempfile::tempdir().unwrap();
    let server = serve(from.path());
    let key = "standard_cli_config_key_0123456789";
    let r = call(&server, reqwest::Method::POST, "/v1/users", key,
                 json!({"userId": "ann", "email": "ann@example.com", "password": "ann-password-1", "name": "Ann"})).await;
    assert_eq!(r.status(), 201);
    let r = call(&server, reqwest::Method::POST, "/v1/users/md5", key,
                 json!({"userId": "bob", "email": "bob@example.com", "password": "5f4dcc3b5aa765d61d8327deb882cf99"})).await;
    assert_eq!(r.status(), 201);
    call(
        &server,
        reqwest::Method::PUT,
        "/v1/users/bob/labels",
        key,
        json!({"labels": ["vip"]}),
    )
    .await;
    let page: Value = call(&server, reqwest::Method::GET, "/v1/users", key, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(terminate(server).success());
    let file = from.path().join("users.json");
    std::fs::write(&file, page.to_string()).unwrap();

    let to = tempfile::tempdir().unwrap();
    created(to.path());
    let report = json_of(&run(
        to.path(),
        &[
            "users",
            "import",
            "--project",
            "shop",
            "--json",
            file.to_str().unwrap(),
        ],
    ));
    assert_eq!(
        report,
        json!({"imported": 2, "alreadyThere": 0, "failed": []})
    );
    let again = json_of(&run(
        to.path(),
        &[
            "users",
            "import",
            "--project",
            "shop",
            "--json",
            file.to_str().unwrap(),
        ],
    ));
    assert_eq!(again["alreadyThere"], 2, "a second run skips them");
    let server = serve(to.path());
    assert_eq!(
        sign_in(&server, "ann@example.com", "ann-password-1").await,
        201
    );
    assert_eq!(sign_in(&server, "bob@example.com", "password").await, 201);
    assert_eq!(
        sign_in(&server, "bob@example.com", "wrong-password").await,
        401
    );
    let bob: Value = call(
        &server,
        reqwest::Method::GET,
        "/v1/users/bob",
        key,
        json!({}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(bob["labels"], json!(["vip"]));
    assert_eq!(bob["hash"], "argon2", "re-hashed at the login");
    assert!(terminate(server).success());
}

#[tokio::test]
async fn a_firebase_export_imports_with_the_projects_hash_parameters() {
    let dir = tempfile::tempdir().unwrap();
    created(dir.path());
    // github.com/firebase/scrypt README: its sample project and user.
    let export = json!({"users": [{
        "localId": "fbuser1", "email": "fb@example.com", "emailVerified": true,
        "passwordHash": "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
        "salt": "42xEC+ixf3L2lw==", "displayName": "Fire Base", "createdAt": "1600000000000", "disabled": false,
    }, {"localId": "bad id!", "email": "x@example.com"}]});
    std::fs::create_dir_all(dir.path()).unwrap();
    let file = dir.path().join("firebase.json");
    std::fs::write(&file, export.to_string()).unwrap();
    let out = run(
        dir.path(),
        &[
            "users",
            "import",
            "--project",
            "shop",
            "--json",
            "--salt-separator",
            "Bw==",
            "--signer-key",
            "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "one user could not be imported");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["imported"], 1);
    assert_eq!(report["failed"][0]["$id"], "bad id!");
    assert!(
        stderr(&out).contains("run the import again"),
        "{}",
        stderr(&out)
    );
    let user = json_of(&run(
        dir.path(),
        &["users", "get", "--project", "shop", "fbuser1", "--json"],
    ));
    assert_eq!(user["hash"], "scryptMod");
    assert_eq!(user["emailVerification"], true);
    assert_eq!(user["registration"], "2020-09-13T12:26:40.000+00:00");
    let server = serve(dir.path());
    assert_eq!(
        sign_in(&server, "fb@example.com", "user1password").await,
        201
    );
    assert!(terminate(server).success());
    // Other Firebase parameters are refused before anything is written.
    let out = run(
        dir.path(),
        &[
            "users",
            "import",
            "--project",
            "shop",
            "--rounds",
            "9",
            "--signer-key",
            "a2V5",
            "--salt-separator",
            "Bw==",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("rounds 8"), "{}", stderr(&out));
}

#[tokio::test]
async fn users_are_listed_blocked_unblocked_and_deleted_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path());
    let key = "standard_cli_config_key_0123456789";
    for (id, email) in [("u1", "one@example.com"), ("u2", "two@example.com")] {
        let r = call(
            &server,
            reqwest::Method::POST,
            "/v1/users",
            key,
            json!({"userId": id, "email": email, "password": "cli-password-1"}),
        )
        .await;
        assert_eq!(r.status(), 201);
    }
    let list = json_of(&run(
        dir.path(),
        &[
            "users",
            "list",
            "--project",
            "shop",
            "--search",
            "two",
            "--json",
        ],
    ));
    assert_eq!(list["total"], 1);
    assert_eq!(list["users"][0]["$id"], "u2");
    let table = run(dir.path(), &["users", "list", "--project", "shop"]);
    let text = String::from_utf8_lossy(&table.stdout).into_owned();
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with("ID") && header.contains("EMAIL") && header.contains("STATUS"),
        "{text}"
    );
    assert!(text.contains("2 of 2 users"), "{text}");
    let blocked = json_of(&run(
        dir.path(),
        &["users", "block", "--project", "shop", "u1", "--json"],
    ));
    assert_eq!(blocked, json!({"$id": "u1", "status": false}));
    assert_eq!(
        sign_in(&server, "one@example.com", "cli-password-1").await,
        403
    );
    json_of(&run(
        dir.path(),
        &["users", "unblock", "--project", "shop", "u1", "--json"],
    ));
    assert_eq!(
        sign_in(&server, "one@example.com", "cli-password-1").await,
        201
    );
    json_of(&run(
        dir.path(),
        &["users", "delete", "--project", "shop", "u1", "--json"],
    ));
    let out = run(dir.path(), &["users", "get", "--project", "shop", "u1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no user `u1`"), "{}", stderr(&out));
    assert_eq!(
        sign_in(&server, "one@example.com", "cli-password-1").await,
        401
    );
    assert!(terminate(server).success());
}

#[test]
fn bad_input_exits_2_and_says_what_to_do() {
    // A mistyped --data does not start a new, empty instance.
    let fresh = tempfile::tempdir().unwrap();
    let out = run(fresh.path(), &["keys", "list", "--project", "shop"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no latchkey database at"),
        "{}",
        stderr(&out)
    );
    assert!(!fresh.path().join("data/latchkey.db").exists());
    let dir = tempfile::tempdir().unwrap();
    created(dir.path());
    for (args, says) in [
        (vec!["users", "list"], "pass --project"),
        (
            vec!["users", "list", "--project", "nope"],
            "latchkey projects list",
        ),
        (
            vec!["users", "import", "--project", "shop", "/no/such/file.json"],
            "/no/such/file.json",
        ),
        (
            vec!["keys", "create", "--project", "shop", "--scopes", "root"],
            "unknown scope `root`",
        ),
        (
            vec![
                "keys",
                "create",
                "--project",
                "shop",
                "--scopes",
                "users.read",
                "--expire",
                "soon",
            ],
            "ISO-8601",
        ),
    ] {
        let out = run(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    let not_json = dir.path().join("not.json");
    std::fs::write(&not_json, "users: nope").unwrap();
    let out = run(
        dir.path(),
        &[
            "users",
            "import",
            "--project",
            "shop",
            not_json.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not JSON"), "{}", stderr(&out));
}

#[test]
fn projects_are_listed_and_shown_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    created(dir.path());
    let list = json_of(&run(dir.path(), &["projects", "list", "--json"]));
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["$id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["blog", "shop"]);
    let shop = json_of(&run(dir.path(), &["projects", "show", "shop", "--json"]));
    assert_eq!(shop["name"], "Shop");
    assert_eq!(shop["running"], true);
    assert!(
        !shop
            .to_string()
            .contains("standard_cli_config_key_0123456789")
    );
    let out = run(dir.path(), &["projects", "show", "nope"]);
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test]
async fn seeded_users_sign_in_with_the_shared_password_and_carry_their_sessions() {
    let dir = tempfile::tempdir().unwrap();
    created(dir.path());
    // 700 users at 300 per unit of work: three batches, the last one short.
    let args = [
        "users",
        "seed",
        "--project",
        "shop",
        "--users",
        "700",
        "--sessions-per-user",
        "3",
        "--batch",
        "300",
        "--password",
        "seeded-password-1",
        "--json",
    ];
    let report = json_of(&run(dir.path(), &args));
    assert_eq!(report["users"], 700);
    assert_eq!(report["sessions"], 2100);
    assert_eq!(report["lastEmail"], "seed-699@seed.example.com");
    // The same emails again: refused, and the message says how to go on.
    let again = run(dir.path(), &args);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(stderr(&again).contains("--first"), "{}", stderr(&again));
    // Continued past the first run.
    let more = json_of(&run(
        dir.path(),
        &[
            "users",
            "seed",
            "--project",
            "shop",
            "--users",
            "5",
            "--first",
            "700",
            "--password",
            "seeded-password-1",
            "--json",
        ],
    ));
    assert_eq!(more["firstEmail"], "seed-700@seed.example.com");

    let server = serve(dir.path());
    let key = "standard_cli_config_key_0123456789";
    let list = call(
        &server,
        reqwest::Method::GET,
        "/v1/users?search=seed-699",
        key,
        json!(null),
    )
    .await
    .json::<Value>()
    .await
    .unwrap();
    assert_eq!(list["total"], 1, "{list}");
    let user = &list["users"][0];
    assert_eq!(user["email"], "seed-699@seed.example.com");
    assert_eq!(
        user["targets"][0]["identifier"],
        "seed-699@seed.example.com"
    );
    let id = user["$id"].as_str().unwrap();
    let sessions = call(
        &server,
        reqwest::Method::GET,
        &format!("/v1/users/{id}/sessions"),
        key,
        json!(null),
    )
    .await
    .json::<Value>()
    .await
    .unwrap();
    assert_eq!(sessions["total"], 3, "{sessions}");
    assert_eq!(sessions["sessions"][0]["provider"], "email");
    assert_eq!(
        sign_in(&server, "seed-699@seed.example.com", "seeded-password-1").await,
        201
    );
    assert_eq!(
        sign_in(&server, "seed-704@seed.example.com", "seeded-password-1").await,
        201
    );
    assert_eq!(
        sign_in(&server, "seed-12@seed.example.com", "another-password").await,
        401
    );
    assert!(terminate(server).success());
}

#[test]
fn seeding_refuses_a_short_password_and_an_email_domain_that_is_not_one() {
    let dir = tempfile::tempdir().unwrap();
    created(dir.path());
    let out = run(
        dir.path(),
        &["users", "seed", "--project", "shop", "--password", "short"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("between 8 and 256"),
        "{}",
        stderr(&out)
    );
    let out = run(
        dir.path(),
        &[
            "users",
            "seed",
            "--project",
            "shop",
            "--password",
            "long-enough-1",
            "--email-domain",
            "not a domain",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--email-domain"), "{}", stderr(&out));
}

#[tokio::test]
async fn jwt_keys_are_rotated_from_the_command_line_and_the_old_key_stays_published() {
    let dir = tempfile::tempdir().unwrap();
    created(dir.path());
    let none = json_of(&run(
        dir.path(),
        &["jwt-keys", "list", "--project", "blog", "--json"],
    ));
    assert_eq!(none, json!([]));
    let out = run(dir.path(), &["jwt-keys", "list", "--project", "blog"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("no JWT key pair yet"));

    let first = json_of(&run(
        dir.path(),
        &["jwt-keys", "rotate", "--project", "blog", "--json"],
    ));
    let kid1 = first["signing"].as_str().unwrap().to_owned();
    assert_eq!(first["keys"][0]["alg"], "EdDSA");
    assert_eq!(first["keys"][0]["publicJwk"]["kid"], kid1.as_str());
    assert!(
        first["keys"][0]["publicJwk"].get("d").is_none(),
        "no private part printed"
    );

    let second = json_of(&run(
        dir.path(),
        &["jwt-keys", "rotate", "--project", "blog", "--json"],
    ));
    let kid2 = second["signing"].as_str().unwrap().to_owned();
    assert_ne!(kid1, kid2);
    let states: Vec<(&str, &str)> = second["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kid"].as_str().unwrap(), k["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [(kid2.as_str(), "signing"), (kid1.as_str(), "verifying")]
    );

    // A server on the same data publishes both.
    let server = serve(dir.path());
    let set: Value = reqwest::get(format!("{}/v1/projects/blog/jwks.json", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [kid2.as_str(), kid1.as_str()]);
    assert!(terminate(server).success());

    // An HS256 project has no key pair: exit 2, saying what to set.
    let out = run(dir.path(), &["jwt-keys", "rotate", "--project", "shop"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("[projects.jwt]"), "{}", stderr(&out));
}
