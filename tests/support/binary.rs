//! Runs the real `latchkey` binary for the tests that need a process (signals, umask, crashes).
#![allow(dead_code)] // each test binary uses its own subset

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub struct Server {
    pub child: Child,
    pub url: String,
}

pub fn start(args: &[&str], data: &std::path::Path) -> Server {
    start_under(Command::new(env!("CARGO_BIN_EXE_latchkey")), args, data)
}

/// Starts the binary with umask 000, so every mode it gets is one it set itself.
pub fn start_with_open_umask(args: &[&str], data: &std::path::Path) -> Server {
    let mut sh = Command::new("sh");
    sh.args([
        "-c",
        "umask 000 && exec \"$0\" \"$@\"",
        env!("CARGO_BIN_EXE_latchkey"),
    ]);
    start_under(sh, args, data)
}

pub fn start_under(command: Command, args: &[&str], data: &std::path::Path) -> Server {
    spawn(command, args, data, Stdio::null())
}

/// Starts the binary with its log (stderr) piped to the test, with `env` set.
pub fn start_logging(env: &[(&str, &str)], data: &std::path::Path) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    command.envs(env.iter().copied());
    spawn(command, &[], data, Stdio::piped())
}

fn spawn(mut command: Command, args: &[&str], data: &std::path::Path, log: Stdio) -> Server {
    let mut child = command
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(args)
        .env_remove("LATCHKEY_DATABASE_URL")
        .env_remove("_APP_OPENSSL_KEY_V1")
        .stdout(Stdio::piped())
        .stderr(log)
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
    assert!(!url.ends_with(":0"), "the real port is printed: {line}");
    Server { child, url }
}

pub fn terminate(mut s: Server) -> std::process::ExitStatus {
    Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status()
        .unwrap();
    s.child.wait().unwrap()
}
