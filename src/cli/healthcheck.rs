//! `latchkey healthcheck`: asks a running server's `/readyz` and answers with the exit code,
//! for container health checks in images that have no shell or curl (the Dockerfile's).

use std::time::Duration;

use super::{CliResult, Failure};

/// How long the server may take: inside Docker's default health-check timeout of 30 s, and
/// past `/readyz`'s own 3 s bound on each dependency.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The readiness URL of a server listening on `listen` (as `serve --listen` takes it): an
/// unspecified address (`0.0.0.0`, `[::]`) is asked on loopback.
pub fn readyz_url(listen: &str) -> Result<String, Failure> {
    let listen = crate::config::listen_address(listen);
    let addr: std::net::SocketAddr = listen.parse().map_err(|_| {
        Failure::bad_input(format!(
            "--listen {listen}: expected HOST:PORT with an IP address, as `serve` takes it"
        ))
    })?;
    let host = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    Ok(format!("http://{host}:{}/readyz", addr.port()))
}

/// Exit 0 when `url` answers 2xx within [`TIMEOUT`]; 1 otherwise, saying why.
pub async fn run(url: &str) -> CliResult {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| Failure::failed(format!("cannot make an HTTP client: {e}")))?;
    let r = client.get(url).send().await.map_err(|e| {
        Failure::failed(format!(
            "{url}: no answer ({e}); is `latchkey serve` running on that address?"
        ))
    })?;
    let status = r.status();
    let body = r.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(Failure::failed(format!(
            "{url}: not ready: {status} {}",
            body.chars().take(300).collect::<String>()
        )));
    }
    println!("{}", body.trim());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_follows_the_listen_address_and_asks_loopback_for_any_address() {
        let url = |l: &str| readyz_url(l).map_err(|f| f.message);
        assert_eq!(url("0.0.0.0:8080").unwrap(), "http://127.0.0.1:8080/readyz");
        assert_eq!(url("[::]:9000").unwrap(), "http://[::1]:9000/readyz");
        assert_eq!(url("10.0.0.5:80").unwrap(), "http://10.0.0.5:80/readyz");
        assert_eq!(url(":8081").unwrap(), "http://127.0.0.1:8081/readyz");
        assert_eq!(
            url("[fe80::1]:8080").unwrap(),
            "http://[fe80::1]:8080/readyz"
        );
        assert!(url("localhost:8080").unwrap_err().contains("HOST:PORT"));
    }
}
