//! `keyward-server`: serves the built Keyward PWA and its sync API.
//!
//! Data lives in `<--data>/keyward.db` (SQLite, created on first run) unless
//! `--database-url` or `DATABASE_URL` names a PostgreSQL database
//! (`postgres://user@host:5432/name`); the schema is migrated at start.
//!
//! At every start it prints a set-up code, the one thing that lets a new site be put on the
//! server, as `Set-up code for a new site (valid 24 hours, once): XXXX-XXXX-XXXX`
//! (`--setup-code CODE` or `KEYWARD_SETUP_CODE` gives the code instead; `keyward-server
//! setup-code --data DIR` prints a fresh one and exits). Then it prints
//! `Keyward is running at http://<addr>/` once it is listening (tools may read it to learn
//! the port when `--addr` uses port 0), and serves until SIGINT or SIGTERM.

use std::future::Future;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use keyward_server::api::accounts::issue_setup_code;
use keyward_server::settings::LimitFlags;
use keyward_server::{serve, Config, Store};
use tokio::net::TcpListener;

/// Serves the built Keyward PWA (trunk's output folder).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Trunk's output folder, containing index.html.
    #[arg(long, value_name = "DIR", default_value = "dist")]
    dist: PathBuf,
    /// Address to listen on, HOST:PORT (a host name is resolved); port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    addr: String,
    /// Folder for server data (created if missing); holds the SQLite file keyward.db.
    #[arg(long, value_name = "DIR", default_value = "data")]
    data: PathBuf,
    /// PostgreSQL database to use instead of the SQLite file, e.g.
    /// postgres://keyward@127.0.0.1:5432/keyward.
    #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// The set-up code for a new site to print and accept, instead of a random one (at least
    /// 12 letters or digits; for tests and automation).
    #[arg(
        long,
        value_name = "CODE",
        env = "KEYWARD_SETUP_CODE",
        hide_env_values = true
    )]
    setup_code: Option<String>,
    // --- Limits: every field of `Limits`, defaults from `Limits::default()` -------------
    #[command(flatten)]
    limits: LimitFlags,
    #[command(subcommand)]
    command: Option<Subcommand>,
}

#[derive(Debug, clap::Subcommand)]
enum Subcommand {
    /// Prints a fresh set-up code for a new site and exits.
    SetupCode {
        /// Folder for server data, as when serving.
        #[arg(long, value_name = "DIR", default_value = "data")]
        data: PathBuf,
        /// PostgreSQL database to use instead of the SQLite file.
        #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("keyward-server: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    if let Some(Subcommand::SetupCode { data, database_url }) = args.command {
        return print_setup_code(data, database_url).await;
    }
    let config = Config {
        dist: args.dist,
        data: args.data,
        database_url: args.database_url,
        limits: args.limits.into(),
    };
    config.prepare().map_err(|e| e.to_string())?;
    let store = config.open_store().await.map_err(|e| e.to_string())?;
    let setup_line = setup_code_line(&store, args.setup_code.as_deref()).await?;

    let listener = TcpListener::bind(args.addr.as_str())
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    // Installed before announcing, so a signal sent as soon as the line is read
    // shuts down gracefully instead of killing the process.
    let shutdown = shutdown_signal().map_err(|e| format!("cannot watch for signals: {e}"))?;

    // Flushed explicitly: stdout is block-buffered when it is a pipe, and the
    // reader is waiting for this line.
    let mut out = io::stdout().lock();
    writeln!(out, "{setup_line}")
        .and_then(|()| writeln!(out, "Keyward is running at http://{addr}/"))
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    drop(out);

    let served = serve(listener, &config, store.clone(), shutdown)
        .await
        .map_err(|e| format!("server error: {e}"));
    store.close().await;
    served
}

/// Issues a set-up code (`chosen`, or a random one) and says it in one line.
async fn setup_code_line(store: &Store, chosen: Option<&str>) -> Result<String, String> {
    let code = issue_setup_code(store, chosen)
        .await
        .map_err(|e| e.to_string())?;
    let valid = store.limits().setup_code_valid.as_secs();
    let valid = match (valid / 3600, valid % 3600) {
        (1, 0) => "1 hour".to_string(),
        (hours, 0) => format!("{hours} hours"),
        _ => format!("{} minutes", valid.div_ceil(60)),
    };
    Ok(format!(
        "Set-up code for a new site (valid {valid}, once): {code}"
    ))
}

/// `keyward-server setup-code`: prints a fresh code and exits.
async fn print_setup_code(data: PathBuf, database_url: Option<String>) -> Result<(), String> {
    std::fs::create_dir_all(&data)
        .map_err(|e| format!("cannot create the data folder {}: {e}", data.display()))?;
    let config = Config {
        dist: PathBuf::new(),
        data,
        database_url,
        limits: Default::default(),
    };
    let store = config.open_store().await.map_err(|e| e.to_string())?;
    let line = setup_code_line(&store, None).await;
    store.close().await;
    println!("{}", line?);
    Ok(())
}

/// Resolves on the first SIGINT or SIGTERM (Ctrl-C elsewhere).
#[cfg(unix)]
fn shutdown_signal() -> io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Resolves on the first SIGINT or SIGTERM (Ctrl-C elsewhere).
#[cfg(not(unix))]
fn shutdown_signal() -> io::Result<impl Future<Output = ()> + Send + 'static> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            // No handler: keep serving rather than stopping at once.
            std::future::pending::<()>().await;
        }
    })
}
