//! A keyward-server started for the browser tests or the bench, on a free port.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::exec::{describe, flush, shell_join};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_GRACE: Duration = Duration::from_secs(5);

pub struct Server {
    child: Child,
    /// Base URL as the server printed it, e.g. `http://127.0.0.1:41234/`.
    pub url: String,
    /// `host:port` it listens on.
    pub addr: String,
    /// The command that starts the same server again on the same address, data and set-up
    /// code (`env KEYWARD_SETUP_CODE=… keyward-server …`).
    pub restart_argv: Vec<String>,
    pub data_dir: PathBuf,
    /// The set-up code it accepts for putting a new site on it (`KEYWARD_SETUP_CODE`). It
    /// works once: `keyward-server setup-code --data <data>` issues another.
    pub setup_code: String,
    /// The server program, for `setup-code`.
    pub program: PathBuf,
}

/// The environment variable that gives the server its set-up code.
const SETUP_CODE_VAR: &str = "KEYWARD_SETUP_CODE";

/// A random set-up code, `XXXX-XXXX-XXXX` from an unambiguous alphabet, for one test run.
pub fn random_setup_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTVWXYZ23456789";
    let mut bytes = [0u8; 12];
    let random = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    if random.is_err() {
        // No /dev/urandom: the clock's nanoseconds and the pid are enough for a test server.
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            ^ (u128::from(std::process::id()) << 64);
        bytes.copy_from_slice(&seed.to_le_bytes()[..12]);
    }
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A new empty folder in the temp dir for one server's data.
pub fn fresh_data_dir() -> Result<PathBuf, String> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("keyward-xtask-{}-{nanos:x}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn lossy(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

impl Server {
    /// Starts `program --dist <dist> --data <data> --addr 127.0.0.1:0` (without `--dist` when
    /// `dist` is `None`: the app built into the binary, run from inside `data` so that no
    /// `dist` folder nearby can stand in for it) with a set-up code in
    /// `KEYWARD_SETUP_CODE` (this process's own, if it has one, e.g. the abuse bench's; else a
    /// fresh random one), and waits for the stdout line that gives its address,
    /// `Keyward is running at http://HOST:PORT/` (lines before it are echoed).
    pub fn start(program: &Path, dist: Option<&Path>, data: &Path) -> Result<Server, String> {
        let setup_code = std::env::var(SETUP_CODE_VAR)
            .ok()
            .filter(|code| !code.trim().is_empty())
            .unwrap_or_else(random_setup_code);
        let argv = |addr: &str| {
            let mut argv = vec![lossy(&absolute(program))];
            if let Some(dist) = dist {
                argv.extend(["--dist".to_string(), lossy(&absolute(dist))]);
            }
            argv.extend([
                "--data".to_string(),
                lossy(&absolute(data)),
                "--addr".to_string(),
                addr.to_string(),
            ]);
            argv
        };
        let first = argv("127.0.0.1:0");
        let mut command = Command::new(&first[0]);
        std::fs::create_dir_all(data)
            .map_err(|e| format!("cannot create {}: {e}", data.display()))?;
        command
            .args(&first[1..])
            .current_dir(data)
            .env(SETUP_CODE_VAR, &setup_code)
            .stdout(Stdio::piped());
        println!("$ {SETUP_CODE_VAR}={setup_code} {}", describe(&command));
        flush();
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", first[0]))?;

        // One thread reads the server's stdout for as long as it runs: the line with the
        // address comes back here, every line is echoed (so the pipe never fills up).
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("[server] {line}");
                if !sent && parse_url(&line).is_some() {
                    sent = true;
                    let _ = tx.send(line);
                }
            }
        });

        let first_line = match rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().map_err(|e| e.to_string())?;
                return Err(format!(
                    "keyward-server exited ({status}) before printing its address"
                ));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "keyward-server printed no address in {}s",
                    STARTUP_TIMEOUT.as_secs()
                ));
            }
        };
        let parsed =
            parse_url(&first_line).and_then(|url| authority(&url).map(|addr| (url.clone(), addr)));
        let Some((url, addr)) = parsed else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "keyward-server's address line has no http://host:port: {first_line:?}"
            ));
        };
        let mut restart_argv = vec!["env".to_string(), format!("{SETUP_CODE_VAR}={setup_code}")];
        restart_argv.extend(argv(&addr));
        Ok(Server {
            child,
            restart_argv,
            url,
            addr,
            data_dir: absolute(data),
            setup_code,
            program: absolute(program),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Shell command line that restarts the server on the same address and data folder.
    pub fn restart_command(&self) -> String {
        shell_join(&self.restart_argv)
    }

    /// Sets the `KEYWARD_*` variables that tell a test or bench about this server.
    pub fn apply_env<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        command
            .env("KEYWARD_URL", &self.url)
            .env("KEYWARD_SERVER_PID", self.pid().to_string())
            .env("KEYWARD_SERVER_CMD", self.restart_command())
            .env("KEYWARD_SERVER_ADDR", &self.addr)
            .env("KEYWARD_DATA_DIR", &self.data_dir)
            .env(SETUP_CODE_VAR, &self.setup_code)
            .env("KEYWARD_SERVER_BIN", &self.program)
    }

    /// Stops the server (SIGTERM, then SIGKILL after a grace period). A server already gone,
    /// killed by a test, is fine. Also stops any copy a test restarted and left running: it
    /// is recognised by this run's own data folder on its command line.
    pub fn stop(mut self) {
        match self.child.try_wait() {
            Ok(Some(status)) => println!(
                "keyward-server (pid {}) had already stopped ({status})",
                self.pid()
            ),
            _ => {
                terminate(self.child.id());
                let deadline = Instant::now() + STOP_GRACE;
                loop {
                    match self.child.try_wait() {
                        Ok(Some(_)) => break,
                        Ok(None) if Instant::now() < deadline => {
                            std::thread::sleep(Duration::from_millis(50))
                        }
                        _ => {
                            let _ = self.child.kill();
                            let _ = self.child.wait();
                            break;
                        }
                    }
                }
                println!("stopped keyward-server (pid {})", self.pid());
            }
        }
        for pid in restarted_copies(&self.restart_argv, self.pid()) {
            println!("stopping keyward-server pid {pid}, restarted by a test and left running");
            terminate(pid);
            std::thread::sleep(Duration::from_millis(500));
            if Path::new(&format!("/proc/{pid}")).exists() {
                signal(pid, "KILL");
            }
        }
    }
}

