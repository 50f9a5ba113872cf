//! Every limit the server enforces, each a named setting with a sane default.
//!
//! Nothing a client sends may cost the server unbounded memory, disk or time: these bound
//! what one request, one connection, one address or one account can take. `main.rs` exposes
//! each as a command-line flag (and a `KEYWARD_…` environment variable); tests set small
//! values to show a limit holds without exhausting the machine.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The server's limits. [`Limits::default`] is what `keyward-server` runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    // --- Sign-in -----------------------------------------------------------------------
    /// Password hashes (argon2, ~19 MiB each) computed at once; the rest queue.
    pub hash_concurrency: usize,
    /// How long a sign-in waits in the hashing queue before "busy, try again".
    pub hash_queue_wait: Duration,
    /// Sign-ins waiting in the hashing queue at most; more are answered "busy" at once.
    pub hash_queue_len: usize,
    /// Failed sign-ins for one username from one address within `failure_window`.
    pub failures_per_account_address: u32,
    /// Failed sign-ins from one address (any usernames) within `failure_window`.
    pub failures_per_address: u32,
    /// Failed sign-ins for one username from all addresses within `failure_window`: caps
    /// guessing spread over many addresses without letting one address lock a user out.
    pub failures_per_account: u32,
    /// The window the failure counts look back over.
    pub failure_window: Duration,
    /// Failed-sign-in records kept at most (the oldest go first).
    pub failure_records: u32,
    /// A session unused for this long ends (the device must sign in again).
    pub session_idle: Duration,
    /// How long a set-up code for putting a new site on the server stays valid.
    pub setup_code_valid: Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for the per-address
    /// limits); from any other peer the header is ignored ([`crate::proxy`]).
    pub trusted_proxies: Vec<IpAddr>,

    // --- Connections -------------------------------------------------------------------
    /// Open connections at most; more wait in the kernel's queue until one closes.
    pub max_connections: usize,
    /// Time allowed to send a request's headers (also the keep-alive idle time).
    pub header_timeout: Duration,
    /// Time allowed to send a request's body.
    pub body_timeout: Duration,
    /// Time allowed for a whole request and its answer (not the event stream).
    pub request_timeout: Duration,
    /// Time an answer may wait for the client to read it (no progress at all) before the
    /// connection is closed: a client that stops reading a large file or the event stream.
    pub send_timeout: Duration,

    // --- Sync --------------------------------------------------------------------------
    /// The most a push's body may weigh.
    pub push_body_bytes: usize,
    /// The most event bytes one pull page carries (at least one event is always sent).
    pub pull_bytes: usize,
    /// Memory (estimated from the events folded) the cached registers of all sites may use;
    /// the least recently used idle sites are dropped first.
    pub cache_bytes: usize,
    /// A site's cached register unused for this long is dropped.
    pub cache_idle: Duration,
    /// How far ahead of the server's clock an event's time may be.
    pub clock_skew: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Limits {
            hash_concurrency: cores.max(1),
            hash_queue_wait: Duration::from_secs(10),
            hash_queue_len: 256,
            failures_per_account_address: 5,
            failures_per_address: 50,
            failures_per_account: 100,
            failure_window: Duration::from_secs(15 * 60),
            failure_records: 100_000,
            session_idle: Duration::from_secs(60 * 24 * 60 * 60),
            setup_code_valid: Duration::from_secs(24 * 60 * 60),
            trusted_proxies: Vec::new(),
            max_connections: 4096,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(120),
            send_timeout: Duration::from_secs(60),
            push_body_bytes: 16 * 1024 * 1024,
            pull_bytes: 4 * 1024 * 1024,
            cache_bytes: 512 * 1024 * 1024,
            cache_idle: Duration::from_secs(30 * 60),
            clock_skew: Duration::from_secs(5 * 60),
        }
    }
}

