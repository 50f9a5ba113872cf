//! Backups and restores of the server's database, taken by hand (`keyward-server backup`) or
//! on a schedule while serving ([`schedule`]).
//!
//! - **SQLite**: `VACUUM INTO` writes a consistent copy from one read transaction, so it is
//!   safe while the server serves: a push that commits meanwhile waits for the copy to be
//!   read (SQLite's rollback journal lets no writer commit under a reader; the pool's busy
//!   timeout is 30 s), and the copy never holds half a push. The copy is also compacted.
//! - **PostgreSQL**: `pg_dump --format=custom`, PostgreSQL's own consistent online dump (one
//!   snapshot for the whole database); restored with `pg_restore --clean --if-exists` in one
//!   transaction. The password of `DATABASE_URL` goes to the tools in their environment
//!   (`PGPASSWORD`), never on their command line, where `ps` would show it.
//!
//! A backup is written under a `.partial` name, flushed to disk and only then renamed, so a
//! file with a backup's name is always whole. Scheduled backups go in `<data>/backups/` as
//! `keyward-YYYYMMDD-HHMMSS.db` (or `.dump`), UTC, and the oldest beyond the count kept are
//! removed; other files there are left alone.
//!
//! A restore checks the file before anything changes (a SQLite file: SQLite's integrity
//! check, Keyward's tables, migrations this server knows; a dump: pg_dump's format and
//! Keyward's tables in its table of contents), keeps what it replaces, and refuses while a
//! server serves from the same data folder: every serving process holds a shared lock on
//! `<data>/keyward.lock` ([`ServeLock::serving`]), and a restore needs it exclusively.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Connection, Executor, Row};

use crate::store::{self, Backend};
use crate::SQLITE_FILE;

/// The folder under the data folder where backups are kept.
pub const BACKUPS_DIR: &str = "backups";
/// The lock file every serving process holds (shared) and a restore takes (exclusive).
pub const LOCK_FILE: &str = "keyward.lock";
/// The tables every Keyward database has (besides sqlx's `_sqlx_migrations`).
pub const TABLES: &[&str] = &[
    "sites",
    "users",
    "sessions",
    "login_failures",
    "events",
    "receipts",
    "setup_codes",
    "stream_tickets",
];
/// The first scheduled backup after a start waits at least this long (or the interval, if
/// shorter), so starting the server is not slowed by a backup.
const START_GRACE: Duration = Duration::from_secs(60);
/// After a failed scheduled backup, the next try comes after this long (or the interval).
const RETRY_AFTER: Duration = Duration::from_secs(3600);
/// How long a SQLite backup waits for a writer's lock.
const SQLITE_BUSY_MS: u32 = 30_000;

/// The database a command works on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file.
    Sqlite { file: PathBuf },
    /// A PostgreSQL database (the URL may hold a password: never print it unredacted).
    Postgres { url: String },
}

impl Database {
    /// `database_url` (`postgres://…` or `sqlite://…`), else `<data>/keyward.db`.
    pub fn of(data: &Path, database_url: Option<&str>) -> Result<Database, String> {
        let Some(url) = database_url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(Database::Sqlite {
                file: data.join(SQLITE_FILE),
            });
        };
        match Backend::of_url(url) {
            Some(Backend::Postgres) => Ok(Database::Postgres {
                url: url.to_string(),
            }),
            Some(Backend::Sqlite) => Ok(Database::Sqlite {
                file: sqlite_path(url),
            }),
            None => Err("the database URL must start with sqlite:// or postgres://".into()),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Database::Sqlite { .. } => Backend::Sqlite,
            Database::Postgres { .. } => Backend::Postgres,
        }
    }

    /// The database in words, safe to print.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite { file } => format!("the SQLite file {}", file.display()),
            Database::Postgres { url } => format!("the PostgreSQL database {}", store::redact(url)),
        }
    }

    /// Connects to the existing database: a SQLite file that is missing is an error here, not
    /// created empty.
    pub async fn connect(&self) -> Result<AnyConnection, String> {
        sqlx::any::install_default_drivers();
        let url = match self {
            Database::Sqlite { file } => {
                if !file.is_file() {
                    return Err(format!("there is no database at {}", file.display()));
                }
                existing_sqlite_url(file)
            }
            Database::Postgres { url } => url.clone(),
        };
        let mut conn = AnyConnection::connect(&url)
            .await
            .map_err(|e| format!("cannot open {}: {e}", self.describe()))?;
        if self.backend() == Backend::Sqlite {
            conn.execute(&*format!("PRAGMA busy_timeout = {SQLITE_BUSY_MS}"))
                .await
                .map_err(|e| format!("cannot open {}: {e}", self.describe()))?;
        }
        Ok(conn)
    }

    /// The file name ending of its backups.
    fn extension(&self) -> &'static str {
        match self {
            Database::Sqlite { .. } => "db",
            Database::Postgres { .. } => "dump",
        }
    }
}

