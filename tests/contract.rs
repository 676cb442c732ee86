//! Runs the real `latchkey` binary: the listening line, health, config errors, the default
//! project, the instance key file and graceful shutdown (OPERATOR-CONTRACT.md).

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

#[path = "support/binary.rs"]
mod binary;
use binary::*;

#[tokio::test]
async fn serve_prints_its_port_answers_health_creates_default_and_exits_0_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&[], dir.path());
    let v: serde_json::Value = reqwest::get(format!("{}/v1/health/version", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["version"], "2.6.2");
    // The `default` project exists and accepts sign-ups.
    let r = reqwest::Client::new()
        .post(format!("{}/v1/account", server.url))
        .header("x-appwrite-project", "default")
        .json(&serde_json::json!({"userId": "unique()", "email": "a@example.com", "password": "password-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let key = dir.path().join("instance.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let status = terminate(server);
    assert!(status.success(), "{status:?}");

    // Data and the instance key survive a restart.
    let key_before = std::fs::read_to_string(&key).unwrap();
    let server = start(&[], dir.path());
    let r = reqwest::Client::new()
        .post(format!("{}/v1/account/sessions/email", server.url))
        .header("x-appwrite-project", "default")
        .json(&serde_json::json!({"email": "a@example.com", "password": "password-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(std::fs::read_to_string(&key).unwrap(), key_before);
    assert!(terminate(server).success());
}

#[test]
fn a_bad_config_file_is_rejected_at_start_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("latchkey.toml");
    std::fs::write(
        &file,
        "[[projects]]\nid = \"p\"\nname = \"P\"\nmaxSessions = 3\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("latchkey.toml") && err.contains("maxSessions"),
        "{err}"
    );
}

#[tokio::test]
async fn a_config_file_defines_projects_and_no_default_project_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("latchkey.toml");
    std::fs::write(
        &file,
        "[[projects]]\nid = \"shop\"\nname = \"Shop\"\n[projects.auth]\nmethods = { anonymous = false }\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let server = start(&["--config", file.to_str().unwrap()], &data);
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{}/v1/account/sessions/anonymous", server.url))
        .header("x-appwrite-project", "shop")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 501);
    let r = client
        .get(format!("{}/v1/account", server.url))
        .header("x-appwrite-project", "default")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(terminate(server).success());
}

#[test]
fn version_flag_prints_the_package_version() {
    let out = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}

#[tokio::test]
async fn data_files_are_private_and_hold_only_hashes_of_secrets_whatever_the_umask() {
    use base64::Engine;
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("latchkey.toml");
    let key = "standard_contract_key_0123456789";
    std::fs::write(
        &config,
        format!(
            "[[projects]]\nid = \"p\"\nname = \"P\"\n[[projects.keys]]\nid = \"k\"\nsecret = \"{key}\"\nscopes = [\"sessions.write\"]\n"
        ),
    )
    .unwrap();
    let server = start_with_open_umask(&["--config", config.to_str().unwrap()], &data);
    let client = reqwest::Client::new();
    let body = serde_json::json!({"userId": "unique()", "email": "s@example.com", "password": "password-123"});
    let r = client
        .post(format!("{}/v1/account", server.url))
        .header("x-appwrite-project", "p")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = client
        .post(format!("{}/v1/account/sessions/email", server.url))
        .header("x-appwrite-project", "p")
        .header("x-appwrite-key", key)
        .json(&serde_json::json!({"email": "s@example.com", "password": "password-123"}))
        .send()
        .await
        .unwrap();
    let encoded = r.json::<serde_json::Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let decoded: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(&encoded)
            .unwrap(),
    )
    .unwrap();
    let secret = decoded["secret"].as_str().unwrap();
    let hash = hex::encode(sha2::Sha256::digest(secret.as_bytes()));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data folder");
    let mut files = 0;
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        files += 1;
    }
    assert!(files >= 4, "db, -wal, -shm and instance.key: {files}");
    let mut bytes = Vec::new();
    for f in ["latchkey.db", "latchkey.db-wal"] {
        if let Ok(b) = std::fs::read(data.join(f)) {
            bytes.extend(b);
        }
    }
    assert!(terminate(server).success());
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(contains(&hash), "the hash is stored");
    for s in [secret, encoded.as_str(), "password-123", key] {
        assert!(!contains(s), "a secret is stored: {}…", &s[..6]);
    }
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_request_finish_then_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("latchkey.toml");
    // A costly hash keeps the sign-up in flight long enough to signal during it.
    std::fs::write(
        &config,
        "[passwords]\nmemoryCost = 131072\ntimeCost = 8\n[[projects]]\nid = \"p\"\nname = \"P\"\n",
    )
    .unwrap();
    let server = start(
        &["--config", config.to_str().unwrap()],
        &dir.path().join("data"),
    );
    let url = server.url.clone();
    let signup = tokio::spawn(async move {
        let started = std::time::Instant::now();
        let r = reqwest::Client::new()
            .post(format!("{url}/v1/account"))
            .header("x-appwrite-project", "p")
            .json(&serde_json::json!({"userId": "unique()", "email": "d@example.com", "password": "password-123"}))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), started.elapsed())
    });
    // About 1.2 s of hashing in a debug build: signal well inside it.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let status = terminate(server);
    let (code, took) = signup.await.unwrap();
    assert_eq!(code, 201, "the in-flight request completed");
    assert!(
        took.as_millis() > 400,
        "it was still in flight at the signal ({took:?})"
    );
    assert!(status.success(), "{status:?}");
}

