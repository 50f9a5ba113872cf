//! Installs the tools the build and tests need, each only when missing or at the wrong version,
//! so a run on a ready machine spends well under a second here.
//!
//! - the `wasm32-unknown-unknown` target (rustup)
//! - trunk `TRUNK_VERSION` (cargo install --locked; trunk 0.22 needs a newer rustc)
//! - wasm-bindgen-cli at exactly the `wasm-bindgen` version in Cargo.lock (cargo install
//!   without --locked: its own lock pins a crate version the registry here lacks). Trunk finds
//!   it on PATH and so never downloads one.
//! - for tests and bench: Debian's chromium and chromium-driver, and tests/e2e's npm packages;
//!   Debian's pebble (the ACME test server) and caddy for keyward-server's HTTPS tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use crate::exec::{cargo, run};

pub const TRUNK_VERSION: &str = "0.21.14";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
const CHROMIUM: &str = "/usr/bin/chromium";
const PDFTOPPM: &str = "/usr/bin/pdftoppm";
const ZBARIMG: &str = "/usr/bin/zbarimg";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// keyward-server's tests/acme.rs (with pebble-challtestsrv, same package) and tests/proxy.rs.
const PEBBLE: &str = "/usr/bin/pebble";
const CADDY: &str = "/usr/bin/caddy";
/// tests/e2e's https.spec.js: trusts the server's CA in the test browser's NSS database.
const CERTUTIL: &str = "/usr/bin/certutil";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Build and run: wasm target, trunk, wasm-bindgen-cli.
    Build,
    /// Also Chromium and the npm packages of tests/e2e.
    Test,
}

/// Cargo's bin folder: `$CARGO_HOME/bin`, else `~/.cargo/bin`.
fn cargo_bin_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        return Some(PathBuf::from(home).join("bin"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo").join("bin"))
}

/// Puts cargo's bin folder (where `cargo install` puts trunk and wasm-bindgen) at the front of
/// PATH for this process and everything it starts, unless PATH already has it.
pub fn put_cargo_bin_on_path() {
    let Some(bin) = cargo_bin_dir() else { return };
    let path = std::env::var_os("PATH").unwrap_or_default();
    if std::env::split_paths(&path).any(|p| p == bin) {
        return;
    }
    let joined = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path)));
    if let Ok(joined) = joined {
        // Single-threaded here: main calls this before starting anything.
        std::env::set_var("PATH", joined);
    }
}

pub fn ensure(root: &Path, needs: Needs) -> Result<(), String> {
    ensure_wasm_target()?;
    ensure_trunk()?;
    ensure_wasm_bindgen(root)?;
    ensure_wasm_opt(root)?;
    if needs == Needs::Test {
        ensure_chromium()?;
        ensure_npm_packages(&root.join(crate::E2E_DIR))?;
    }
    Ok(())
}

/// Stdout of a command that succeeded; `None` if it is missing or failed.
fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `trunk 0.21.14` / `wasm-bindgen 0.2.130` -> the version word.
pub fn parse_version_output(output: &str) -> Option<String> {
    output
        .lines()
        .next()?
        .split_whitespace()
        .nth(1)
        .map(|v| v.trim_start_matches('v').to_string())
}

fn installed_version(program: &str) -> Option<String> {
    parse_version_output(&output_of(program, &["--version"])?)
}

fn ensure_wasm_target() -> Result<(), String> {
    let installed = output_of("rustup", &["target", "list", "--installed"]);
    match installed {
        Some(list) if list.lines().any(|l| l.trim() == WASM_TARGET) => {
            println!("ok: rust target {WASM_TARGET}");
            Ok(())
        }
        Some(_) => {
            println!("installing: rust target {WASM_TARGET}");
            run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
        }
        None => {
            // No rustup (a distribution's Rust, say): check the target's std is there.
            let sysroot = output_of("rustc", &["--print", "sysroot"]).unwrap_or_default();
            let lib = Path::new(sysroot.trim())
                .join("lib/rustlib")
                .join(WASM_TARGET);
            if lib.is_dir() {
                println!("ok: rust target {WASM_TARGET} (no rustup)");
                Ok(())
            } else {
                Err(format!(
                    "the {WASM_TARGET} target is missing and there is no rustup to add it"
                ))
            }
        }
    }
}