/// The URL of an existing SQLite file: as [`store::sqlite_url`], but never creating it.
fn existing_sqlite_url(file: &Path) -> String {
    let url = store::sqlite_url(file);
    match url.strip_suffix("?mode=rwc") {
        Some(base) => format!("{base}?mode=rw"),
        None => url,
    }
}

/// The file of a `sqlite://` URL (the escapes of [`store::sqlite_url`] undone).
fn sqlite_path(url: &str) -> PathBuf {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let rest = rest.split('?').next().unwrap_or(rest);
    let mut path = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' {
            let code: String = chars.clone().take(2).collect();
            let decoded = match code.to_ascii_uppercase().as_str() {
                "25" => Some('%'),
                "3F" => Some('?'),
                "23" => Some('#'),
                _ => None,
            };
            if let Some(d) = decoded {
                chars.next();
                chars.next();
                path.push(d);
                continue;
            }
        }
        path.push(c);
    }
    PathBuf::from(path)
}

/// `YYYYMMDD-HHMMSS` of `at` (UTC): sorts as time does.
pub fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%d-%H%M%S").to_string()
}

/// Where a backup taken now goes by default: `<data>/backups/keyward-<stamp>.db|dump`, with
/// `-2`, `-3`… when a backup was already taken in the same second.
pub fn default_path(data: &Path, db: &Database) -> PathBuf {
    let dir = data.join(BACKUPS_DIR);
    let base = format!("keyward-{}", stamp(Utc::now()));
    let ext = db.extension();
    let mut path = dir.join(format!("{base}.{ext}"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{base}-{n}.{ext}"));
        n += 1;
    }
    path
}

/// Whether `name` is a scheduled backup's name (`keyward-YYYYMMDD-HHMMSS[-N].db|dump`).
pub fn is_backup_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("keyward-") else {
        return false;
    };
    let Some(stem) = rest
        .strip_suffix(".db")
        .or_else(|| rest.strip_suffix(".dump"))
    else {
        return false;
    };
    let (time, count) = match stem.get(15..) {
        Some("") => (stem, None),
        Some(tail) => (&stem[..15], tail.strip_prefix('-')),
        None => return false,
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    time.len() == 15
        && digits(&time[..8])
        && &time[8..9] == "-"
        && digits(&time[9..])
        && count.is_none_or(digits)
}

/// A backup taken.
#[derive(Debug, Clone)]
pub struct Taken {
    pub path: PathBuf,
    pub bytes: u64,
    pub took: Duration,
}

/// Takes a consistent backup of `db` into `to` (which must not exist yet), safe while servers
/// use the database.
pub async fn take(db: &Database, to: &Path) -> Result<Taken, String> {
    let started = Instant::now();
    if to.exists() {
        return Err(format!(
            "{} already exists: choose another file",
            to.display()
        ));
    }
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the folder {}: {e}", dir.display()))?;
    }
    let mut partial = to.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    let written = match db {
        Database::Sqlite { .. } => vacuum_into(db, &partial).await,
        Database::Postgres { url } => {
            let (url, partial) = (url.clone(), partial.clone());
            tokio::task::spawn_blocking(move || pg_dump(&url, &partial))
                .await
                .map_err(|e| format!("the backup stopped: {e}"))?
        }
    };
    let finished = written.and_then(|()| {
        // On disk before it gets a backup's name.
        File::open(&partial)
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::rename(&partial, to))
            .map_err(|e| format!("cannot write {}: {e}", to.display()))
    });
    if let Err(e) = finished {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    sync_dir(to);
    let bytes = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
    Ok(Taken {
        path: to.to_path_buf(),
        bytes,
        took: started.elapsed(),
    })
}

