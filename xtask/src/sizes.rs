//! Sizes of the release build's .wasm, .js and .css files, raw and gzipped.

use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;

const EXTENSIONS: [&str; 3] = ["wasm", "js", "css"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Path under dist/, with `/` separators.
    pub name: String,
    pub raw: u64,
    pub gzip: u64,
}

/// Every .wasm, .js and .css file under `dist` (recursively), sorted by kind then name.
pub fn measure(dist: &Path) -> Result<Vec<Row>, String> {
    if !dist.is_dir() {
        return Err(format!("{} does not exist: build first", dist.display()));
    }
    let mut rows = Vec::new();
    collect(dist, "", &mut rows)?;
    if !rows.iter().any(|r| r.name.ends_with(".wasm")) {
        return Err(format!(
            "no .wasm file in {}: did trunk build the app?",
            dist.display()
        ));
    }
    rows.sort_by_key(|r| (kind_rank(&r.name), r.name.clone()));
    Ok(rows)
}

fn kind_rank(name: &str) -> usize {
    EXTENSIONS
        .iter()
        .position(|ext| name.ends_with(&format!(".{ext}")))
        .unwrap_or(EXTENSIONS.len())
}

fn collect(dir: &Path, prefix: &str, rows: &mut Vec<Row>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = entry.path();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if path.is_dir() {
            collect(&path, &format!("{name}/"), rows)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e))
        {
            let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            rows.push(Row {
                name,
                raw: data.len() as u64,
                gzip: gzip_len(&data),
            });
        }
    }
    Ok(())
}

/// Size of `data` gzipped at the best level (as `gzip -9`).
pub fn gzip_len(data: &[u8]) -> u64 {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder
        .write_all(data)
        .and_then(|()| encoder.finish())
        .map(|out| out.len() as u64)
        .expect("gzip into memory cannot fail")
}

/// `512 B`, `1.5 KiB`, `190.3 KiB`, `1.25 MiB`.
pub fn human(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} B")
    } else if b < KIB * KIB {
        format!("{:.1} KiB", b / KIB)
    } else {
        format!("{:.2} MiB", b / KIB / KIB)
    }
}

/// The size table, totals last.
pub fn table(rows: &[Row]) -> String {
    let total_raw: u64 = rows.iter().map(|r| r.raw).sum();
    let total_gzip: u64 = rows.iter().map(|r| r.gzip).sum();
    let width = rows
        .iter()
        .map(|r| r.name.chars().count())
        .chain([5])
        .max()
        .unwrap_or(5);
    let mut out = String::from("release sizes (dist/):\n");
    let mut line = |name: &str, raw: &str, gzip: &str| {
        out.push_str(&format!("  {name:<width$}  {raw:>10}  {gzip:>10}\n"));
    };
    line("file", "raw", "gzip -9");
    for r in rows {
        line(&r.name, &human(r.raw), &human(r.gzip));
    }
    line("total", &human(total_raw), &human(total_gzip));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(human(0), "0 B");
        assert_eq!(human(1023), "1023 B");
        assert_eq!(human(1024), "1.0 KiB");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(194_867), "190.3 KiB");
        assert_eq!(human(1024 * 1024 * 5 / 4), "1.25 MiB");
    }

    #[test]
    fn gzip_shrinks_repetitive_data_and_has_a_header() {
        let data = "keyward ".repeat(10_000);
        let gz = gzip_len(data.as_bytes());
        assert!(gz < 500, "{gz}");
        // 10-byte header + 8-byte trailer + at least an empty block.
        assert!(gzip_len(b"") >= 20);
    }

    #[test]
    fn table_lists_files_and_totals() {
        let rows = vec![
            Row {
                name: "keyward-1a2b_bg.wasm".into(),
                raw: 400_000,
                gzip: 150_000,
            },
            Row {
                name: "keyward-1a2b.js".into(),
                raw: 30_000,
                gzip: 6_000,
            },
        ];
        let table = table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 5, "{table}");
        assert!(lines[1].contains("raw") && lines[1].contains("gzip -9"));
        assert!(lines[2].starts_with("  keyward-1a2b_bg.wasm"));
        assert!(lines[2].ends_with("390.6 KiB   146.5 KiB"), "{}", lines[2]);
        assert!(lines[4].starts_with("  total"));
        assert!(lines[4].ends_with("419.9 KiB   152.3 KiB"), "{}", lines[4]);
    }

    #[test]
    fn measure_walks_dist() {
        let dir = std::env::temp_dir().join(format!("keyward-xtask-sizes-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("snippets/x")).unwrap();
        std::fs::write(dir.join("app_bg.wasm"), [0u8; 2000]).unwrap();
        std::fs::write(dir.join("app.js"), "export {}").unwrap();
        std::fs::write(dir.join("snippets/x/inline0.js"), "x").unwrap();
        std::fs::write(dir.join("style.css"), "a{}").unwrap();
        std::fs::write(dir.join("index.html"), "<html>").unwrap();
        let rows = measure(&dir).unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "app_bg.wasm",
                "app.js",
                "snippets/x/inline0.js",
                "style.css"
            ]
        );
        assert_eq!(rows[0].raw, 2000);
        assert!(rows[0].gzip < 100);

        std::fs::remove_file(dir.join("app_bg.wasm")).unwrap();
        assert!(measure(&dir).unwrap_err().contains("no .wasm"));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(measure(&dir).unwrap_err().contains("does not exist"));
    }
}
