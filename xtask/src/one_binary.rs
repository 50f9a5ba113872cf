//! One binary: the release `keyward-server` built with the app inside (the `embed` feature),
//! the program an operator copies and `cargo xtask run` serves.
//!
//! The check copies that binary alone into an empty folder, starts it there with no
//! `--dist`, and fetches every file of `dist/` from it: each must come back byte for byte
//! with a type, and a client route must get `index.html`. So a binary that fell back to a
//! folder, or missed a file of the build, fails here rather than on a phone.

use std::path::{Path, PathBuf};

use crate::exec::{cargo, run};
use crate::server::{self, Server};

/// The release server with the app inside, built from `dist/` (which must be built first).
pub fn build(root: &Path) -> Result<(), String> {
    if !root.join("dist").join("index.html").is_file() {
        return Err("dist/ has no index.html: run `trunk build --release` first".into());
    }
    run(cargo()
        .args(["build", "--release", "--package", crate::SERVER_BIN])
        .args(["--features", "embed"])
        .current_dir(root))
}

/// The release server's path.
pub fn program(root: &Path) -> PathBuf {
    crate::target_dir(root).join("release").join(format!(
        "{}{}",
        crate::SERVER_BIN,
        std::env::consts::EXE_SUFFIX
    ))
}

/// Runs the check described above and prints what it served.
pub fn check(root: &Path) -> Result<(), String> {
    let scratch = server::fresh_data_dir()?;
    let copy = scratch.join(crate::SERVER_BIN);
    std::fs::copy(program(root), &copy)
        .map_err(|e| format!("cannot copy the release server to {}: {e}", copy.display()))?;
    let size = std::fs::metadata(&copy).map(|m| m.len()).unwrap_or(0);
    let server = Server::start(&copy, None, &scratch.join("data"))?;
    let files = dist_files(&root.join("dist"))?;
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))
        .and_then(|rt| rt.block_on(fetch_all(&server.url, &root.join("dist"), &files)));
    server.stop();
    let bytes = result?;
    let _ = std::fs::remove_dir_all(&scratch);
    println!(
        "one binary: {:.1} MiB, alone in an empty folder, served all {} files of dist/ ({:.0} KiB) byte for byte, and index.html for a client route",
        size as f64 / (1024.0 * 1024.0),
        files.len(),
        bytes as f64 / 1024.0
    );
    Ok(())
}

/// Every file under `dist`, as paths relative to it with `/` separators.
fn dist_files(dist: &Path) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    let mut folders = vec![dist.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder)
            .map_err(|e| format!("cannot read {}: {e}", folder.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                folders.push(path);
            } else if let Ok(rest) = path.strip_prefix(dist) {
                found.push(rest.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Fetches each file and a client route; the bytes fetched.
async fn fetch_all(base: &str, dist: &Path, files: &[String]) -> Result<u64, String> {
    let client = reqwest::Client::new();
    let base = base.trim_end_matches('/');
    let mut total = 0u64;
    let get = |path: String| {
        let client = client.clone();
        async move {
            let url = format!("{base}/{path}");
            let res = client
                .get(&url)
                .send()
                .await
                .map_err(|e| format!("GET {url}: {e}"))?;
            let status = res.status();
            let typed = res.headers().contains_key(reqwest::header::CONTENT_TYPE);
            let body = res.bytes().await.map_err(|e| format!("GET {url}: {e}"))?;
            if !status.is_success() || !typed {
                return Err(format!("GET {url}: {status}, with a type: {typed}"));
            }
            Ok::<_, String>(body)
        }
    };
    for name in files {
        let body = get(name.clone()).await?;
        let expected = std::fs::read(dist.join(name)).map_err(|e| e.to_string())?;
        if body.as_ref() != expected.as_slice() {
            return Err(format!(
                "/{name}: the binary served {} bytes that differ from dist/'s {} bytes",
                body.len(),
                expected.len()
            ));
        }
        total += body.len() as u64;
    }
    let route = get("lockers/any/issue".into()).await?;
    let index = std::fs::read(dist.join("index.html")).map_err(|e| e.to_string())?;
    if route.as_ref() != index.as_slice() {
        return Err("a client route did not get the built index.html".into());
    }
    Ok(total)
}