/// SQLite's online copy: one read transaction, written to `to`.
async fn vacuum_into(db: &Database, to: &Path) -> Result<(), String> {
    let mut conn = db.connect().await?;
    let target = to
        .to_str()
        .ok_or_else(|| format!("{} is not a name SQLite can use", to.display()))?;
    let done = sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(&mut conn)
        .await
        .map(|_| ())
        .map_err(|e| format!("SQLite could not copy {}: {e}", db.describe()));
    let _ = conn.close().await;
    done
}

/// Flushes the folder holding `path`, so a rename into it survives a power cut.
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
}

/// A PostgreSQL client tool (`pg_dump`, `pg_restore`) aimed at `url`: the password goes in
/// its environment, the rest of the URL on its command line.
fn pg_tool(program: &str, url: &str) -> Result<(Command, String), String> {
    let mut parsed =
        url::Url::parse(url).map_err(|e| format!("cannot read the database URL: {e}"))?;
    let mut command = Command::new(program);
    if let Some(password) = parsed.password() {
        let password = percent_encoding::percent_decode_str(password).decode_utf8_lossy();
        command.env("PGPASSWORD", password.as_ref());
        let _ = parsed.set_password(None);
    }
    command.env("PGCONNECT_TIMEOUT", "10");
    Ok((command, parsed.to_string()))
}

