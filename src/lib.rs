//! Latchkey: the Appwrite Account API on SQLite or PostgreSQL.

pub mod abuse;
pub mod breach;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod error;
pub mod fanout;
pub mod http;
pub mod oauth2;
pub mod seal;
pub mod secret;
pub mod state;
pub mod store;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use config::Config;
pub use state::AppState;

/// Serves the API on `listener` until `shutdown` completes, then drains in-flight requests.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = Arc::new(AppState::build(&config).await?);
    serve_state(state, listener, shutdown).await
}

/// Serves an already built state (tests build it to share the store).
pub async fn serve_state(
    state: Arc<AppState>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(delivery::outbox::run(state.clone(), stopped));
    let read_timeout = state.read_timeout;
    let served = http::server::serve(listener, http::router(state), read_timeout, shutdown).await;
    // The worker lets sends in flight finish (what they do not finish is sent again later).
    let _ = stop.send(true);
    if tokio::time::timeout(std::time::Duration::from_secs(20), worker)
        .await
        .is_err()
    {
        tracing::warn!(
            "the delivery worker did not stop in 20 s; what it had leased is sent later"
        );
    }
    served?;
    Ok(())
}
