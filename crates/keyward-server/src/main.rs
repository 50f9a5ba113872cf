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
//!
//! HTTPS: `--tls-cert`/`--tls-key` (a certificate you have), or `--tls-local` (a
//! certificate authority of the server's own, for a network with no domain: the server then
//! also prints the addresses a phone opens, the `/ca` page that installs the CA, and with
//! `--qr` a QR code of the first address), or `--acme-domain NAME` (a public name, with a
//! certificate got and renewed over ACME, kept in `<data>/acme`); `--http-redirect ADDR` adds
//! a plain-HTTP listener that only redirects. The line then reads `https://`.
//!
//! Beside serving: `backup`, `restore` and `check` ([`keyward_server::cli`]); logs go to
//! stderr through `tracing` ([`keyward_server::logs`]).

use std::future::Future;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use keyward_server::api::accounts::issue_setup_code;
use keyward_server::cli::{self, BackupFlags, Ops};
use keyward_server::logs::{self, LogFormat};
use keyward_server::settings::{LimitFlags, TlsFlags, TlsMode};
use keyward_server::tls::local::{self, LocalCa};
use keyward_server::tls::page::CaPage;
use keyward_server::tls::Tls;
use keyward_server::{serve, serve_https, AppFiles, Config, Https, Store};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::net::TcpListener;

/// How often the local CA mode looks for new addresses (and an expiring certificate).
const LOCAL_RENEW_EVERY: Duration = Duration::from_secs(600);

/// Serves the built Keyward PWA (trunk's output folder).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Trunk's output folder, containing index.html. Without it, the app built into this
    /// binary (a release built with the `embed` feature), else the folder `dist`.
    #[arg(long, value_name = "DIR")]
    dist: Option<PathBuf>,
    /// Address to listen on, HOST:PORT (a host name is resolved); port 0 picks a free port.
    #[arg(
        long,
        value_name = "ADDR",
        env = "KEYWARD_ADDR",
        default_value = "127.0.0.1:8080"
    )]
    addr: String,
    /// Folder for server data (created if missing); holds the SQLite file keyward.db.
    #[arg(long, value_name = "DIR", env = "KEYWARD_DATA", default_value = "data")]
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
    // --- HTTPS ---------------------------------------------------------------------------
    #[command(flatten)]
    tls: TlsFlags,
    #[command(flatten)]
    backups: BackupFlags,
    /// How log lines on stderr are written (RUST_LOG chooses which are).
    #[arg(
        long,
        global = true,
        value_enum,
        env = "KEYWARD_LOG_FORMAT",
        default_value_t,
        help_heading = "Logs"
    )]
    log_format: LogFormat,
    // --- E-mail --------------------------------------------------------------------------
    #[command(flatten)]
    mail: keyward_server::mail::MailFlags,
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
    #[command(flatten)]
    Ops(Ops),
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    logs::init(args.log_format);
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // The sentence is the whole message: a person at a terminal reads it first.
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    match args.command {
        Some(Subcommand::SetupCode { data, database_url }) => {
            return print_setup_code(data, database_url).await
        }
        Some(Subcommand::Ops(ops)) => return ops.run().await,
        None => {}
    }
    let config = Config {
        app: app_files(args.dist),
        data: args.data,
        database_url: args.database_url,
        limits: args.limits.into(),
    };
    config.prepare().map_err(|e| e.to_string())?;
    let _serving =
        cli::start_serving_duties(&config.data, config.database_url.as_deref(), &args.backups)?;
    let store = config.open_store().await.map_err(|e| e.to_string())?;
    let setup_line = setup_code_line(&store, args.setup_code.as_deref()).await?;
    if let Some(mail) = args.mail.config()? {
        tracing::info!("e-mail through {} as {}", mail.smtp_shown(), mail.from);
        keyward_server::mail::start(&store, mail)?;
    }

    let listener = TcpListener::bind(args.addr.as_str())
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    let mode = args.tls.mode();
    if mode == TlsMode::Off && args.tls.http_redirect.is_some() {
        return Err(
            "--http-redirect needs HTTPS: give --tls-cert and --tls-key, --tls-local or --acme-domain"
                .into(),
        );
    }
    let mut local_ca = None;
    let https = match &mode {
        TlsMode::Off => None,
        TlsMode::Files { cert, key } => Some(Https {
            tls: Tls::from_files(cert, key).map_err(|e| e.to_string())?,
            ca_page: None,
        }),
        TlsMode::Local { names } => {
            let ca = local::ensure(&config.data, &local::machine_names(names))
                .map_err(|e| e.to_string())?;
            let tls =
                Tls::from_files(&ca.server_cert(), &ca.server_key()).map_err(|e| e.to_string())?;
            let ca_page = Some(CaPage::new(&ca, addr.port()));
            local_ca = Some(ca);
            Some(Https { tls, ca_page })
        }
        TlsMode::Acme(acme) => Some(Https {
            tls: keyward_server::tls::acme::start(acme, &config.data).map_err(|e| e.to_string())?,
            ca_page: None,
        }),
    };
    let redirect = match &args.tls.http_redirect {
        Some(at) => Some(
            TcpListener::bind(at.as_str())
                .await
                .map_err(|e| format!("cannot listen on {at} (--http-redirect): {e}"))?,
        ),
        None => None,
    };
    let redirect_addr = redirect.as_ref().and_then(|l| l.local_addr().ok());
    // Installed before announcing, so a signal sent as soon as the line is read
    // shuts down gracefully instead of killing the process.
    let shutdown = shutdown_signal().map_err(|e| format!("cannot watch for signals: {e}"))?;
    let shutdown = async move {
        shutdown.await;
        tracing::info!("stopping: finishing requests in flight, closing event streams");
    };

    // Flushed explicitly: stdout is block-buffered when it is a pipe, and the
    // reader is waiting for this line.
    let scheme = if https.is_some() { "https" } else { "http" };
    let mut out = io::stdout().lock();
    writeln!(out, "{setup_line}")
        .and_then(|()| writeln!(out, "Keyward is running at {scheme}://{addr}/"))
        .and_then(|()| match &redirect_addr {
            Some(plain) => writeln!(out, "Plain HTTP at http://{plain}/ redirects to HTTPS"),
            None => Ok(()),
        })
        .and_then(|()| match &local_ca {
            Some(ca) => write_phone_guide(&mut out, ca, addr, redirect_addr, args.tls.qr),
            None => Ok(()),
        })
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    drop(out);
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        address = %format!("{scheme}://{addr}/"),
        database = %keyward_server::store::redact(&config.database_url()),
        data = %config.data.display(),
        "serving"
    );

    if let TlsMode::Local { names } = mode {
        tokio::spawn(renew_local(config.data.clone(), names));
    }
    let served = match https {
        None => serve(listener, &config, store.clone(), shutdown).await,
        Some(https) => {
            serve_https(listener, redirect, https, &config, store.clone(), shutdown).await
        }
    }
    .map_err(|e| format!("server error: {e}"));
    store.close().await;
    if served.is_ok() {
        tracing::info!("stopped");
    }
    served
}