/// Runs a PostgreSQL client tool; a clear message when it is not installed or fails.
fn run_pg_tool(mut command: Command, program: &str) -> Result<String, String> {
    match command.output() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(format!(
            "{program} is not installed: install PostgreSQL's client tools (on Debian or \
             Ubuntu: apt install postgresql-client), of the same major version as the server \
             or newer"
        )),
        Err(e) => Err(format!("cannot run {program}: {e}")),
        Ok(out) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
        Ok(out) => Err(format!(
            "{program} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}

/// Whether `pg_dump` can be run here (for the scheduled backups' plain message).
pub fn pg_dump_available() -> bool {
    Command::new("pg_dump")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn pg_dump(url: &str, to: &Path) -> Result<(), String> {
    let (mut command, url) = pg_tool("pg_dump", url)?;
    command
        .arg("--format=custom")
        .arg("--file")
        .arg(to)
        .arg("--dbname")
        .arg(url);
    run_pg_tool(command, "pg_dump").map(|_| ())
}

/// Removes the oldest scheduled backups in `dir` beyond `keep`; returns those removed.
pub fn prune(dir: &Path, keep: usize) -> io::Result<Vec<PathBuf>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| is_backup_name(name))
        .collect();
    names.sort_by_key(|name| backup_order(name));
    let excess = names.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for name in names.into_iter().take(excess) {
        let path = dir.join(name);
        std::fs::remove_file(&path)?;
        removed.push(path);
    }
    Ok(removed)
}

/// A scheduled backup's place in time: its stamp, then its same-second count.
fn backup_order(name: &str) -> (String, u32) {
    let stamp = name.get(8..23).unwrap_or_default().to_string();
    let count = name
        .get(23..)
        .and_then(|tail| tail.strip_prefix('-'))
        .and_then(|tail| tail.split('.').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    (stamp, count)
}

/// When the newest scheduled backup in `dir` was written.
fn newest_backup(dir: &Path) -> Option<SystemTime> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_str().is_some_and(is_backup_name))
        .filter_map(|entry| entry.metadata().ok()?.modified().ok())
        .max()
}

/// Scheduled backups while serving: every `every`, counted from the newest backup in
/// `<data>/backups` (so a restart neither skips one nor takes an extra), keeping `keep`.
/// A failure is logged and tried again later; serving goes on. Runs until dropped.
pub async fn schedule(db: Database, data: PathBuf, every: Duration, keep: usize) {
    let dir = data.join(BACKUPS_DIR);
    let mut wait = every.min(START_GRACE);
    loop {
        if let Some(last) = newest_backup(&dir) {
            let due = last + every;
            let until = due.duration_since(SystemTime::now()).unwrap_or_default();
            wait = wait.max(until);
        }
        tokio::time::sleep(wait).await;
        if let Database::Postgres { .. } = db {
            if !tokio::task::spawn_blocking(pg_dump_available)
                .await
                .unwrap_or(false)
            {
                tracing::warn!(
                    "scheduled backup skipped: pg_dump is not installed here (install \
                     postgresql-client, or back up the database another way)"
                );
                wait = every.min(RETRY_AFTER);
                continue;
            }
        }
        let to = default_path(&data, &db);
        match take(&db, &to).await {
            Ok(taken) => {
                tracing::info!(
                    path = %taken.path.display(),
                    bytes = taken.bytes,
                    took_ms = u64::try_from(taken.took.as_millis()).unwrap_or(u64::MAX),
                    "backup taken"
                );
                match prune(&dir, keep) {
                    Ok(removed) => {
                        for path in removed {
                            tracing::info!(path = %path.display(), keep, "old backup removed");
                        }
                    }
                    Err(e) => tracing::error!(
                        folder = %dir.display(),
                        error = %e,
                        "cannot remove old backups"
                    ),
                }
                wait = every;
            }
            Err(e) => {
                tracing::error!(error = %e, "scheduled backup failed; serving goes on");
                wait = every.min(RETRY_AFTER);
            }
        }
    }
}

/// The lock on `<data>/keyward.lock`: shared by serving processes, exclusive for a restore.
/// Released when dropped (or when the process ends, however it ends).
#[derive(Debug)]
pub struct ServeLock {
    _file: File,
}

impl ServeLock {
    fn open(data: &Path) -> Result<File, String> {
        std::fs::create_dir_all(data)
            .map_err(|e| format!("cannot create the data folder {}: {e}", data.display()))?;
        let path = data.join(LOCK_FILE);
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open the lock file {}: {e}", path.display()))
    }

    /// Held by a serving process for as long as it serves.
    pub fn serving(data: &Path) -> Result<ServeLock, String> {
        let file = Self::open(data)?;
        match try_lock(&file, false) {
            Ok(true) => Ok(ServeLock { _file: file }),
            Ok(false) => Err(format!(
                "a restore into {} is under way: start the server once it has finished",
                data.display()
            )),
            Err(e) => Err(format!(
                "cannot lock {}: {e}",
                data.join(LOCK_FILE).display()
            )),
        }
    }

    /// Taken by a restore: fails while any server serves from `data`.
    pub fn restoring(data: &Path) -> Result<ServeLock, String> {
        let file = Self::open(data)?;
        match try_lock(&file, true) {
            Ok(true) => Ok(ServeLock { _file: file }),
            Ok(false) => Err(format!(
                "a keyward-server is serving from {}: stop it first (e.g. systemctl stop \
                 keyward), then restore",
                data.display()
            )),
            Err(e) => Err(format!(
                "cannot lock {}: {e}",
                data.join(LOCK_FILE).display()
            )),
        }
    }
}

/// `flock` without waiting: `Ok(false)` when another process holds a conflicting lock.
#[cfg(unix)]
fn try_lock(file: &File, exclusive: bool) -> io::Result<bool> {
    use rustix::fs::{flock, FlockOperation};
    let operation = if exclusive {
        FlockOperation::NonBlockingLockExclusive
    } else {
        FlockOperation::NonBlockingLockShared
    };
    match flock(file, operation) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Elsewhere the lock is not taken (std's file locks need a newer Rust than this crate's
/// minimum): stop the server before restoring, as the operator guide says.
#[cfg(not(unix))]
fn try_lock(_file: &File, _exclusive: bool) -> io::Result<bool> {
    Ok(true)
}

/// What a Keyward database holds, as a restore reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    pub sites: i64,
    pub events: i64,
    pub users: i64,
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct Restored {
    /// The database as it was before, kept: a file, or a dump of it.
    pub kept: Option<PathBuf>,
    pub contents: Contents,
}

/// Replaces `db` with the backup `from`, after checking it; refuses while a server serves from
/// `data`, and changes nothing when it refuses.
pub async fn restore(db: &Database, data: &Path, from: &Path) -> Result<Restored, String> {
    if !from.is_file() {
        return Err(format!("there is no backup file at {}", from.display()));
    }
    let _lock = ServeLock::restoring(data)?;
    match db {
        Database::Sqlite { file } => restore_sqlite(file, from).await,
        Database::Postgres { url } => restore_postgres(db, url, data, from).await,
    }
}

/// The files SQLite keeps beside a database: its rollback journal and its write-ahead log.
const SIDE_FILES: &[&str] = &["-journal", "-wal", "-shm"];

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

async fn restore_sqlite(file: &Path, from: &Path) -> Result<Restored, String> {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the folder {}: {e}", dir.display()))?;
    }
    // Checked as a copy beside the database, so what is checked is what goes in place (by a
    // rename, which is atomic), whatever happens to `from` meanwhile.
    let staging = with_suffix(file, ".restoring");
    let clean = |staging: &Path| {
        let _ = std::fs::remove_file(staging);
        for side in SIDE_FILES {
            let _ = std::fs::remove_file(with_suffix(staging, side));
        }
    };
    clean(&staging);
    std::fs::copy(from, &staging).map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
    let checked = inspect_sqlite(&staging).await;
    let contents = match checked {
        Ok(contents) => contents,
        Err(e) => {
            clean(&staging);
            return Err(format!("{} {e}; nothing was changed", from.display()));
        }
    };
    let kept = if file.exists() {
        let kept = with_suffix(file, &format!(".before-restore-{}", stamp(Utc::now())));
        std::fs::rename(file, &kept)
            .map_err(|e| format!("cannot move {} aside: {e}", file.display()))?;
        // A journal or log left by a server that stopped abruptly belongs with its database.
        for side in SIDE_FILES {
            let from_side = with_suffix(file, side);
            if from_side.exists() {
                let _ = std::fs::rename(&from_side, with_suffix(&kept, side));
            }
        }
        Some(kept)
    } else {
        None
    };
    std::fs::rename(&staging, file).map_err(|e| {
        format!(
            "cannot put the backup in place at {}: {e} (the database it replaced is kept at {})",
            file.display(),
            kept.as_ref()
                .map_or_else(|| "-".into(), |k| k.display().to_string())
        )
    })?;
    clean(&staging);
    sync_dir(file);
    Ok(Restored { kept, contents })
}

/// Checks that `path` is a whole Keyward SQLite database this server can use.
pub async fn inspect_sqlite(path: &Path) -> Result<Contents, String> {
    let mut header = [0u8; 16];
    let read = File::open(path).and_then(|mut f| io::Read::read_exact(&mut f, &mut header));
    if read.is_err() || &header != b"SQLite format 3\0" {
        return Err("is not a SQLite database".into());
    }
    let db = Database::Sqlite {
        file: path.to_path_buf(),
    };
    let mut conn = db
        .connect()
        .await
        .map_err(|e| format!("cannot be opened ({e})"))?;
    let result = inspect(&mut conn, Backend::Sqlite).await;
    let _ = conn.close().await;
    result
}

/// Integrity (SQLite), Keyward's tables, the migrations and the counts of an open database.
async fn inspect(conn: &mut AnyConnection, backend: Backend) -> Result<Contents, String> {
    if backend == Backend::Sqlite {
        let problems = integrity_problems(conn).await?;
        if !problems.is_empty() {
            return Err(format!(
                "is damaged: it fails SQLite's integrity check: {}",
                problems.join("; ")
            ));
        }
    }
    let missing = missing_tables(conn, backend).await?;
    if !missing.is_empty() {
        return Err(format!(
            "is not a Keyward database (it has no {} table)",
            missing.join(", ")
        ));
    }
    let pending = migration_problems(conn, backend).await?;
    if let Some(newer) = pending.newer {
        return Err(newer);
    }
    contents(conn).await
}

/// SQLite's integrity check: empty when the file is sound (at most ten problems named).
pub(crate) async fn integrity_problems(conn: &mut AnyConnection) -> Result<Vec<String>, String> {
    let rows = sqlx::query("PRAGMA integrity_check(10)")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| format!("is damaged or not a database ({e})"))?;
    let lines: Vec<String> = rows
        .iter()
        .filter_map(|row| row.try_get::<String, _>(0).ok())
        .filter(|line| line != "ok")
        .collect();
    Ok(lines)
}

/// Keyward's tables that the database lacks.
pub(crate) async fn missing_tables(
    conn: &mut AnyConnection,
    backend: Backend,
) -> Result<Vec<String>, String> {
    let sql = match backend {
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table'",
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema()"
        }
    };
    let rows = sqlx::query(sql)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| format!("is damaged or not a database ({e})"))?;
    let present: Vec<String> = rows
        .iter()
        .filter_map(|row| row.try_get::<String, _>(0).ok())
        .collect();
    Ok(TABLES
        .iter()
        .chain(std::iter::once(&"_sqlx_migrations"))
        .filter(|table| !present.iter().any(|p| p == *table))
        .map(|table| table.to_string())
        .collect())
}

