//! What an operator runs next to the API, against the real binary: structured logs.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

/// `LATCHKEY_LOG_FORMAT=json`: every line on stderr is one JSON object, and a request's lines
/// carry the id its response header names.
#[tokio::test]
async fn json_logs_carry_the_request_id_of_the_response() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .env_remove("LATCHKEY_DATABASE_URL")
        .env("LATCHKEY_LOG_FORMAT", "json")
        .env(
            "LATCHKEY_LOG",
            "debug,sqlx=warn,rustls=warn,rustls_platform_verifier=warn",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn latchkey");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split("listening on ")
        .nth(1)
        .expect("listening line")
        .trim()
        .to_owned();
    let r = reqwest::get(format!("{url}/v1/health/version"))
        .await
        .unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(r.status(), 200);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| {
            let l = l.unwrap();
            serde_json::from_str(&l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))
        })
        .collect();
    child.wait().unwrap();
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
