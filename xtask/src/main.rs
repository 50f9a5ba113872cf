//! `cargo xtask`: build, run, test and bench Keyward with one command each.
//!
//! Std only apart from `flate2` (for the gzip column of the size table) and, for the abuse
//! bench, tokio, reqwest and keyward-core. Every subcommand first makes sure the pinned tools are installed (see `tools`), so a
//! fresh machine needs nothing but rustup/cargo and Node.

mod abuse;
mod exec;
mod one_binary;
mod server;
mod sizes;
mod tools;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use exec::{cargo, run, run_teeing, Steps, TestCounts};
use server::Server;

const USAGE: &str = "\
Usage: cargo xtask <command>

Commands:
  run [--addr HOST:PORT] [--http]
                           build the PWA (release) and a release keyward-server carrying
                           it (one binary: target/release/keyward-server), then serve it
                           (default address 127.0.0.1:8080; data in ./data); Ctrl-C stops it.
                           Beyond localhost (e.g. --addr 0.0.0.0:8080) it serves HTTPS with a
                           certificate authority of its own (data/tls), plain HTTP on PORT+1
                           redirecting to it, and prints the phone addresses, a QR code and
                           the /ca page that installs the CA; --http serves plain HTTP instead
  test                     fmt, clippy (host and wasm), cargo test, release build with sizes,
                           the one binary serving every file of the build alone, browser tests (Playwright + Chromium) against a fresh server
  e2e [SPEC ...]           release build, fresh server, then only the named Playwright specs
                           (e.g. `cargo xtask e2e lost-key`); all of them when none is named
  bench [-- ARGS]          release build, fresh server, `node bench/register.mjs ARGS` in tests/e2e,
                           then keyward-server's sync bench (examples/sync_bench.rs), then the
                           abuse bench
  bench abuse              only the abuse bench: a release keyward-server under 1,000 idle
                           connections and 400 bad sign-ins while a person signs in and pushes
  setup                    only install the missing tools (wasm target, trunk, wasm-bindgen-cli)
  help                     this text

Each command installs what is missing first: the wasm32 target, trunk, wasm-bindgen-cli at the
version in Cargo.lock, and for test/bench Debian's chromium + chromium-driver and tests/e2e's npm
packages.";

const DEFAULT_ADDR: &str = "127.0.0.1:8080";
const SERVER_BIN: &str = "keyward-server";
const E2E_DIR: &str = "tests/e2e";
const BENCH_SCRIPT: &str = "bench/register.mjs";
const BENCH_OUT_DIR: &str = "bench-results";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    tools::put_cargo_bin_on_path();
    let result = match args.first().map(String::as_str) {
        None | Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("run") => parse_run_args(&args[1..]).and_then(|run| cmd_run(&root, &run)),
        Some("test") => no_more_args("test", &args[1..]).and_then(|()| cmd_test(&root)),
        Some("bench") if args.get(1).is_some_and(|a| a == "abuse") => {
            no_more_args("bench abuse", &args[2..]).and_then(|()| cmd_bench_abuse(&root))
        }
        Some("bench") => cmd_bench(&root, bench_args(&args[1..])),
        Some("e2e") => cmd_e2e(&root, &args[1..]),
        Some("setup") => no_more_args("setup", &args[1..]).and_then(|()| cmd_setup(&root)),
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("\nxtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask lives in `<root>/xtask`.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

fn no_more_args(command: &str, rest: &[String]) -> Result<(), String> {
    match rest.first() {
        None => Ok(()),
        Some(extra) => Err(format!(
            "`{command}` takes no arguments (got `{extra}`)\n\n{USAGE}"
        )),
    }
}

/// What `run` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RunArgs {
    addr: String,
    /// `--http`: plain HTTP even beyond localhost.
    plain: bool,
}

/// `run [--addr HOST:PORT] [--http]` (also `--addr=HOST:PORT`).
fn parse_run_args(rest: &[String]) -> Result<RunArgs, String> {
    let mut run = RunArgs {
        addr: DEFAULT_ADDR.to_string(),
        plain: false,
    };
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        if arg == "--addr" {
            run.addr = it
                .next()
                .ok_or("`--addr` needs a value, e.g. --addr 127.0.0.1:8080")?
                .clone();
        } else if let Some(value) = arg.strip_prefix("--addr=") {
            run.addr = value.to_string();
        } else if arg == "--http" {
            run.plain = true;
        } else {
            return Err(format!("unknown argument `{arg}` for `run`\n\n{USAGE}"));
        }
    }
    Ok(run)
}