/// How a database's migrations compare with this server's.
#[derive(Debug, Default)]
pub(crate) struct Migrations {
    /// This server's migrations not applied yet (the server applies them at start).
    pub pending: Vec<i64>,
    /// Why the database is not this server's to use: a migration it does not know (a newer
    /// server made it), one that differs, or one that failed half-way.
    pub newer: Option<String>,
}

pub(crate) async fn migration_problems(
    conn: &mut AnyConnection,
    backend: Backend,
) -> Result<Migrations, String> {
    let rows = sqlx::query(
        "SELECT version, checksum, CASE WHEN success THEN 1 ELSE 0 END AS ok \
         FROM _sqlx_migrations ORDER BY version",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| format!("has an unreadable migrations table ({e})"))?;
    let known = store::migrator(backend);
    let mut found = Migrations::default();
    let mut applied = Vec::new();
    for row in &rows {
        let version: i64 = row.try_get("version").map_err(|e| e.to_string())?;
        let checksum: Vec<u8> = row.try_get("checksum").map_err(|e| e.to_string())?;
        let ok: i64 = row.try_get("ok").map_err(|e| e.to_string())?;
        applied.push(version);
        let ours = known.iter().find(|m| m.version == version);
        let problem = match ours {
            None => Some(format!(
                "was made by a newer keyward-server (its migration {version} is unknown to \
                 this one): use that version or a later one"
            )),
            Some(m) if *m.checksum != *checksum => Some(format!(
                "has a migration {version} that differs from this keyward-server's"
            )),
            Some(_) if ok != 1 => Some(format!("has migration {version} failed half-way")),
            Some(_) => None,
        };
        if found.newer.is_none() {
            found.newer = problem;
        }
    }
    found.pending = known
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| m.version)
        .filter(|v| !applied.contains(v))
        .collect();
    Ok(found)
}

