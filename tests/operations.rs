//! What an operator runs next to the API, against the real binary: structured logs, and
//! online backups restored into a working instance.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

#[path = "support/binary.rs"]
mod support;

/// `LATCHKEY_LOG_FORMAT=json`: every line on stderr is one JSON object, and a request's lines
/// carry the id its response header names.
#[tokio::test]
async fn json_logs_carry_the_request_id_of_the_response() {
    let data = tempfile::tempdir().unwrap();
    let mut server = support::start_logging(
        &[
            ("LATCHKEY_LOG_FORMAT", "json"),
            (
                "LATCHKEY_LOG",
                "debug,sqlx=warn,rustls=warn,rustls_platform_verifier=warn",
            ),
        ],
        data.path(),
    );
    let r = reqwest::get(format!("{}/v1/health/version", server.url))
        .await
        .unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(r.status(), 200);
    let stderr = server.child.stderr.take().unwrap();
    assert!(support::terminate(server).success());
    let lines: Vec<Value> = BufReader::new(stderr)
        .lines()
        .map(|l| {
            let l = l.unwrap();
            serde_json::from_str(&l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))
        })
        .collect();
    let served = lines
        .iter()
        .find(|l| l["fields"]["message"] == "served")
        .unwrap_or_else(|| panic!("no access line in {lines:?}"));
    assert_eq!(served["span"]["id"], id.as_str(), "{served}");
    assert_eq!(served["fields"]["path"], "/v1/health/version");
    assert_eq!(served["fields"]["status"], 200);
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "shutting down")
    );
}

fn latchkey(args: &[&str], data: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(args)
        .arg("--data")
        .arg(data)
        .env_remove("LATCHKEY_DATABASE_URL")
        .env_remove("_APP_OPENSSL_KEY_V1")
        .output()
        .unwrap()
}

async fn sign_up(http: &reqwest::Client, url: &str, email: &str) -> u16 {
    http.post(format!("{url}/v1/account"))
        .header("x-appwrite-project", "default")
        .json(&serde_json::json!({"userId": "unique()", "email": email, "password": "backup-pass-123"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn sign_in(url: &str, email: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{url}/v1/account/sessions/email"))
        .header("x-appwrite-project", "default")
        .json(&serde_json::json!({"email": email, "password": "backup-pass-123"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// A backup taken while sign-ups keep arriving restores into a new data folder where every
/// account acknowledged before the backup started signs in; the copy is private; a bad or
/// clashing restore changes nothing.
#[tokio::test]
async fn an_online_backup_restores_into_a_working_instance() {
    let dir = tempfile::tempdir().unwrap();
    let (data, backup) = (dir.path().join("data"), dir.path().join("backup"));
    let server = support::start(&[], &data);
    let http = reqwest::Client::new();
    let before: Vec<String> = (0..5).map(|i| format!("before-{i}@example.com")).collect();
    for email in &before {
        assert_eq!(sign_up(&http, &server.url, email).await, 201);
    }
    // Sign-ups go on while the backup runs.
    let url = server.url.clone();
    let writer = tokio::spawn(async move {
        let http = reqwest::Client::new();
        for i in 0..30 {
            sign_up(&http, &url, &format!("during-{i}@example.com")).await;
        }
    });
    let out = latchkey(&["backup", backup.to_str().unwrap(), "--json"], &data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    writer.await.unwrap();
    let facts: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(facts["users"].as_i64().unwrap() >= 5, "{facts}");
    assert_eq!(facts["instanceKey"], true);
    assert_eq!(mode(&backup), 0o700);
    assert_eq!(mode(&backup.join("latchkey.db")), 0o600);
    assert_eq!(mode(&backup.join("instance.key")), 0o600);
    let again = latchkey(&["backup", backup.to_str().unwrap()], &data);
    assert_eq!(
        again.status.code(),
        Some(2),
        "an existing folder is never overwritten"
    );
    support::terminate(server);

    // Into the (stopped) instance's own folder: refused without --force.
    let clash = latchkey(&["restore", backup.to_str().unwrap()], &data);
    assert_eq!(clash.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&clash.stderr).contains("--force"));
    // A file that is not a store: refused, nothing written.
    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(bad.join("latchkey.db"), b"not a database at all").unwrap();
    let fresh = dir.path().join("fresh");
    let refused = latchkey(&["restore", bad.to_str().unwrap()], &fresh);
    assert_eq!(refused.status.code(), Some(2));
    assert!(!fresh.join("latchkey.db").exists());

    let restored = latchkey(&["restore", backup.to_str().unwrap()], &fresh);
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    assert_eq!(mode(&fresh.join("latchkey.db")), 0o600);
    let server = support::start(&[], &fresh);
    for email in &before {
        assert_eq!(sign_in(&server.url, email).await, 201, "{email}");
    }
    assert_eq!(sign_in(&server.url, "nobody@example.com").await, 401);
    support::terminate(server);

    let forced = latchkey(&["restore", backup.to_str().unwrap(), "--force"], &data);
    assert!(forced.status.success());
    let kept: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("before-restore"))
        .collect();
    assert!(
        kept.iter()
            .any(|n| n.starts_with("latchkey.db.before-restore-"))
            && kept
                .iter()
                .any(|n| n.starts_with("instance.key.before-restore-")),
        "the replaced store and key are kept: {kept:?}"
    );
    assert!(!data.join("latchkey.db.restoring").exists());
    let server = support::start(&[], &data);
    assert_eq!(
        sign_in(&server.url, &before[0]).await,
        201,
        "the forced restore works"
    );
    support::terminate(server);
}

fn project_config(projects: &[&str]) -> String {
    projects
        .iter()
        .map(|id| format!("[[projects]]\nid = \"{id}\"\nname = \"{id}\"\n"))
        .collect()
}

/// The status and error type of a guest `GET /v1/account` in `project`.
async fn guest_account(http: &reqwest::Client, url: &str, project: &str) -> (u16, String) {
    let r = http
        .get(format!("{url}/v1/account"))
        .header("x-appwrite-project", project)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    (status, body["type"].as_str().unwrap_or_default().to_owned())
}

/// SIGHUP reads the config file again: a project added to it runs at once, on connections
/// opened before; a file that does not parse changes nothing and the server keeps serving.
#[tokio::test]
async fn sighup_reloads_the_projects_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("latchkey.toml");
    std::fs::write(&file, project_config(&["one"])).unwrap();
    let server = support::start(
        &["--config", file.to_str().unwrap()],
        &dir.path().join("data"),
    );
    let http = reqwest::Client::new();
    assert_eq!(guest_account(&http, &server.url, "one").await.0, 401);
    let refused = guest_account(&http, &server.url, "two").await;
    assert_eq!(refused, (404, "project_not_found".to_owned()));

    let hup = || {
        Command::new("kill")
            .args(["-HUP", &server.child.id().to_string()])
            .status()
            .unwrap()
    };
    std::fs::write(&file, project_config(&["one", "two"])).unwrap();
    assert!(hup().success());
    let mut reloaded = false;
    for _ in 0..100 {
        if guest_account(&http, &server.url, "two").await.0 == 401 {
            reloaded = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(reloaded, "project two runs after SIGHUP");

    std::fs::write(&file, "[[projects]]\nid = \"broken\nname").unwrap();
    assert!(hup().success());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        guest_account(&http, &server.url, "two").await.0,
        401,
        "still running"
    );
    assert_eq!(guest_account(&http, &server.url, "one").await.0, 401);
    let status = support::terminate(server);
    assert!(
        status.success(),
        "the server was never killed by SIGHUP: {status:?}"
    );
}