/// `HOST:PORT` split; `[::1]:80` keeps its brackets.
fn split_addr(addr: &str) -> Option<(&str, u16)> {
    let (host, port) = addr.rsplit_once(':')?;
    Some((host, port.parse().ok()?))
}

/// Whether `addr` listens on this computer alone (a browser there treats it as secure).
fn is_loopback(addr: &str) -> bool {
    let host = split_addr(addr).map_or(addr, |(host, _)| host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// keyward-server's arguments for `run`: beyond localhost (unless `--http`), HTTPS with the
/// local CA, plain HTTP on the next port redirecting to it, and the QR code.
fn server_args(run: &RunArgs) -> Vec<String> {
    let mut args: Vec<String> = ["--data", "data", "--addr", &run.addr]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if run.plain || is_loopback(&run.addr) {
        return args;
    }
    args.extend(["--tls-local".to_string(), "--qr".to_string()]);
    if let Some((host, port)) = split_addr(&run.addr) {
        let redirect = match port {
            0 => Some(0),
            port => port.checked_add(1),
        };
        if let Some(redirect) = redirect {
            args.extend(["--http-redirect".to_string(), format!("{host}:{redirect}")]);
        }
    }
    args
}

/// Arguments after `bench` go to the bench script (a leading `--` is dropped).
fn bench_args(rest: &[String]) -> Vec<String> {
    match rest.split_first() {
        Some((first, tail)) if first == "--" => tail.to_vec(),
        _ => rest.to_vec(),
    }
}

fn cmd_setup(root: &Path) -> Result<(), String> {
    tools::ensure(root, tools::Needs::Build)
}

fn trunk_build(root: &Path) -> Result<(), String> {
    run(Command::new("trunk")
        .args(["build", "--release"])
        .current_dir(root)
        // The version check asks crates.io for a newer trunk: noise, and we pin 0.21.14.
        .env("TRUNK_SKIP_VERSION_CHECK", "true"))
}

fn build_server(root: &Path) -> Result<(), String> {
    // Debug profile on purpose: it compiles fast and the hot crates are optimised in
    // [profile.dev.package.*] of the workspace Cargo.toml.
    run(cargo()
        .args(["build", "--package", SERVER_BIN])
        .current_dir(root))
}

/// Cargo's target folder: `$CARGO_TARGET_DIR` if set, else `<root>/target`.
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root.join(dir),
        _ => root.join("target"),
    }
}

fn server_program(root: &Path) -> PathBuf {
    target_dir(root)
        .join("debug")
        .join(format!("{SERVER_BIN}{}", std::env::consts::EXE_SUFFIX))
}

fn cmd_run(root: &Path, run: &RunArgs) -> Result<(), String> {
    let mut steps = Steps::default();
    steps.run("ensure tools", || tools::ensure(root, tools::Needs::Build))?;
    steps.run("trunk build --release", || trunk_build(root))?;
    steps.run("build keyward-server (release, app inside)", || {
        one_binary::build(root)
    })?;

    let mut command = Command::new(one_binary::program(root));
    let args = server_args(run);
    command.args(&args).current_dir(root);
    println!("\n$ {}  (Ctrl-C to stop)", exec::describe(&command));
    if args.iter().any(|a| a == "--tls-local") {
        println!(
            "Listening beyond this computer, so served over HTTPS (phones allow offline use and the camera only then), with a certificate authority of this server's own in data/tls. Install it on each phone from the /ca page below, then scan the QR code. `cargo xtask run --addr {} --http` serves plain HTTP instead.",
            run.addr
        );
    }
    println!(
        "To put a site on this server, type the set-up code it prints below (\"Set-up code for a new site\") in the app's Sync page."
    );
    exec::replace_process(&mut command)
}

