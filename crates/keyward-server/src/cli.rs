//! The operator's commands beside serving (`backup`, `restore`, `check`) and the serving
//! flags of scheduled backups; `main.rs` flattens them into its command line.

use std::path::PathBuf;
use std::time::Duration;

use crate::backup::{self, Database, ServeLock};
use crate::check;

/// Which database a command works on: the same flags (and variables) as serving.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// The server's data folder; holds the SQLite file keyward.db and the backups folder.
    #[arg(long, value_name = "DIR", env = "KEYWARD_DATA", default_value = "data")]
    pub data: PathBuf,
    /// The PostgreSQL database, when the server uses one instead of the SQLite file.
    #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

impl DbArgs {
    fn database(&self) -> Result<Database, String> {
        Database::of(&self.data, self.database_url.as_deref())
    }
}

/// The operator's commands.
#[derive(Debug, clap::Subcommand)]
pub enum Ops {
    /// Takes a backup of the database now; safe while the server is serving.
    ///
    /// SQLite: a consistent copy (VACUUM INTO). PostgreSQL: pg_dump's custom format (the
    /// PostgreSQL client tools must be installed). Prints where the backup went.
    Backup {
        #[command(flatten)]
        db: DbArgs,
        /// Where to write the backup [default: <data>/backups/keyward-<UTC time>.db, or .dump
        /// on PostgreSQL].
        #[arg(long, value_name = "FILE")]
        to: Option<PathBuf>,
    },
    /// Replaces the database with a backup. Stop the server first.
    ///
    /// The backup is checked before anything changes; a damaged or foreign file is refused.
    /// SQLite: the current file is kept as keyward.db.before-restore-<time>. PostgreSQL:
    /// pg_restore --clean --if-exists into the DATABASE_URL database, in one transaction,
    /// after a dump of what it replaces into <data>/backups/keyward-before-restore-<time>.dump.
    Restore {
        #[command(flatten)]
        db: DbArgs,
        /// The backup file (a .db file for SQLite, a .dump file for PostgreSQL).
        #[arg(value_name = "FROM")]
        from: PathBuf,
    },
    /// Checks the database and prints what each site holds; changes nothing.
    ///
    /// Integrity, schema and migrations, and every site's log replayed event by event as the
    /// server judges pushes. Exits with status 1 and says what is wrong when anything is.
    Check {
        #[command(flatten)]
        db: DbArgs,
    },
}

impl Ops {
    /// Runs the command; what it did goes to stdout.
    pub async fn run(self) -> Result<(), String> {
        match self {
            Ops::Backup { db, to } => {
                let database = db.database()?;
                let to = to.unwrap_or_else(|| backup::default_path(&db.data, &database));
                let taken = backup::take(&database, &to).await?;
                tracing::info!(
                    path = %taken.path.display(),
                    bytes = taken.bytes,
                    took_ms = u64::try_from(taken.took.as_millis()).unwrap_or(u64::MAX),
                    "backup taken"
                );
                println!(
                    "Backed up {} to {} ({} bytes)",
                    database.describe(),
                    taken.path.display(),
                    taken.bytes
                );
                Ok(())
            }
            Ops::Restore { db, from } => {
                let database = db.database()?;
                let restored = backup::restore(&database, &db.data, &from)
                    .await
                    .map_err(|e| format!("restore refused or failed: {e}"))?;
                let c = &restored.contents;
                tracing::info!(
                    from = %from.display(),
                    sites = c.sites,
                    events = c.events,
                    kept = restored.kept.as_ref().map(|k| k.display().to_string()),
                    "database restored"
                );
                println!(
                    "Restored {} from {}: {} site(s), {} event(s), {} user(s).",
                    database.describe(),
                    from.display(),
                    c.sites,
                    c.events,
                    c.users
                );
                if let Some(kept) = &restored.kept {
                    println!("What it replaced is kept at {}.", kept.display());
                }
                println!(
                    "Devices that synced after the backup was taken must be set up again: see \
                     docs/operator.md, \"Backups and restore\"."
                );
                Ok(())
            }
            Ops::Check { db } => {
                let database = db.database()?;
                let report = check::check(&database).await?;
                println!("Checked {}", database.describe());
                for line in report.lines() {
                    println!("{line}");
                }
                match report.problems.len() {
                    0 => {
                        println!("All is well.");
                        Ok(())
                    }
                    n => Err(format!("the check found {n} problem(s): see above")),
                }
            }
        }
    }
}

/// Scheduled backups while serving.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Backups")]
pub struct BackupFlags {
    /// Hours between scheduled backups into <data>/backups (fractions allowed); 0 turns
    /// them off. On PostgreSQL they need pg_dump on the PATH.
    #[arg(long, value_name = "HOURS", env = "KEYWARD_BACKUP_EVERY", default_value_t = 24.0, value_parser = hours)]
    pub backup_every: f64,
    /// Scheduled backups kept; the oldest beyond this are removed.
    #[arg(long, value_name = "N", env = "KEYWARD_BACKUP_KEEP", default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..))]
    pub backup_keep: u32,
}

fn hours(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(h) if h.is_finite() && (0.0..=24.0 * 366.0).contains(&h) => Ok(h),
        _ => Err("give a number of hours from 0 (off) to 8784, e.g. 24 or 0.5".into()),
    }
}

impl BackupFlags {
    /// The interval, or `None` when scheduled backups are off.
    pub fn every(&self) -> Option<Duration> {
        (self.backup_every > 0.0).then(|| Duration::from_secs_f64(self.backup_every * 3600.0))
    }
}

/// What a serving process does besides serving: holds the data folder's lock (so a restore
/// cannot replace the database under it) and, unless off, takes scheduled backups. Keep the
/// returned lock for as long as the process serves.
pub fn start_serving_duties(
    data: &std::path::Path,
    database_url: Option<&str>,
    flags: &BackupFlags,
) -> Result<ServeLock, String> {
    let lock = ServeLock::serving(data)?;
    let database = Database::of(data, database_url)?;
    match flags.every() {
        None => tracing::info!("scheduled backups are off (--backup-every 0)"),
        Some(every) => {
            if let Database::Postgres { .. } = database {
                if !backup::pg_dump_available() {
                    tracing::warn!(
                        "pg_dump is not installed here: scheduled backups of the PostgreSQL \
                         database will be skipped until it is (apt install postgresql-client)"
                    );
                }
            }
            tracing::info!(
                every_hours = flags.backup_every,
                keep = flags.backup_keep,
                folder = %data.join(backup::BACKUPS_DIR).display(),
                "scheduled backups on"
            );
            tokio::spawn(backup::schedule(
                database,
                data.to_path_buf(),
                every,
                usize::try_from(flags.backup_keep).unwrap_or(usize::MAX),
            ));
        }
    }
    Ok(lock)
}