/// Every [`Limits`] field as a command-line flag with a `KEYWARD_…` environment variable;
/// `--help` shows [`Limits::default`] as each default. Durations are whole seconds.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitFlags {
    /// Password hashes computed at once (about 19 MiB each); the rest queue.
    #[arg(long, value_name = "N", env = "KEYWARD_HASH_CONCURRENCY", default_value_t = DEFAULTS.hash_concurrency)]
    pub hash_concurrency: usize,
    /// Seconds a sign-in waits in the hashing queue before "busy, try again".
    #[arg(long, value_name = "SECS", env = "KEYWARD_HASH_QUEUE_WAIT_SECS", default_value_t = secs(DEFAULTS.hash_queue_wait))]
    pub hash_queue_wait_secs: u64,
    /// Sign-ins waiting in the hashing queue at most; more are answered "busy" at once.
    #[arg(long, value_name = "N", env = "KEYWARD_HASH_QUEUE_LEN", default_value_t = DEFAULTS.hash_queue_len)]
    pub hash_queue_len: usize,
    /// Failed sign-ins for one username from one address within the failure window.
    #[arg(long, value_name = "N", env = "KEYWARD_FAILURES_PER_ACCOUNT_ADDRESS", default_value_t = DEFAULTS.failures_per_account_address)]
    pub failures_per_account_address: u32,
    /// Failed sign-ins from one address (any usernames) within the failure window.
    #[arg(long, value_name = "N", env = "KEYWARD_FAILURES_PER_ADDRESS", default_value_t = DEFAULTS.failures_per_address)]
    pub failures_per_address: u32,
    /// Failed sign-ins for one username from all addresses within the failure window.
    #[arg(long, value_name = "N", env = "KEYWARD_FAILURES_PER_ACCOUNT", default_value_t = DEFAULTS.failures_per_account)]
    pub failures_per_account: u32,
    /// Seconds the failed-sign-in counts look back over.
    #[arg(long, value_name = "SECS", env = "KEYWARD_FAILURE_WINDOW_SECS", default_value_t = secs(DEFAULTS.failure_window))]
    pub failure_window_secs: u64,
    /// Failed-sign-in records kept at most (the oldest go first).
    #[arg(long, value_name = "N", env = "KEYWARD_FAILURE_RECORDS", default_value_t = DEFAULTS.failure_records)]
    pub failure_records: u32,
    /// Seconds a session may go unused before it ends.
    #[arg(long, value_name = "SECS", env = "KEYWARD_SESSION_IDLE_SECS", default_value_t = secs(DEFAULTS.session_idle))]
    pub session_idle_secs: u64,
    /// Seconds a set-up code for putting a new site on the server stays valid.
    #[arg(long, value_name = "SECS", env = "KEYWARD_SETUP_CODE_VALID_SECS", default_value_t = secs(DEFAULTS.setup_code_valid))]
    pub setup_code_valid_secs: u64,
    /// A reverse proxy (such as Caddy) in front of this server, by address: from it alone,
    /// X-Forwarded-For names the client (repeat, or separate with commas).
    #[arg(
        long = "trusted-proxy",
        value_name = "IP",
        env = "KEYWARD_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<IpAddr>,
    /// Open connections at most (fewer if the open-file limit is lower); more wait in the
    /// kernel's queue until one closes.
    #[arg(long, value_name = "N", env = "KEYWARD_MAX_CONNECTIONS", default_value_t = DEFAULTS.max_connections)]
    pub max_connections: usize,
    /// Seconds allowed to send a request's headers; also how long an idle kept-alive
    /// connection stays open.
    #[arg(long, value_name = "SECS", env = "KEYWARD_HEADER_TIMEOUT_SECS", value_parser = clap::value_parser!(u64).range(1..), default_value_t = secs(DEFAULTS.header_timeout))]
    pub header_timeout_secs: u64,
    /// Seconds allowed to send a request's body.
    #[arg(long, value_name = "SECS", env = "KEYWARD_BODY_TIMEOUT_SECS", value_parser = clap::value_parser!(u64).range(1..), default_value_t = secs(DEFAULTS.body_timeout))]
    pub body_timeout_secs: u64,
    /// Seconds allowed for a whole request and its answer (not the event stream).
    #[arg(long, value_name = "SECS", env = "KEYWARD_REQUEST_TIMEOUT_SECS", value_parser = clap::value_parser!(u64).range(1..), default_value_t = secs(DEFAULTS.request_timeout))]
    pub request_timeout_secs: u64,
    /// Seconds an answer may wait for the client to read any of it before the connection
    /// is closed.
    #[arg(long, value_name = "SECS", env = "KEYWARD_SEND_TIMEOUT_SECS", value_parser = clap::value_parser!(u64).range(1..), default_value_t = secs(DEFAULTS.send_timeout))]
    pub send_timeout_secs: u64,
    /// The most a push's body may weigh, in bytes.
    #[arg(long, value_name = "BYTES", env = "KEYWARD_PUSH_BODY_BYTES", default_value_t = DEFAULTS.push_body_bytes)]
    pub push_body_bytes: usize,
    /// The most event bytes one pull page carries (at least one event is always sent).
    #[arg(long, value_name = "BYTES", env = "KEYWARD_PULL_BYTES", default_value_t = DEFAULTS.pull_bytes)]
    pub pull_bytes: usize,
    /// Memory, in bytes, the cached registers of all sites may use.
    #[arg(long, value_name = "BYTES", env = "KEYWARD_CACHE_BYTES", default_value_t = DEFAULTS.cache_bytes)]
    pub cache_bytes: usize,
    /// Seconds a site's cached register may go unused before it is dropped.
    #[arg(long, value_name = "SECS", env = "KEYWARD_CACHE_IDLE_SECS", default_value_t = secs(DEFAULTS.cache_idle))]
    pub cache_idle_secs: u64,
    /// Seconds an event's time may be ahead of the server's clock.
    #[arg(long, value_name = "SECS", env = "KEYWARD_CLOCK_SKEW_SECS", default_value_t = secs(DEFAULTS.clock_skew))]
    pub clock_skew_secs: u64,
}