fn cmd_test(root: &Path) -> Result<(), String> {
    let started = Instant::now();
    let mut steps = Steps::default();
    let mut counts = TestCounts::default();
    let result = test_steps(root, &mut steps, &mut counts);
    steps.print_summary();
    let elapsed = started.elapsed().as_secs_f64();
    match result {
        Ok(()) => {
            println!(
                "cargo test: {}; playwright: {}; all {} steps passed in {elapsed:.0}s",
                counts.cargo,
                counts.playwright,
                steps.len()
            );
            // The closing line, in the plain `N passed, N failed` form.
            println!("tests: {}", counts.total());
            Ok(())
        }
        Err(message) => {
            println!("xtask test FAILED after {elapsed:.0}s");
            Err(message)
        }
    }
}

fn test_steps(root: &Path, steps: &mut Steps, counts: &mut TestCounts) -> Result<(), String> {
    steps.run("ensure tools", || tools::ensure(root, tools::Needs::Test))?;
    steps.run("cargo fmt --check", || {
        run(cargo().args(["fmt", "--all", "--check"]).current_dir(root))
            .map_err(|e| format!("{e}\n  (run `cargo fmt --all` to fix the formatting)"))
    })?;
    // The root `keyward` package is the wasm app: it is linted for wasm32 below, where it
    // really compiles, and left out of every host step.
    steps.run("cargo clippy (host)", || {
        run(cargo()
            .args([
                "clippy",
                "--workspace",
                "--exclude",
                "keyward",
                "--all-targets",
            ])
            .args(["--", "-D", "warnings"])
            .current_dir(root))
    })?;
    steps.run("cargo clippy (wasm app)", || {
        run(cargo()
            .args(["clippy", "--package", "keyward"])
            .args(["--target", "wasm32-unknown-unknown"])
            .args(["--", "-D", "warnings"])
            .current_dir(root))
    })?;
    steps.run("cargo test (host)", || {
        run_teeing(
            cargo()
                .args(["test", "--workspace", "--exclude", "keyward"])
                .current_dir(root),
            |line| counts.cargo.add_cargo_line(line),
        )
    })?;
    steps.run("trunk build --release", || trunk_build(root))?;
    steps.run("release sizes", || {
        let rows = sizes::measure(&root.join("dist"))?;
        print!("{}", sizes::table(&rows));
        Ok(())
    })?;
    steps.run("build keyward-server (release, app inside)", || {
        one_binary::build(root)
    })?;
    steps.run("one binary serves the app", || one_binary::check(root))?;
    steps.run("build keyward-server", || build_server(root))?;
    steps.run("browser tests (playwright)", || {
        with_server(root, |server| {
            run_teeing(
                server
                    .apply_env(&mut npx_playwright())
                    .current_dir(root.join(E2E_DIR)),
                |line| counts.playwright.add_playwright_line(line),
            )?;
            if counts.playwright.passed + counts.playwright.failed == 0 {
                return Err("Playwright ran no test".into());
            }
            Ok(())
        })
    })
}

/// The browser tests alone (named specs, or all), against a fresh release build: the quick
/// loop while working on a screen.
fn cmd_e2e(root: &Path, specs: &[String]) -> Result<(), String> {
    let mut steps = Steps::default();
    steps.run("ensure tools", || tools::ensure(root, tools::Needs::Test))?;
    steps.run("trunk build --release", || trunk_build(root))?;
    steps.run("build keyward-server", || build_server(root))?;
    steps.run("browser tests (playwright)", || {
        with_server(root, |server| {
            let mut command = npx_playwright();
            command.args(specs);
            run(server
                .apply_env(&mut command)
                .current_dir(root.join(E2E_DIR)))
        })
    })?;
    steps.print_summary();
    Ok(())
}

fn npx_playwright() -> Command {
    let mut command = Command::new("npx");
    // `--no`: never fetch a package; use tests/e2e/node_modules only.
    command.args(["--no", "playwright", "test"]);
    command
}

