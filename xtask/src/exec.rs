//! Running commands, timing steps and counting test results.

use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A `cargo` command: the cargo that runs xtask (`$CARGO`), else the one on PATH.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Quotes `word` for a POSIX shell when it needs it.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Joins words into one shell command line.
pub fn shell_join<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| shell_quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The command line of `command`, for messages (program shown by its file name).
pub fn describe(command: &Command) -> String {
    let program = command.get_program().to_string_lossy();
    let program = program.rsplit('/').next().unwrap_or(&program).to_string();
    let mut words = vec![program];
    words.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    shell_join(&words)
}

fn spawn_error(command: &Command, e: std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        format!(
            "`{}` not found: is {} installed and on PATH?",
            describe(command),
            command.get_program().to_string_lossy()
        )
    } else {
        format!("cannot start `{}`: {e}", describe(command))
    }
}

/// Runs `command` with inherited stdio; an error unless it exits 0.
pub fn run(command: &mut Command) -> Result<(), String> {
    println!("$ {}", describe(command));
    flush();
    let status = command.status().map_err(|e| spawn_error(command, e))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(command)))
    }
}

/// Like `run`, but reads the command's stdout line by line, echoing each line and handing it
/// to `on_line` (to count test results). Stderr is inherited.
pub fn run_teeing(command: &mut Command, mut on_line: impl FnMut(&str)) -> Result<(), String> {
    println!("$ {}", describe(command));
    flush();
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| spawn_error(command, e))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    // Read on this thread. A process started by the command (a server restarted by a test) may
    // keep the pipe open after the command exits, so stop reading once the command is gone and
    // nothing more arrives for a while.
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut exited = None;
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                println!("{line}");
                on_line(&line);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if exited.is_none() {
                    exited = child
                        .try_wait()
                        .map_err(|e| e.to_string())?
                        .map(|s| (s, Instant::now()));
                }
                if let Some((_, at)) = exited {
                    if at.elapsed() > Duration::from_secs(2) {
                        break;
                    }
                }
            }
        }
    }
    flush();
    let status = match exited {
        Some((status, _)) => status,
        None => child.wait().map_err(|e| e.to_string())?,
    };
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(command)))
    }
}

/// Replaces this process by `command` (Unix); elsewhere runs it and exits with its status.
pub fn replace_process(command: &mut Command) -> Result<(), String> {
    flush();
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let e = command.exec();
        Err(spawn_error(command, e))
    }
    #[cfg(not(unix))]
    {
        run(command)
    }
}

pub fn flush() {
    let _ = std::io::stdout().flush();
}

/// Named, timed steps; an error names the step that failed.
#[derive(Default)]
pub struct Steps {
    done: Vec<(String, Duration)>,
}

impl Steps {
    pub fn run<T>(
        &mut self,
        name: &str,
        body: impl FnOnce() -> Result<T, String>,
    ) -> Result<T, String> {
        println!("\n==> {name}");
        flush();
        let started = Instant::now();
        match body() {
            Ok(value) => {
                let took = started.elapsed();
                println!("<== {name}: ok ({:.1}s)", took.as_secs_f64());
                self.done.push((name.to_string(), took));
                Ok(value)
            }
            Err(e) => {
                println!(
                    "<== {name}: FAILED ({:.1}s)",
                    started.elapsed().as_secs_f64()
                );
                Err(format!("step `{name}` failed: {e}"))
            }
        }
    }

    pub fn len(&self) -> usize {
        self.done.len()
    }

    pub fn print_summary(&self) {
        println!("\n==> summary");
        for (name, took) in &self.done {
            println!("  ok  {name:<30} {:>7.1}s", took.as_secs_f64());
        }
    }
}

/// Passed / failed / skipped tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
}

impl Counts {
    /// Adds a libtest summary: `test result: ok. 3 passed; 0 failed; 1 ignored; ...`.
    pub fn add_cargo_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        let Some((_, figures)) = rest.split_once(". ") else {
            return;
        };
        for part in figures.split(';') {
            let mut words = part.split_whitespace();
            let (Some(n), Some(what)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = n.parse::<u64>() else { continue };
            match what {
                "passed" => self.passed += n,
                "failed" => self.failed += n,
                "ignored" => self.skipped += n,
                _ => {}
            }
        }
    }