/// Makes sure `program --version` reports `want`, installing `crate_name` with cargo if not.
fn ensure_cargo_tool(
    program: &str,
    crate_name: &str,
    want: &str,
    locked: bool,
) -> Result<(), String> {
    let found = installed_version(program);
    if found.as_deref() == Some(want) {
        println!("ok: {program} {want}");
        return Ok(());
    }
    match &found {
        Some(other) => println!("installing: {crate_name} {want} (found {program} {other})"),
        None => println!("installing: {crate_name} {want} ({program} not found; takes minutes)"),
    }
    let mut install = cargo();
    install.args(["install", crate_name, "--version", want]);
    if locked {
        install.arg("--locked");
    }
    run(&mut install)?;
    match installed_version(program) {
        Some(v) if v == want => Ok(()),
        other => Err(format!(
            "installed {crate_name} {want}, but `{program} --version` on PATH reports {}: \
             another {program} comes first on PATH ({})",
            other.as_deref().unwrap_or("nothing"),
            std::env::var("PATH").unwrap_or_default()
        )),
    }
}

fn ensure_trunk() -> Result<(), String> {
    ensure_cargo_tool("trunk", "trunk", TRUNK_VERSION, true)
}

fn ensure_wasm_bindgen(root: &Path) -> Result<(), String> {
    let lock_path = root.join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path)
        .map_err(|e| format!("cannot read {}: {e}", lock_path.display()))?;
    let version = wasm_bindgen_version(&lock)?;
    ensure_cargo_tool("wasm-bindgen", "wasm-bindgen-cli", &version, false)
}

/// Versions of the `[[package]]` entries called `name` in a Cargo.lock.
pub fn lock_versions(lock: &str, name: &str) -> Vec<String> {
    let mut versions = Vec::new();
    let mut current_name: Option<&str> = None;
    let mut current_version: Option<&str> = None;
    let mut flush = |n: Option<&str>, v: Option<&str>| {
        if let (Some(n), Some(v)) = (n, v) {
            if n == name && !versions.iter().any(|x: &String| x == v) {
                versions.push(v.to_string());
            }
        }
    };
    for line in lock.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            flush(current_name.take(), current_version.take());
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        match key.trim() {
            "name" => current_name = Some(value),
            "version" => current_version = Some(value),
            _ => {}
        }
    }
    flush(current_name, current_version);
    versions
}

/// The one `wasm-bindgen` version in Cargo.lock.
pub fn wasm_bindgen_version(lock: &str) -> Result<String, String> {
    let versions = lock_versions(lock, "wasm-bindgen");
    match versions.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err("Cargo.lock has no wasm-bindgen package (run `cargo generate-lockfile`)".into()),
        many => Err(format!(
            "Cargo.lock has several wasm-bindgen versions ({}): trunk needs exactly one",
            many.join(", ")
        )),
    }
}

fn ensure_chromium() -> Result<(), String> {
    if Path::new(CHROMIUM).exists()
        && Path::new(CHROMEDRIVER).exists()
        && Path::new(PDFTOPPM).exists()
        && Path::new(ZBARIMG).exists()
        && Path::new(PEBBLE).exists()
        && Path::new(CADDY).exists()
        && Path::new(CERTUTIL).exists()
    {
        println!(
            "ok: {CHROMIUM}, {CHROMEDRIVER}, {PDFTOPPM}, {ZBARIMG}, {PEBBLE}, {CADDY}, {CERTUTIL}"
        );
        return Ok(());
    }
    println!(
        "installing: chromium, chromium-driver, poppler-utils, zbar-tools, pebble, caddy, libnss3-tools (Debian packages; about a minute)"
    );
    // Wait for a dpkg lock held by another apt rather than fail at once.
    let lock_wait = "DPkg::Lock::Timeout=600";
    let apt = |args: &[&str]| {
        let mut command = Command::new("apt-get");
        command
            .args(["-o", lock_wait])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut command)
            .map_err(|e| format!("{e}\n  (Chromium is needed at {CHROMIUM}; apt-get needs root)"))
    };
    apt(&["update"])?;
    // poppler-utils: pdftoppm renders the printed label sheets for the label tests, and
    // pdftotext -bbox finds where each word of a label printed. zbar-tools: zbarimg reads the
    // printed QR codes with a decoder other than the app's own. pebble: the ACME server
    // keyward-server's certificates are got from in its tests; caddy: the proxy in front.
    // libnss3-tools: certutil, which makes the test browser trust the server's own CA.
    apt(&[
        "install",
        "-y",
        "chromium",
        "chromium-driver",
        "poppler-utils",
        "zbar-tools",
        "pebble",
        "caddy",
        "libnss3-tools",
    ])?;
    if !Path::new(CHROMIUM).exists() {
        return Err(format!(
            "apt-get installed chromium, but {CHROMIUM} is missing"
        ));
    }
    Ok(())
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// wasm-opt 132 from npm's binaryen (Debian's 108 miscompiles), first on PATH so trunk uses it
/// (Trunk.toml pins `wasm_opt = "version_132"`, so trunk would refuse any other).
fn ensure_wasm_opt(root: &Path) -> Result<(), String> {
    let dir = root.join(WASM_OPT_DIR);
    ensure_npm_packages(&dir)?;
    let bin = dir.join("node_modules").join(".bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    if !std::env::split_paths(&path).any(|p| p == bin) {
        let joined = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path)))
            .map_err(|e| e.to_string())?;
        // Single-threaded here: nothing has been started yet.
        std::env::set_var("PATH", joined);
    }
    Ok(())
}