fn cmd_bench(root: &Path, script_args: Vec<String>) -> Result<(), String> {
    let e2e = root.join(E2E_DIR);
    let script = e2e.join(BENCH_SCRIPT);
    if !script.is_file() {
        return Err(format!(
            "the bench script {} is missing: nothing to run",
            script.display()
        ));
    }
    let mut steps = Steps::default();
    steps.run("ensure tools", || tools::ensure(root, tools::Needs::Test))?;
    steps.run("trunk build --release", || trunk_build(root))?;
    steps.run("build keyward-server", || build_server(root))?;
    steps.run("bench", || {
        let out_dir = e2e.join(BENCH_OUT_DIR);
        std::fs::create_dir_all(&out_dir)
            .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
        with_server(root, |server| {
            let mut command = Command::new("node");
            command.arg(BENCH_SCRIPT).args(&script_args);
            run(server
                .apply_env(&mut command)
                .env("KEYWARD_BENCH_OUT", &out_dir)
                .current_dir(&e2e))
        })
    })?;
    // The sync server: 10,000 changes pushed over loopback vs plain INSERTs (SQLite, PostgreSQL).
    steps.run("sync bench (keyward-server)", || {
        run(cargo()
            .args(["run", "--release", "--package", SERVER_BIN])
            .args(["--example", "sync_bench"])
            .current_dir(root))
    })?;
    // An audit of 20,000 lockers (keyward-core, native code): each tick to the next locker
    // ready, and completing it with its report; an area, then the whole site.
    steps.run("audit bench (keyward-core)", || audit_bench(root))?;
    steps.run("abuse bench (keyward-server)", || abuse::bench(root))?;
    steps.print_summary();
    Ok(())
}

fn audit_bench(root: &Path) -> Result<(), String> {
    let example = |name: &str| {
        let mut command = cargo();
        command
            .args(["run", "--release", "--quiet", "--package", "keyward-core"])
            .args(["--example", name, "--"])
            .current_dir(root);
        command
    };
    let mut generate = example("generate");
    generate.arg("20000");
    println!("$ {}", exec::describe(&generate));
    let register = generate
        .output()
        .map_err(|e| format!("cannot run the generate example: {e}"))?;
    if !register.status.success() {
        return Err("the generate example failed".into());
    }
    let file =
        std::env::temp_dir().join(format!("keyward-audit-bench-{}.json", std::process::id()));
    std::fs::write(&file, &register.stdout)
        .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    let result = run(example("audit_speed").arg(&file).arg("2000"))
        .and_then(|()| run(example("audit_speed").arg(&file).args(["500", "site"])));
    let _ = std::fs::remove_file(&file);
    result
}

fn cmd_bench_abuse(root: &Path) -> Result<(), String> {
    let mut steps = Steps::default();
    steps.run("abuse bench (keyward-server)", || abuse::bench(root))?;
    steps.print_summary();
    Ok(())
}

