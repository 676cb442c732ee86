//! The `latchkey` command: `serve`, the admin commands (`keys`, `users`, `projects`),
//! `backup`/`restore`, `healthcheck` and `--version`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use latchkey::Config;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "latchkey",
    version,
    about = "The Appwrite Account API on SQLite or PostgreSQL"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API.
    Serve {
        /// TOML config file, applied at every start.
        #[arg(long, env = "LATCHKEY_CONFIG")]
        config: Option<PathBuf>,
        /// Address to listen on (`:0` picks a free port).
        #[arg(long, env = "LATCHKEY_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Folder for the embedded database and the generated instance key.
        #[arg(long, env = "LATCHKEY_DATA", default_value = "./latchkey-data")]
        data: PathBuf,
        /// `sqlite://PATH` or `postgres://USER:PASS@HOST:PORT/DB`.
        #[arg(long, env = "LATCHKEY_DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
        /// `redis://HOST:PORT/DB`: rate-limit counters shared by every node (default: in this
        /// process, for a single node).
        #[arg(long, env = "LATCHKEY_REDIS_URL", hide_env_values = true)]
        redis_url: Option<String>,
    },
    /// Create, list and revoke API keys (kept in the store as hashes).
    Keys {
        #[command(flatten)]
        instance: latchkey::cli::Instance,
        #[command(subcommand)]
        command: latchkey::cli::KeysCommand,
    },
    /// List and rotate the key pairs that sign a project's JWTs (`[projects.jwt] algorithm`).
    JwtKeys {
        #[command(flatten)]
        instance: latchkey::cli::Instance,
        #[command(subcommand)]
        command: latchkey::cli::JwtKeysCommand,
    },
    /// List, show, block, unblock, delete and import users.
    Users {
        #[command(flatten)]
        instance: latchkey::cli::Instance,
        #[command(subcommand)]
        command: latchkey::cli::UsersCommand,
    },
    /// Copy the embedded SQLite store and the instance key into a new folder, consistently,
    /// while a server runs.
    Backup {
        #[command(flatten)]
        instance: latchkey::cli::Instance,
        /// The folder to create.
        path: PathBuf,
    },
    /// Check a folder `backup` wrote and put it in place of the store (server stopped).
    Restore {
        #[command(flatten)]
        instance: latchkey::cli::Instance,
        /// The folder `backup` wrote.
        path: PathBuf,
        /// Replace an existing store (kept as latchkey.db.before-restore).
        #[arg(long)]
        force: bool,
    },
    /// Exit 0 when the server on this address answers `/readyz` (container health checks).
    Healthcheck {
        /// The address the server listens on, as `serve --listen` takes it (`0.0.0.0` and
        /// `[::]` are asked on loopback).
        #[arg(long, env = "LATCHKEY_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Ask this URL instead.
        #[arg(long)]
        url: Option<String>,
    },
    /// List and show projects.
    Projects {
        #[command(flatten)]
        instance: latchkey::cli::Instance,
        #[command(subcommand)]
        command: latchkey::cli::ProjectsCommand,
    },
}

/// Prints an admin command's failure and exits with its code.
fn finish(result: latchkey::cli::CliResult) -> anyhow::Result<()> {
    if let Err(f) = result {
        eprintln!("error: {}", f.message);
        std::process::exit(i32::from(f.code));
    }
    Ok(())
}

/// Resolves at the first SIGTERM or SIGINT. The handlers are installed here, when called, not
/// when the future is first polled: a signal sent right after the listening line (as soon as
/// a supervisor sees it) must drain, not kill.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        tracing::info!("shutting down");
    })
}