/// `--dist`'s folder when given, else the app built into the binary, else `dist`.
fn app_files(dist: Option<PathBuf>) -> AppFiles {
    match dist {
        Some(dir) => AppFiles::Folder(dir),
        None => AppFiles::built_in().unwrap_or_else(|| AppFiles::Folder(PathBuf::from("dist"))),
    }
}

/// `host` as it goes in a URL: an IPv6 address in brackets.
fn url_host(host: &str) -> String {
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
        _ => host.to_string(),
    }
}

/// The hosts a phone on the network may open: the bound address, or when bound to every
/// address, the machine's addresses of that family (IPv4 first) and `<host name>.local`.
/// None when bound to loopback.
fn phone_hosts(bound: IpAddr) -> Vec<String> {
    if bound.is_loopback() {
        return Vec::new();
    }
    if !bound.is_unspecified() {
        return vec![url_host(&bound.to_string())];
    }
    let mut hosts: Vec<String> = local::interface_addresses()
        .into_iter()
        .filter(|ip| bound.is_ipv6() || ip.is_ipv4())
        .map(|ip| url_host(&ip.to_string()))
        .collect();
    if let Some(host) = local::host_name() {
        hosts.push(if host.ends_with(".local") {
            host
        } else {
            format!("{host}.local")
        });
    }
    hosts
}

/// Where to open Keyward on a phone, where to install the CA first, its fingerprint, and
/// with `qr` a QR code of the first address.
fn write_phone_guide(
    out: &mut impl Write,
    ca: &LocalCa,
    addr: SocketAddr,
    redirect: Option<SocketAddr>,
    qr: bool,
) -> io::Result<()> {
    let hosts = phone_hosts(addr.ip());
    let Some(first) = hosts.first() else {
        return writeln!(
            out,
            "The local certificate authority is in {} (SHA-256 {}); listen beyond localhost \
             (e.g. --addr 0.0.0.0:{}) for phones to reach this server.",
            ca.dir.display(),
            ca.fingerprint,
            addr.port()
        );
    };
    let page = match redirect {
        Some(plain) => format!("http://{first}:{}/ca", plain.port()),
        None => format!("https://{first}:{}/ca", addr.port()),
    };
    writeln!(out)?;
    writeln!(
        out,
        "On each phone, first install this server's certificate authority: open {page}"
    )?;
    writeln!(
        out,
        "  and check its SHA-256 fingerprint is {}",
        ca.fingerprint
    )?;
    writeln!(out, "Then open Keyward on a phone on this network at:")?;
    for host in &hosts {
        writeln!(out, "  https://{host}:{}/", addr.port())?;
    }
    if qr {
        let url = format!("https://{first}:{}/", addr.port());
        if let Some(text) = local::terminal_qr(&url) {
            writeln!(out, "\nScan to open {url}:\n{text}")?;
        }
    }
    writeln!(out)
}

/// The local CA mode: looks every [`LOCAL_RENEW_EVERY`] for changed addresses or an
/// expiring certificate and makes the server certificate again (the serving loop reads the
/// new files as the next connections arrive).
async fn renew_local(data: PathBuf, extra: Vec<String>) {
    loop {
        tokio::time::sleep(LOCAL_RENEW_EVERY).await;
        let (data, extra) = (data.clone(), extra.clone());
        let made = tokio::task::spawn_blocking(move || {
            local::ensure(&data, &local::machine_names(&extra))
        })
        .await;
        match made {
            Ok(Ok(ca)) if ca.made_server => tracing::info!(
                names = %ca.names.join(", "),
                "made a new server certificate"
            ),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "cannot renew the local certificate"),
            Err(e) => tracing::error!(error = %e, "the certificate check stopped"),
        }
    }
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
        app: AppFiles::Folder(PathBuf::new()),
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