/// Sends a signal by process id (the shell's `kill` builtin: std has no signal API).
fn signal(pid: u32, name: &str) {
    let _ = Command::new("sh")
        .args([
            "-c",
            "kill -s \"$1\" \"$2\"",
            "kill",
            name,
            &pid.to_string(),
        ])
        .stderr(Stdio::null())
        .status();
}

fn terminate(pid: u32) {
    signal(pid, "TERM");
}

/// Processes (Linux /proc) running keyward-server with this run's data folder, other than
/// `own_pid`.
fn restarted_copies(argv: &[String], own_pid: u32) -> Vec<u32> {
    let Some(data) = argv
        .iter()
        .position(|a| a == "--data")
        .and_then(|i| argv.get(i + 1))
    else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != own_pid)
        .filter(|pid| {
            let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let words: Vec<String> = raw
                .split(|&b| b == 0)
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect();
            is_server_with_data(&words, data)
        })
        .collect()
}

fn is_server_with_data(words: &[String], data: &str) -> bool {
    words
        .first()
        .is_some_and(|program| program.ends_with("keyward-server"))
        && words.windows(2).any(|w| w[0] == "--data" && w[1] == data)
}

/// The `http://...` URL in a line, up to the next whitespace.
pub fn parse_url(line: &str) -> Option<String> {
    let start = line.find("http://")?;
    let url: String = line[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let url = url.trim_end_matches(['.', ',', ';']).to_string();
    (url.len() > "http://".len()).then_some(url)
}

/// `host:port` of an `http://host:port/...` URL (the port must be explicit).
pub fn authority(url: &str) -> Option<String> {
    let rest = url.strip_prefix("http://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (_, port) = authority.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    Some(authority.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_from_the_first_line() {
        assert_eq!(
            parse_url("Keyward is running at http://127.0.0.1:41234/").as_deref(),
            Some("http://127.0.0.1:41234/")
        );
        assert_eq!(
            parse_url("Keyward is running at http://[::1]:8080/ (Ctrl-C to stop)").as_deref(),
            Some("http://[::1]:8080/")
        );
        assert_eq!(
            parse_url("listening on http://127.0.0.1:80.").as_deref(),
            Some("http://127.0.0.1:80")
        );
        assert_eq!(parse_url("Keyward is starting"), None);
        assert_eq!(parse_url("http:// nothing"), None);
    }

    #[test]
    fn authority_of_url() {
        assert_eq!(
            authority("http://127.0.0.1:41234/").as_deref(),
            Some("127.0.0.1:41234")
        );
        assert_eq!(
            authority("http://[::1]:8080/x").as_deref(),
            Some("[::1]:8080")
        );
        assert_eq!(
            authority("http://localhost:9"),
            Some("localhost:9".to_string())
        );
        assert_eq!(authority("http://localhost/"), None);
        assert_eq!(authority("http://[::1]/"), None);
    }

    #[test]
    fn recognises_a_restarted_copy_by_data_folder() {
        let words = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let data = "/tmp/keyward-xtask-1-abc";
        assert!(is_server_with_data(
            &words("/w/target/debug/keyward-server --dist /w/dist --data /tmp/keyward-xtask-1-abc --addr 127.0.0.1:5"),
            data
        ));
        assert!(!is_server_with_data(
            &words("/w/target/debug/keyward-server --data /tmp/other"),
            data
        ));
        assert!(!is_server_with_data(
            &words("sh -c keyward-server --data /tmp/keyward-xtask-1-abc"),
            data
        ));
    }

    /// Writes an executable stand-in `keyward-server` script into `dir`. A child shell writes
    /// it, so no thread of this test process holds it open while another forks (which would
    /// make running it fail with "Text file busy").
    fn stand_in_server(dir: &Path, script: &str) -> PathBuf {
        let program = dir.join("keyward-server");
        let status = Command::new("sh")
            .args(["-c", "printf '%s' \"$1\" > \"$2\" && chmod +x \"$2\"", "sh"])
            .arg(format!("#!/bin/sh\n{script}\n"))
            .arg(&program)
            .status()
            .unwrap();
        assert!(status.success());
        program
    }

    #[test]
    fn start_stop_and_restart_command() {
        // A stand-in server: prints the line, then waits to be stopped.
        let dir = fresh_data_dir().unwrap();
        let program = stand_in_server(
            &dir,
            "echo 'Keyward is running at http://127.0.0.1:45678/'\nexec sleep 30",
        );
        let server = Server::start(&program, Some(Path::new("dist")), &dir).unwrap();
        assert_eq!(server.url, "http://127.0.0.1:45678/");
        assert_eq!(server.addr, "127.0.0.1:45678");
        let cmd = server.restart_command();
        assert!(cmd.ends_with("--addr 127.0.0.1:45678"), "{cmd}");
        assert!(
            cmd.starts_with(&format!("env KEYWARD_SETUP_CODE={} ", server.setup_code)),
            "{cmd}"
        );
        assert!(cmd.contains(&format!("--data {}", dir.display())), "{cmd}");
        let pid = server.pid();
        let started = Instant::now();
        server.stop();
        assert!(started.elapsed() < STOP_GRACE);
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn set_up_codes_are_random_and_well_formed() {
        let (a, b) = (random_setup_code(), random_setup_code());
        assert_ne!(a, b);
        assert_eq!(a.len(), 14, "{a}");
        assert!(a.split('-').all(|part| part.len() == 4), "{a}");
        assert!(a
            .chars()
            .all(|c| c == '-' || c.is_ascii_uppercase() || c.is_ascii_digit()));
    }

    #[test]
    fn lines_before_the_address_are_skipped_and_the_code_is_passed() {
        let dir = fresh_data_dir().unwrap();
        let program = stand_in_server(
            &dir,
            "echo \"Set-up code for a new site (valid 24 hours, once): $KEYWARD_SETUP_CODE\"\necho 'Keyward is running at http://127.0.0.1:45679/'\nexec sleep 30",
        );
        let server = Server::start(&program, Some(Path::new("dist")), &dir).unwrap();
        assert_eq!(server.addr, "127.0.0.1:45679");
        server.stop();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn server_that_exits_without_an_address_is_an_error() {
        let dir = fresh_data_dir().unwrap();
        let program = stand_in_server(&dir, "echo 'oops' >&2\nexit 3");
        let err = Server::start(&program, Some(Path::new("dist")), &dir)
            .err()
            .unwrap();
        assert!(err.contains("exited"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