/// Reads the config file again at every SIGHUP and runs its projects (platforms, keys, auth
/// settings) without dropping a connection; a file that does not check out changes nothing.
/// The handler is installed by the caller before the listening line: SIGHUP's default action
/// would end the process.
async fn reload_on_hangup(
    state: std::sync::Arc<latchkey::AppState>,
    base: Config,
    path: PathBuf,
    mut hangups: tokio::signal::unix::Signal,
) {
    while hangups.recv().await.is_some() {
        let mut cfg = base.clone();
        let loaded = Config::load_file(&path).and_then(|file| {
            cfg.file = file;
            cfg.file.apply_env(|k| std::env::var(k).ok())
        });
        let reloaded = match loaded {
            Ok(()) => state.reload_projects(&cfg).await,
            Err(e) => Err(e),
        };
        match reloaded {
            Ok(n) => tracing::info!(projects = n, path = %path.display(), "config reloaded"),
            Err(e) => tracing::warn!(
                error = %format!("{e:#}"),
                path = %path.display(),
                "config reload failed; the previous one still runs"
            ),
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The admin commands print their own results; their logs only say what went wrong.
    let default_filter = match cli.command {
        Command::Serve { .. } => "info,sqlx=warn",
        _ => "warn",
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LATCHKEY_LOG")
                .unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal: journald, Docker and files get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // One JSON object per line for log collectors; the request's id is in its `span`.
    match std::env::var("LATCHKEY_LOG_FORMAT").as_deref() {
        Ok("json") => logs.json().init(),
        Ok("text") | Err(_) => logs.init(),
        Ok(other) => {
            logs.init();
            tracing::warn!(
                format = other,
                "LATCHKEY_LOG_FORMAT is json or text; writing text"
            );
        }
    }
    match cli.command {
        Command::Keys { instance, command } => {
            finish(latchkey::cli::keys(&instance, command).await)
        }
        Command::JwtKeys { instance, command } => {
            finish(latchkey::cli::jwt_keys(&instance, command).await)
        }
        Command::Users { instance, command } => {
            finish(latchkey::cli::users(&instance, command).await)
        }
        Command::Backup { instance, path } => finish(latchkey::cli::backup(&instance, &path).await),
        Command::Restore {
            instance,
            path,
            force,
        } => finish(latchkey::cli::restore(&instance, &path, force).await),
        Command::Healthcheck { listen, url } => finish(match url {
            Some(u) => latchkey::cli::healthcheck::run(&u).await,
            None => match latchkey::cli::healthcheck::readyz_url(&listen) {
                Ok(u) => latchkey::cli::healthcheck::run(&u).await,
                Err(f) => Err(f),
            },
        }),
        Command::Projects { instance, command } => {
            finish(latchkey::cli::projects(&instance, command).await)
        }
        Command::Serve {
            config,
            listen,
            data,
            database_url,
            redis_url,
        } => {
            let mut cfg = Config::new(data);
            cfg.listen = latchkey::config::listen_address(&listen);
            cfg.database_url = database_url.map(latchkey::secret::Secret::new);
            cfg.redis_url = redis_url.map(latchkey::secret::Secret::new);
            cfg.warm_pool = true;
            cfg.metrics_token = std::env::var("LATCHKEY_METRICS_TOKEN")
                .ok()
                .filter(|t| !t.is_empty())
                .map(latchkey::secret::Secret::new);
            cfg.instance_key = std::env::var("_APP_OPENSSL_KEY_V1")
                .ok()
                .map(latchkey::secret::Secret::new);
            if let Some(path) = &config {
                cfg.file = Config::load_file(path)?;
                cfg.has_config_file = true;
            }
            cfg.file.apply_env(|k| std::env::var(k).ok())?;
            cfg.file.validate()?;
            let listener = tokio::net::TcpListener::bind(&cfg.listen)
                .await
                .map_err(|e| anyhow::anyhow!("--listen {}: {e}", cfg.listen))?;
            let addr = listener.local_addr()?;
            let state = std::sync::Arc::new(latchkey::AppState::build(&cfg).await?);
            let shutdown = shutdown_signal()?;
            if let Some(path) = config {
                let hangups =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
                tokio::spawn(reload_on_hangup(state.clone(), cfg.clone(), path, hangups));
            }
            println!(
                "latchkey {} listening on http://{addr}",
                env!("CARGO_PKG_VERSION")
            );
            latchkey::serve_state(state, listener, shutdown).await
        }
    }
}
