//! Every limit the server enforces, each a named setting with a sane default.
//!
//! Nothing a client sends may cost the server unbounded memory, disk or time: these bound
//! what one request, one connection, one address or one account can take. `main.rs` exposes
//! each as a command-line flag (and a `KEYWARD_…` environment variable); tests set small
//! values to show a limit holds without exhausting the machine.

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

    // --- Connections -------------------------------------------------------------------
    /// Open connections at most; more wait in the kernel's queue until one closes.
    pub max_connections: usize,
    /// Time allowed to send a request's headers (also the keep-alive idle time).
    pub header_timeout: Duration,
    /// Time allowed to send a request's body.
    pub body_timeout: Duration,
    /// Time allowed for a whole request and its answer (not the event stream).
    pub request_timeout: Duration,

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
            max_connections: 4096,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(120),
            push_body_bytes: 16 * 1024 * 1024,
            pull_bytes: 4 * 1024 * 1024,
            cache_bytes: 512 * 1024 * 1024,
            cache_idle: Duration::from_secs(30 * 60),
            clock_skew: Duration::from_secs(5 * 60),
        }
    }
}