/// Where the npm package that provides wasm-opt is declared.
const WASM_OPT_DIR: &str = "tools/wasm-opt";

/// `npm ci` when node_modules is missing or older than package-lock.json.
fn ensure_npm_packages(e2e: &Path) -> Result<(), String> {
    let lock = e2e.join("package-lock.json");
    let installed = e2e.join("node_modules").join(".package-lock.json");
    let Some(lock_time) = modified(&lock) else {
        return Err(format!("{} is missing", lock.display()));
    };
    let reason = match modified(&installed) {
        None => "node_modules missing",
        Some(t) if t < lock_time => "package-lock.json changed",
        Some(_) => {
            println!("ok: npm packages in {}", e2e.display());
            return Ok(());
        }
    };
    println!("installing: npm packages in {} ({reason})", e2e.display());
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        // Chromium comes from Debian: Playwright must never download a browser.
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .current_dir(e2e))
    .map_err(|e| format!("{e}\n  (Node.js 20 and npm are needed)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"# This file is automatically @generated by Cargo.
version = 4

[[package]]
name = "wasm-bindgen-backend"
version = "0.2.99"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "a0181c14"
dependencies = [
 "cfg-if",
 "wasm-bindgen-macro",
]

[[package]]
name = "xtask"
version = "0.1.0"
"#;

    #[test]
    fn finds_wasm_bindgen_in_cargo_lock() {
        assert_eq!(wasm_bindgen_version(LOCK).unwrap(), "0.2.130");
        assert_eq!(lock_versions(LOCK, "xtask"), ["0.1.0"]);
        assert!(lock_versions(LOCK, "wasm-bindgen-macro").is_empty());
    }

    #[test]
    fn version_first_in_the_entry() {
        let lock = "[[package]]\nversion = \"0.2.5\"\nname = \"wasm-bindgen\"\n";
        assert_eq!(wasm_bindgen_version(lock).unwrap(), "0.2.5");
    }

    #[test]
    fn missing_or_ambiguous_wasm_bindgen_is_an_error() {
        assert!(wasm_bindgen_version("version = 4\n")
            .unwrap_err()
            .contains("no wasm-bindgen"));
        let two = format!("{LOCK}\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.100\"\n");
        let err = wasm_bindgen_version(&two).unwrap_err();
        assert!(err.contains("0.2.130, 0.2.100"), "{err}");
    }

    #[test]
    fn this_workspace_lock_has_one_wasm_bindgen() {
        let lock = std::fs::read_to_string(crate::workspace_root().join("Cargo.lock")).unwrap();
        let version = wasm_bindgen_version(&lock).unwrap();
        assert!(version.starts_with("0.2."), "{version}");
    }

    #[test]
    fn tool_version_output() {
        assert_eq!(
            parse_version_output("trunk 0.21.14\n").as_deref(),
            Some("0.21.14")
        );
        assert_eq!(
            parse_version_output("wasm-bindgen 0.2.130").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(
            parse_version_output("node v20.1.0").as_deref(),
            Some("20.1.0")
        );
        assert_eq!(parse_version_output("trunk"), None);
        assert_eq!(parse_version_output(""), None);
    }
}