/// The defaults the flags show and start from.
static DEFAULTS: std::sync::LazyLock<Limits> = std::sync::LazyLock::new(Limits::default);

fn secs(d: Duration) -> u64 {
    d.as_secs()
}

impl From<LimitFlags> for Limits {
    fn from(f: LimitFlags) -> Self {
        let s = Duration::from_secs;
        // No `..Default`: a new limit without a flag does not compile.
        Limits {
            hash_concurrency: f.hash_concurrency,
            hash_queue_wait: s(f.hash_queue_wait_secs),
            hash_queue_len: f.hash_queue_len,
            failures_per_account_address: f.failures_per_account_address,
            failures_per_address: f.failures_per_address,
            failures_per_account: f.failures_per_account,
            failure_window: s(f.failure_window_secs),
            failure_records: f.failure_records,
            session_idle: s(f.session_idle_secs),
            setup_code_valid: s(f.setup_code_valid_secs),
            trusted_proxies: f.trusted_proxies,
            max_connections: f.max_connections,
            header_timeout: s(f.header_timeout_secs),
            body_timeout: s(f.body_timeout_secs),
            request_timeout: s(f.request_timeout_secs),
            send_timeout: s(f.send_timeout_secs),
            push_body_bytes: f.push_body_bytes,
            pull_bytes: f.pull_bytes,
            cache_bytes: f.cache_bytes,
            cache_idle: s(f.cache_idle_secs),
            clock_skew: s(f.clock_skew_secs),
        }
    }
}

/// How the server speaks HTTPS: the `--tls-…` flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TlsFlags {
    /// Serve HTTPS with this certificate (PEM: the server's certificate, then any
    /// intermediates). Read again when the file changes, so a renewed certificate needs no
    /// restart.
    #[arg(
        long,
        value_name = "PEM",
        env = "KEYWARD_TLS_CERT",
        requires = "tls_key",
        conflicts_with_all = ["tls_local", "acme_domains"]
    )]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM), read again when the file changes.
    #[arg(
        long,
        value_name = "PEM",
        env = "KEYWARD_TLS_KEY",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS on a network with no domain: make, once, a certificate authority of this
    /// server's own (in <data>/tls) and a certificate it signs for this machine's names and
    /// addresses; phones install the CA from the page /ca.
    #[arg(long, env = "KEYWARD_TLS_LOCAL")]
    pub tls_local: bool,
    /// Another name or address the --tls-local certificate holds (repeat, or separate with
    /// commas).
    #[arg(
        long = "tls-name",
        value_name = "NAME",
        env = "KEYWARD_TLS_NAMES",
        value_delimiter = ',',
        requires = "tls_local"
    )]
    pub tls_names: Vec<String>,
    /// With HTTPS, also listen for plain HTTP on this address (HOST:PORT): every request is
    /// sent on to the same page over HTTPS, but the /ca page of --tls-local.
    #[arg(long, value_name = "ADDR", env = "KEYWARD_HTTP_REDIRECT")]
    pub http_redirect: Option<String>,
    /// With --tls-local, print a QR code of the first HTTPS address for a phone to scan.
    #[arg(long)]
    pub qr: bool,
    /// Serve HTTPS for this public name with a certificate got and renewed over ACME (Let's
    /// Encrypt by default); its DNS must point at this server and port 443 reach it (repeat,
    /// or separate with commas). Kept in <data>/acme.
    #[arg(
        long = "acme-domain",
        value_name = "NAME",
        env = "KEYWARD_ACME_DOMAINS",
        value_delimiter = ',',
        conflicts_with = "tls_local"
    )]
    pub acme_domains: Vec<String>,
    /// The e-mail address the certificate authority may write to about the certificates.
    #[arg(
        long,
        value_name = "ADDRESS",
        env = "KEYWARD_ACME_EMAIL",
        requires = "acme_domains"
    )]
    pub acme_email: Option<String>,
    /// The ACME directory to get certificates from.
    #[arg(long, value_name = "URL", env = "KEYWARD_ACME_DIRECTORY", default_value = crate::tls::acme::LETS_ENCRYPT)]
    pub acme_directory: String,
    /// Trust this root certificate (PEM) for the ACME directory instead of the public roots:
    /// for a private ACME server.
    #[arg(
        long,
        value_name = "PEM",
        env = "KEYWARD_ACME_CA",
        requires = "acme_domains"
    )]
    pub acme_ca: Option<PathBuf>,
}

