//! The server's logs: `tracing` events on stderr, as text for a person at a terminal or as one
//! JSON object a line for a log collector (`--log-format json`).
//!
//! Standard output stays for what a person or a tool reads once (the set-up code, the address,
//! a command's result); stderr carries the log, which systemd's journal keeps with its own
//! timestamps. `RUST_LOG` chooses what is logged, as for any `tracing` program
//! (`RUST_LOG=keyward_server=debug`); without it, `info` and above. Events carry fields
//! (`site`, `path`, `bytes`…) rather than values spliced into the sentence, so a collector
//! can filter on them. Nothing secret is logged: no passwords, tokens, set-up codes or
//! database passwords (URLs pass through [`redact`](crate::store::redact)).

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Text,
    /// One JSON object per line, its fields at the top level.
    Json,
}

/// Installs the process's log writer on stderr; `RUST_LOG` filters, `info` by default. A
/// second call (tests start several servers in one process) changes nothing.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
}
