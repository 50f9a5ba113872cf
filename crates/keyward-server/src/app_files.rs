//! Where the app's files come from: a folder on disk (trunk's `dist/`), or the files built
//! into this binary.
//!
//! An operator copies one file: a release `keyward-server` built with the `embed` feature
//! (`cargo xtask run` builds it so) carries the whole built PWA, and serves it when no
//! `--dist` is given. The same rules apply either way ([`crate::static_files`]: types, cache
//! classes, the SPA fallback, the policy of `index.html`); files in memory add an `ETag` (a
//! hash of the content, made when the binary was built), so a browser revalidating
//! `index.html` or `sw.js` gets a cheap `304`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// The app's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppFiles {
    /// Trunk's output folder, read on each request (a new build is served at once).
    Folder(PathBuf),
    /// Files held in memory: those built into the binary, or a folder read once.
    Memory(Arc<Files>),
}

impl AppFiles {
    /// The files built into this binary, if it was built with them (the `embed` feature,
    /// after `trunk build --release`).
    pub fn built_in() -> Option<AppFiles> {
        Files::built_in().map(|files| AppFiles::Memory(Arc::new(files)))
    }

    /// `index.html`'s text (empty when it is missing or not UTF-8).
    pub fn index_html(&self) -> String {
        match self {
            AppFiles::Folder(dir) => {
                std::fs::read_to_string(dir.join("index.html")).unwrap_or_default()
            }
            AppFiles::Memory(files) => files
                .get("index.html")
                .and_then(|file| String::from_utf8(file.data.to_vec()).ok())
                .unwrap_or_default(),
        }
    }

    /// Whether there is an `index.html` to serve.
    pub fn has_index(&self) -> bool {
        match self {
            AppFiles::Folder(dir) => dir.join("index.html").is_file(),
            AppFiles::Memory(files) => files.get("index.html").is_some(),
        }
    }

    /// Where the files come from, for messages.
    pub fn describe(&self) -> String {
        match self {
            AppFiles::Folder(dir) => format!("the folder {}", crate::show(dir)),
            AppFiles::Memory(files) => files.origin.clone(),
        }
    }
}

/// One file held in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub data: Cow<'static, [u8]>,
    /// The `Content-Type`, guessed from the name as `ServeDir` does.
    pub mime: String,
    /// A strong `ETag`, quoted: the start of the content's SHA-256.
    pub etag: String,
}

impl File {
    fn new(name: &str, data: Cow<'static, [u8]>, sha256: [u8; 32]) -> File {
        File {
            mime: mime_guess::from_path(name)
                .first_raw()
                .unwrap_or("application/octet-stream")
                .to_string(),
            etag: format!("\"{}\"", hex::encode(&sha256[..16])),
            data,
        }
    }
}

/// Files by path relative to the app's root, with `/` separators (`index.html`,
/// `snippets/x/inline0.js`).
#[derive(Debug, PartialEq, Eq)]
pub struct Files {
    by_path: HashMap<String, File>,
    origin: String,
}

impl Files {
    /// The file at `path` (relative, no leading `/`).
    pub fn get(&self, path: &str) -> Option<&File> {
        self.by_path.get(path)
    }

    /// How many files there are.
    pub fn len(&self) -> usize {
        self.by_path.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }

    /// Every file of `dir` (and its sub-folders), read now into memory.
    pub fn read_folder(dir: &Path) -> io::Result<Files> {
        let mut by_path = HashMap::new();
        let mut folders = vec![dir.to_path_buf()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder)? {
                let entry = entry?;
                let path = entry.path();
                if entry.file_type()?.is_dir() {
                    folders.push(path);
                    continue;
                }
                let Some(name) = relative_name(dir, &path) else {
                    continue;
                };
                let data = std::fs::read(&path)?;
                let sha256 = Sha256::digest(&data).into();
                let file = File::new(&name, Cow::Owned(data), sha256);
                by_path.insert(name, file);
            }
        }
        Ok(Files {
            by_path,
            origin: format!("the files read from {}", crate::show(dir)),
        })
    }

    #[cfg(feature = "embed")]
    fn built_in() -> Option<Files> {
        let by_path: HashMap<String, File> = Built::iter()
            .filter_map(|name| {
                let file = Built::get(&name)?;
                let sha256 = file.metadata.sha256_hash();
                Some((name.to_string(), File::new(&name, file.data, sha256)))
            })
            .collect();
        Some(Files {
            by_path,
            origin: "the app built into this binary".to_string(),
        })
    }

    #[cfg(not(feature = "embed"))]
    fn built_in() -> Option<Files> {
        None
    }
}

/// The release build of the PWA, taken into the binary at compile time. Building with the
/// `embed` feature needs `dist/` built first (`trunk build --release`); without it the
/// binary serves a folder.
#[cfg(feature = "embed")]
#[derive(rust_embed::RustEmbed)]
#[folder = "$CARGO_MANIFEST_DIR/../../dist/"]
struct Built;

/// `path` relative to `root`, with `/` separators; `None` for a name that is not UTF-8.
fn relative_name(root: &Path, path: &Path) -> Option<String> {
    let rest = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = rest.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_read_into_memory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("snippets/x")).unwrap();
        std::fs::write(dir.path().join("index.html"), "<!doctype html>").unwrap();
        std::fs::write(dir.path().join("snippets/x/inline0.js"), "export {}").unwrap();
        let files = Files::read_folder(dir.path()).unwrap();
        assert_eq!(files.len(), 2);
        let index = files.get("index.html").unwrap();
        assert_eq!(index.mime, "text/html");
        assert_eq!(index.data.as_ref(), b"<!doctype html>");
        assert_eq!(index.etag.len(), 34, "{}", index.etag);
        assert_eq!(
            files.get("snippets/x/inline0.js").unwrap().mime,
            "text/javascript"
        );
        let app = AppFiles::Memory(Arc::new(files));
        assert!(app.has_index());
        assert_eq!(app.index_html(), "<!doctype html>");
    }
}