/// Where the certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain HTTP.
    Off,
    /// `--tls-cert` and `--tls-key`.
    Files { cert: PathBuf, key: PathBuf },
    /// `--tls-local`, with the extra names.
    Local { names: Vec<String> },
    /// `--acme-domain` and the other `--acme-…` flags.
    Acme(crate::tls::acme::AcmeSettings),
}

impl TlsFlags {
    pub fn mode(&self) -> TlsMode {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => TlsMode::Files {
                cert: cert.clone(),
                key: key.clone(),
            },
            _ if self.tls_local => TlsMode::Local {
                names: self.tls_names.clone(),
            },
            _ if !self.acme_domains.is_empty() => TlsMode::Acme(crate::tls::acme::AcmeSettings {
                domains: self.acme_domains.clone(),
                email: self.acme_email.clone(),
                directory: self.acme_directory.clone(),
                ca: self.acme_ca.clone(),
            }),
            _ => TlsMode::Off,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        limits: LimitFlags,
    }

    /// Parses `args`, the `KEYWARD_…` variables ignored (the defaults must not come from
    /// the test's environment).
    fn parse(args: &[&str]) -> Limits {
        let matches = Cli::command()
            .mut_args(|arg| arg.env(None::<&str>))
            .try_get_matches_from(std::iter::once("keyward-server").chain(args.iter().copied()))
            .unwrap();
        let cli = <Cli as clap::FromArgMatches>::from_arg_matches(&matches).unwrap();
        cli.limits.into()
    }

    #[derive(Debug, Parser)]
    struct TlsCli {
        #[command(flatten)]
        tls: TlsFlags,
    }

    fn parse_tls(args: &[&str]) -> Result<TlsMode, clap::Error> {
        let matches = TlsCli::command()
            .mut_args(|arg| arg.env(None::<&str>))
            .try_get_matches_from(std::iter::once("keyward-server").chain(args.iter().copied()))?;
        let cli = <TlsCli as clap::FromArgMatches>::from_arg_matches(&matches)?;
        Ok(cli.tls.mode())
    }