    /// Adds a line of Playwright's closing summary: `  3 passed (2.1s)`, `  1 failed`,
    /// `  2 skipped`, `  1 flaky`, `  4 did not run`, `  1 interrupted`.
    pub fn add_playwright_line(&mut self, line: &str) {
        let mut words = line.split_whitespace();
        let (Some(n), Some(what)) = (words.next(), words.next()) else {
            return;
        };
        let Ok(n) = n.parse::<u64>() else { return };
        let rest: Vec<&str> = words.collect();
        // Nothing after the word but a `(duration)`: not a test's own output.
        let tail_ok = rest.first().is_none_or(|w| w.starts_with('('));
        match what {
            "passed" | "flaky" if tail_ok => self.passed += n,
            "failed" | "interrupted" if tail_ok => self.failed += n,
            "skipped" if tail_ok => self.skipped += n,
            "did" if rest.first() == Some(&"not") && rest.get(1) == Some(&"run") => {
                self.skipped += n
            }
            _ => {}
        }
    }
}

impl std::ops::Add for Counts {
    type Output = Counts;
    fn add(self, other: Counts) -> Counts {
        Counts {
            passed: self.passed + other.passed,
            failed: self.failed + other.failed,
            skipped: self.skipped + other.skipped,
        }
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} passed, {} failed", self.passed, self.failed)?;
        if self.skipped > 0 {
            write!(f, ", {} skipped", self.skipped)?;
        }
        Ok(())
    }
}

/// Test counts of `cargo xtask test`, by runner.
#[derive(Debug, Default)]
pub struct TestCounts {
    pub cargo: Counts,
    pub playwright: Counts,
}

impl TestCounts {
    pub fn total(&self) -> Counts {
        self.cargo + self.playwright
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(
            shell_quote("target/debug/keyward-server"),
            "target/debug/keyward-server"
        );
        assert_eq!(shell_quote("127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(
            shell_join(&["x", "--data", "/tmp/a b"]),
            "x --data '/tmp/a b'"
        );
    }

    #[test]
    fn describe_shows_program_file_name_and_args() {
        let mut command = Command::new("/usr/bin/env");
        command.args(["fmt", "--all"]);
        assert_eq!(describe(&command), "env fmt --all");
    }

    #[test]
    fn cargo_test_summaries_add_up() {
        let mut counts = Counts::default();
        counts.add_cargo_line(
            "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; \
             finished in 0.03s",
        );
        counts.add_cargo_line(
            "test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out",
        );
        counts.add_cargo_line("test store::tests::it_works ... ok");
        counts.add_cargo_line("running 12 tests");
        assert_eq!(
            counts,
            Counts {
                passed: 15,
                failed: 2,
                skipped: 1
            }
        );
    }

    #[test]
    fn playwright_summaries_add_up() {
        let mut counts = Counts::default();
        for line in [
            "Running 7 tests using 1 worker",
            "  ✓  1 specs/smoke.spec.js:3:1 › loads (418ms)",
            "  1 failed",
            "    [chromium] › specs/offline.spec.js:9:1 › works offline",
            "  1 flaky",
            "  1 skipped",
            "  2 did not run",
            "  3 passed (3.1s)",
            "  3 passed tests are nice",
        ] {
            counts.add_playwright_line(line);
        }
        assert_eq!(
            counts,
            Counts {
                passed: 4,
                failed: 1,
                skipped: 3
            }
        );
    }

    #[test]
    fn closing_line_format() {
        let counts = TestCounts {
            cargo: Counts {
                passed: 40,
                failed: 0,
                skipped: 0,
            },
            playwright: Counts {
                passed: 2,
                failed: 0,
                skipped: 0,
            },
        };
        assert_eq!(counts.total().to_string(), "42 passed, 0 failed");
        let skipped = Counts {
            passed: 1,
            failed: 2,
            skipped: 3,
        };
        assert_eq!(skipped.to_string(), "1 passed, 2 failed, 3 skipped");
    }

    #[test]
    fn run_reports_failure_and_missing_programs() {
        assert!(run(&mut Command::new("true")).is_ok());
        let failed = run(&mut Command::new("false")).unwrap_err();
        assert!(failed.contains("`false` failed"), "{failed}");
        let missing = run(&mut Command::new("no-such-program-xtask")).unwrap_err();
        assert!(missing.contains("not found"), "{missing}");
    }

    #[test]
    fn run_teeing_sees_every_line() {
        let mut lines = Vec::new();
        run_teeing(Command::new("sh").args(["-c", "echo one; echo two"]), |l| {
            lines.push(l.to_string())
        })
        .unwrap();
        assert_eq!(lines, ["one", "two"]);
    }

    #[test]
    fn run_teeing_does_not_wait_for_a_leftover_pipe_holder() {
        // The shell exits at once but leaves `sleep` holding stdout open for 8 s.
        let started = Instant::now();
        run_teeing(
            Command::new("sh").args(["-c", "echo hi; sleep 8 & exit 0"]),
            |_| {},
        )
        .unwrap();
        assert!(started.elapsed() < Duration::from_secs(6));
    }
}