async fn contents(conn: &mut AnyConnection) -> Result<Contents, String> {
    let mut count = async |table: &str| -> Result<i64, String> {
        sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| format!("cannot count its {table} ({e})"))
    };
    Ok(Contents {
        sites: count("sites").await?,
        events: count("events").await?,
        users: count("users").await?,
    })
}

async fn restore_postgres(
    db: &Database,
    url: &str,
    data: &Path,
    from: &Path,
) -> Result<Restored, String> {
    let mut magic = [0u8; 5];
    let read = File::open(from).and_then(|mut f| io::Read::read_exact(&mut f, &mut magic));
    if read.is_err() || &magic != b"PGDMP" {
        return Err(format!(
            "{} is not a pg_dump archive in custom format (keyward-server backup makes one); \
             nothing was changed",
            from.display()
        ));
    }
    // Its table of contents must hold Keyward's tables.
    let (mut list, _) = pg_tool("pg_restore", url)?;
    list.arg("--list").arg(from);
    let from_owned = from.to_path_buf();
    let toc = tokio::task::spawn_blocking(move || run_pg_tool(list, "pg_restore"))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| {
            format!(
                "{} cannot be read ({e}); nothing was changed",
                from_owned.display()
            )
        })?;
    let tables: Vec<&str> = toc
        .lines()
        .filter(|line| !line.starts_with(';'))
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let at = words.iter().position(|w| *w == "TABLE")?;
            // `TABLE DATA public events …` is the table's rows; `TABLE public events …` it.
            (words.get(at + 1) != Some(&"DATA"))
                .then(|| words.get(at + 2).copied())
                .flatten()
        })
        .collect();
    let missing: Vec<&str> = TABLES
        .iter()
        .chain(std::iter::once(&"_sqlx_migrations"))
        .filter(|t| !tables.contains(t))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} is not a backup of a Keyward database (it has no {} table); nothing was changed",
            from.display(),
            missing.join(", ")
        ));
    }
    // Servers over PostgreSQL may run on other machines, out of reach of the lock file: any
    // other connection to the database stops the restore.
    let mut conn = db.connect().await?;
    let others: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|e| format!("cannot see who uses the database: {e}"))?;
    let _ = conn.close().await;
    if others > 0 {
        return Err(format!(
            "{others} other connection(s) to {} are open: stop every keyward-server using it, \
             then restore; nothing was changed",
            db.describe()
        ));
    }
    // What is replaced is kept, as a backup beside the others (not counted among them).
    let kept = data
        .join(BACKUPS_DIR)
        .join(format!("keyward-before-restore-{}.dump", stamp(Utc::now())));
    take(db, &kept).await.map_err(|e| {
        format!("cannot keep the database before restoring ({e}); nothing was changed")
    })?;
    let (mut command, target) = pg_tool("pg_restore", url)?;
    command
        .args([
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
        ])
        .arg(target)
        .arg(from);
    tokio::task::spawn_blocking(move || run_pg_tool(command, "pg_restore"))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{e}; the restore was undone, nothing was changed"))?;
    let mut conn = db.connect().await?;
    let contents = inspect(&mut conn, Backend::Postgres)
        .await
        .map_err(|e| format!("the restored database {e}"));
    let _ = conn.close().await;
    Ok(Restored {
        kept: Some(kept),
        contents: contents?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_names() {
        assert!(is_backup_name("keyward-20260126-093000.db"));
        assert!(is_backup_name("keyward-20260126-093000-2.dump"));
        assert!(!is_backup_name("keyward-20260126-093000.db.partial"));
        assert!(!is_backup_name(
            "keyward-before-restore-20260126-093000.dump"
        ));
        assert!(!is_backup_name("keyward-2026012-093000.db"));
        assert!(!is_backup_name("keyward-20260126-093000-.db"));
        assert!(!is_backup_name("notes.txt"));
    }

    #[test]
    fn pruning_keeps_the_newest_and_leaves_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            "keyward-20260101-000000.db",
            "keyward-20260102-000000.db",
            "keyward-20260102-000000-2.db",
            "keyward-20260103-000000.db",
            "keyward-before-restore-20250101-000000.dump",
            "mine.db",
        ];
        for name in names {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let removed = prune(dir.path(), 2).unwrap();
        let removed: Vec<String> = removed
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            removed,
            ["keyward-20260101-000000.db", "keyward-20260102-000000.db"]
        );
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "keyward-20260102-000000-2.db",
                "keyward-20260103-000000.db",
                "keyward-before-restore-20250101-000000.dump",
                "mine.db"
            ]
        );
    }

    #[test]
    fn database_of_the_flags() {
        let data = Path::new("/srv/data");
        assert_eq!(
            Database::of(data, None).unwrap(),
            Database::Sqlite {
                file: data.join("keyward.db")
            }
        );
        assert_eq!(
            Database::of(data, Some(&store::sqlite_url(Path::new("/x/a%b?#.db")))).unwrap(),
            Database::Sqlite {
                file: "/x/a%b?#.db".into()
            }
        );
        assert!(matches!(
            Database::of(data, Some("postgres://k@h/db")).unwrap(),
            Database::Postgres { .. }
        ));
        assert!(Database::of(data, Some("mysql://x")).is_err());
    }

    #[test]
    fn the_password_stays_off_the_command_line() {
        let (command, url) =
            pg_tool("pg_dump", "postgres://keyward:s%40cret@db:5432/keys").unwrap();
        assert_eq!(url, "postgres://keyward@db:5432/keys");
        let password = command
            .get_envs()
            .find(|(k, _)| *k == "PGPASSWORD")
            .and_then(|(_, v)| v)
            .unwrap();
        assert_eq!(password, "s@cret");
    }
}