/// Starts a fresh server (empty data folder in the temp dir) on a free port, runs `body`, then
/// stops the server whatever happened; the data folder is removed unless `body` failed.
fn with_server(
    root: &Path,
    body: impl FnOnce(&Server) -> Result<(), String>,
) -> Result<(), String> {
    let data = server::fresh_data_dir()?;
    let server = Server::start(&server_program(root), Some(&root.join("dist")), &data)?;
    let result = body(&server);
    server.stop();
    match result {
        Ok(()) => {
            let _ = std::fs::remove_dir_all(&data);
            Ok(())
        }
        Err(e) => {
            println!("(server data kept for a look: {})", data.display());
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    fn addr_of(args: &[&str]) -> String {
        parse_run_args(&strings(args)).unwrap().addr
    }

    #[test]
    fn run_args() {
        assert_eq!(addr_of(&[]), DEFAULT_ADDR);
        assert_eq!(addr_of(&["--addr", "0.0.0.0:9000"]), "0.0.0.0:9000");
        assert_eq!(addr_of(&["--addr=[::1]:80"]), "[::1]:80");
        assert!(!parse_run_args(&[]).unwrap().plain);
        assert!(
            parse_run_args(&strings(&["--http", "--addr", "0.0.0.0:1"]))
                .unwrap()
                .plain
        );
        assert!(parse_run_args(&strings(&["--addr"])).is_err());
        assert!(parse_run_args(&strings(&["--port", "1"])).is_err());
    }

    fn server_args_for(args: &[&str]) -> String {
        server_args(&parse_run_args(&strings(args)).unwrap()).join(" ")
    }

    #[test]
    fn beyond_localhost_is_https_with_the_local_ca() {
        let plain = "--data data --addr";
        assert_eq!(server_args_for(&[]), format!("{plain} 127.0.0.1:8080"));
        for local in ["localhost:8080", "127.0.0.2:80", "[::1]:8080"] {
            assert_eq!(
                server_args_for(&["--addr", local]),
                format!("{plain} {local}")
            );
        }
        assert_eq!(
            server_args_for(&["--addr", "0.0.0.0:8080"]),
            format!("{plain} 0.0.0.0:8080 --tls-local --qr --http-redirect 0.0.0.0:8081")
        );
        assert_eq!(
            server_args_for(&["--addr", "[::]:0"]),
            format!("{plain} [::]:0 --tls-local --qr --http-redirect [::]:0")
        );
        assert_eq!(
            server_args_for(&["--addr", "192.168.1.20:65535"]),
            format!("{plain} 192.168.1.20:65535 --tls-local --qr")
        );
        assert_eq!(
            server_args_for(&["--addr", "0.0.0.0:8080", "--http"]),
            format!("{plain} 0.0.0.0:8080")
        );
    }

    #[test]
    fn bench_args_drop_leading_separator() {
        assert_eq!(
            bench_args(&strings(&["--", "-n", "5"])),
            strings(&["-n", "5"])
        );
        assert_eq!(bench_args(&strings(&["-n", "5"])), strings(&["-n", "5"]));
        assert!(bench_args(&[]).is_empty());
    }

    /// Every link the README names as `Screen → "Link words"` is words the app really shows
    /// (a string in the app's source), so a reader finds the link they are told to tap.
    #[test]
    fn readme_names_real_links() {
        let root = workspace_root();
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        let mut app = String::new();
        let mut dirs = vec![root.join("src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    app.push_str(&std::fs::read_to_string(path).unwrap());
                }
            }
        }
        let mut named = 0;
        for part in readme.split("→ \"").skip(1) {
            let words = part.split('"').next().unwrap();
            let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                app.contains(&format!("\"{words}\"")),
                "README.md names a link \"{words}\" that the app does not show"
            );
            named += 1;
        }
        assert!(
            named >= 1,
            "README.md names no link; this test would check nothing"
        );
    }

    /// The service worker's build id depends on what is built, not on the order trunk
    /// happened to write the snippets' preload links in: the same build gives the same id.
    #[test]
    fn the_same_build_gets_the_same_service_worker() {
        let root = workspace_root();
        let links = [
            r#"<link rel="modulepreload" href="/keyward-1.js">"#,
            r#"<link rel="modulepreload" href="/snippets/k/inline0.js">"#,
            r#"<link rel="modulepreload" href="/snippets/k/inline1.js">"#,
        ];
        let sw_for = |order: [usize; 3], extra: &str| {
            let dir = std::env::temp_dir().join(format!(
                "keyward-sw-{}-{}{}{}{extra}",
                std::process::id(),
                order[0],
                order[1],
                order[2]
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let head: String = order.iter().map(|&i| links[i]).collect();
            std::fs::write(
                dir.join("index.html"),
                format!("<html><head>{head}<link rel=\"preload\" href=\"/k.wasm\"></head>{extra}</html>\n"),
            )
            .unwrap();
            std::fs::write(dir.join("keyward-1.js"), "js").unwrap();
            let status = Command::new("sh")
                .arg(root.join("tools/sw-build.sh"))
                .env("TRUNK_STAGING_DIR", &dir)
                .env("TRUNK_SOURCE_DIR", &root)
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
            let sw = std::fs::read_to_string(dir.join("sw.js")).unwrap();
            std::fs::remove_dir_all(&dir).unwrap();
            sw
        };
        let first = sw_for([0, 1, 2], "");
        assert!(!first.contains("__BUILD_ID__"));
        assert_eq!(
            first,
            sw_for([2, 0, 1], ""),
            "preload order changed the build id"
        );
        assert_eq!(first, sw_for([1, 2, 0], ""));
        assert_ne!(
            first,
            sw_for([0, 1, 2], "changed"),
            "a change must change the build id"
        );
    }

    #[test]
    fn root_has_the_workspace_manifest() {
        assert!(workspace_root().join("Cargo.toml").is_file());
        assert!(workspace_root().join("xtask").is_dir());
    }
}