/// The outage promise (README "Delivery"): the SMTP server is down when a recovery email is
/// accepted, latchkey is killed with SIGKILL, started again, and the SMTP server comes back:
/// exactly one email arrives, and its link works.
#[tokio::test]
async fn an_accepted_email_survives_an_smtp_outage_and_a_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("latchkey.toml");
    std::fs::write(
        &config,
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsender = \"auth@latchkey.test\"\n\
             [[projects]]\nid = \"p\"\nname = \"Outage\"\n\
             [[projects.platforms]]\ntype = \"web\"\nhostname = \"localhost\"\n"
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let args = ["--config", config.to_str().unwrap()];
    let server = start(&args, &data);
    let http = reqwest::Client::new();
    let call = |url: &str, method: reqwest::Method, path: &str, body: serde_json::Value| {
        http.request(method, format!("{url}{path}"))
            .header("x-appwrite-project", "p")
            .json(&body)
            .send()
    };
    let r = call(&server.url, reqwest::Method::POST, "/v1/account", serde_json::json!({"userId": "unique()", "email": "o@example.com", "password": "password-123"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let user_id = r.json::<serde_json::Value>().await.unwrap()["$id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = call(
        &server.url,
        reqwest::Method::POST,
        "/v1/account/recovery",
        serde_json::json!({"email": "o@example.com", "url": "http://localhost/reset"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201, "accepted while the SMTP server is down");

    let mut killed = server.child;
    killed.kill().unwrap(); // SIGKILL
    killed.wait().unwrap();
    let server = start(&args, &data);

    let mail_dir = dir.path().join("mail");
    let python = std::env::var("LATCHKEY_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut sink = Command::new(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/smtp_sink.py"
        ))
        .arg(port.to_string())
        .arg(&mail_dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with aiosmtpd (scripts/test.sh sets LATCHKEY_TEST_PYTHON)");
    let mut ready = String::new();
    BufReader::new(sink.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert!(
        ready.starts_with("READY"),
        "smtp sink: {ready:?} (is aiosmtpd installed for {python}?)"
    );

    // Wait until the outbox has nothing pending, then count. It retries with backoff, and a
    // send the kill interrupted is retried only when its 120 s lease ends: wait past that.
    let db = format!("sqlite://{}?mode=ro", data.join("latchkey.db").display());
    let mut pending = -1i64;
    for _ in 0..1500 {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
        pending = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(pending, 0, "the message left the outbox");
    let mails: Vec<serde_json::Value> = std::fs::read_dir(&mail_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap())
        .collect();
    assert_eq!(mails.len(), 1, "exactly one email: {mails:?}");
    let text = mails[0]["text"].as_str().unwrap();
    let link = text[text.find("http://localhost/reset").unwrap()..]
        .split_whitespace()
        .next()
        .unwrap();
    let secret = url::Url::parse(link)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "secret")
        .unwrap()
        .1
        .into_owned();
    let r = call(
        &server.url,
        reqwest::Method::PUT,
        "/v1/account/recovery",
        serde_json::json!({"userId": user_id, "secret": secret, "password": "after-the-outage"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200, "the link from the email works");
    sink.kill().unwrap();
    let _ = sink.wait();
    assert!(terminate(server).success());
}