    #[test]
    fn tls_flags_choose_the_mode() {
        assert_eq!(parse_tls(&[]).unwrap(), TlsMode::Off);
        assert_eq!(
            parse_tls(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]).unwrap(),
            TlsMode::Files {
                cert: "c.pem".into(),
                key: "k.pem".into()
            }
        );
        assert_eq!(
            parse_tls(&["--tls-local", "--tls-name", "keys.school", "--tls-name=a,b"]).unwrap(),
            TlsMode::Local {
                names: vec!["keys.school".into(), "a".into(), "b".into()]
            }
        );
        // A certificate without its key, both modes at once, names without the local mode.
        assert!(parse_tls(&["--tls-cert", "c.pem"]).is_err());
        assert!(parse_tls(&["--tls-key", "k.pem"]).is_err());
        assert!(parse_tls(&["--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-local"]).is_err());
        assert!(parse_tls(&["--tls-name", "x"]).is_err());
    }

    #[test]
    fn acme_flags_choose_the_acme_mode_alone() {
        assert_eq!(
            parse_tls(&[
                "--acme-domain",
                "keys.example.org",
                "--acme-domain=b.example.org"
            ])
            .unwrap(),
            TlsMode::Acme(crate::tls::acme::AcmeSettings {
                domains: vec!["keys.example.org".into(), "b.example.org".into()],
                email: None,
                directory: crate::tls::acme::LETS_ENCRYPT.into(),
                ca: None,
            })
        );
        let mode = parse_tls(&[
            "--acme-domain",
            "keys.example.org",
            "--acme-email",
            "it@example.org",
            "--acme-directory",
            "https://127.0.0.1:14000/dir",
            "--acme-ca",
            "pebble.pem",
        ])
        .unwrap();
        let TlsMode::Acme(acme) = mode else {
            panic!("{mode:?}")
        };
        assert_eq!(acme.email.as_deref(), Some("it@example.org"));
        assert_eq!(acme.directory, "https://127.0.0.1:14000/dir");
        assert_eq!(acme.ca, Some("pebble.pem".into()));
        // One way at a time, said plainly; the ACME details need a domain.
        for other in [
            &["--tls-local"][..],
            &["--tls-cert", "c.pem", "--tls-key", "k.pem"][..],
        ] {
            let mut args = vec!["--acme-domain", "keys.example.org"];
            args.extend_from_slice(other);
            let refused = parse_tls(&args).unwrap_err().to_string();
            assert!(refused.contains("cannot be used with"), "{refused}");
        }
        assert!(parse_tls(&["--acme-email", "it@example.org"]).is_err());
        assert!(parse_tls(&["--acme-ca", "pebble.pem"]).is_err());
    }

    #[test]
    fn trusted_proxies_are_addresses() {
        let limits = parse(&[
            "--trusted-proxy",
            "127.0.0.1",
            "--trusted-proxy=::1,10.0.0.2",
        ]);
        let want: Vec<IpAddr> = ["127.0.0.1", "::1", "10.0.0.2"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(limits.trusted_proxies, want);
        let matches = Cli::command()
            .mut_args(|arg| arg.env(None::<&str>))
            .try_get_matches_from(["keyward-server", "--trusted-proxy", "proxy.example.org"]);
        assert!(matches.is_err());
    }

    #[test]
    fn no_flags_give_the_defaults() {
        // Every default is a whole number of seconds, so the flags lose nothing.
        assert_eq!(parse(&[]), Limits::default());
    }

    #[test]
    fn flags_set_limits() {
        let limits = parse(&[
            "--header-timeout-secs",
            "3",
            "--max-connections",
            "12",
            "--push-body-bytes=1000",
        ]);
        assert_eq!(limits.header_timeout, Duration::from_secs(3));
        assert_eq!(limits.max_connections, 12);
        assert_eq!(limits.push_body_bytes, 1000);
        assert_eq!(limits.body_timeout, Limits::default().body_timeout);
    }

    #[test]
    fn help_shows_each_default_and_variable() {
        let help = Cli::command().render_long_help().to_string();
        let d = Limits::default();
        for (flag, env, default) in [
            (
                "--header-timeout-secs",
                "KEYWARD_HEADER_TIMEOUT_SECS",
                d.header_timeout.as_secs().to_string(),
            ),
            (
                "--body-timeout-secs",
                "KEYWARD_BODY_TIMEOUT_SECS",
                d.body_timeout.as_secs().to_string(),
            ),
            (
                "--request-timeout-secs",
                "KEYWARD_REQUEST_TIMEOUT_SECS",
                d.request_timeout.as_secs().to_string(),
            ),
            (
                "--send-timeout-secs",
                "KEYWARD_SEND_TIMEOUT_SECS",
                d.send_timeout.as_secs().to_string(),
            ),
            (
                "--max-connections",
                "KEYWARD_MAX_CONNECTIONS",
                d.max_connections.to_string(),
            ),
            (
                "--hash-concurrency",
                "KEYWARD_HASH_CONCURRENCY",
                d.hash_concurrency.to_string(),
            ),
            (
                "--clock-skew-secs",
                "KEYWARD_CLOCK_SKEW_SECS",
                d.clock_skew.as_secs().to_string(),
            ),
        ] {
            let at = help
                .find(&format!("{flag} <"))
                .unwrap_or_else(|| panic!("{flag}:\n{help}"));
            let next = help[at + 2..]
                .find("\n      --")
                .map_or(help.len(), |n| at + 2 + n);
            let entry = &help[at..next];
            assert!(entry.contains(&format!("[env: {env}")), "{entry}");
            assert!(entry.contains(&format!("[default: {default}]")), "{entry}");
        }
    }
}
