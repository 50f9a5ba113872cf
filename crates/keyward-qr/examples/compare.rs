//! Compares QR decoders on the hard frames in `tests/fixtures/frames/` (made by
//! `examples/frames.rs`): for each decoder, how many frames of each kind it reads (the right
//! text) and the time per frame (median and 95th percentile, on this host's release build):
//!
//!     cargo run --release -p keyward-qr --example compare [-- <runs> [<video.y4m> <payload>]]
//!
//! The decoders: the app's path before this crate (the frame scaled to 640 wide, as the page's
//! canvas did, then rqrr); rqrr on the whole frame and on variants of it (sharpened, binarised,
//! enlarged); ZXing's port (rxing), with and without "try harder", and on the same variants;
//! [`keyward_qr::read`] (the app's now). With a Y4M video (`label_video`'s), its frames are measured
//! instead of the committed frames (and its first written beside it as a PNG).

use keyward_qr::{attempt, binarise, enlarge, read, rqrr, rxing, sharpen, to_width, Frame, Image};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

struct Sample {
    kind: String,
    size: String,
    payload: String,
    image: Image,
}

/// The first frame of a Y4M video (its luma plane).
fn load_y4m(path: &str, payload: &str) -> Vec<Sample> {
    let bytes = std::fs::read(path).expect("a Y4M video");
    let header_end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .expect("a Y4M header");
    let header = std::str::from_utf8(&bytes[..header_end]).expect("a text header");
    let field = |c: char| -> usize {
        header
            .split(' ')
            .find_map(|f| f.strip_prefix(c))
            .and_then(|v| v.parse().ok())
            .expect("W and H")
    };
    let (width, height) = (field('W'), field('H'));
    let frame_len = "FRAME\n".len() + width * height * 3 / 2;
    let frames = (bytes.len() - header_end - 1) / frame_len;
    (0..frames)
        .map(|n| {
            let start = header_end + 1 + n * frame_len + "FRAME\n".len();
            let luma = bytes[start..start + width * height].to_vec();
            if n == 0 {
                // To look at: the first frame as a PNG beside the video.
                image::GrayImage::from_raw(width as u32, height as u32, luma.clone())
                    .expect("a whole frame")
                    .save(format!("{path}.png"))
                    .expect("the frame's PNG is written");
            }
            Sample {
                kind: "video".into(),
                size: format!("{width}x{height}"),
                payload: payload.into(),
                image: Image {
                    luma,
                    width,
                    height,
                },
            }
        })
        .collect()
}

fn load() -> Vec<Sample> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/frames");
    let index = std::fs::read_to_string(dir.join("frames.tsv"))
        .expect("frames.tsv: run the frames example");
    index
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let grey = image::open(dir.join(f[0])).expect("a frame").to_luma8();
            Sample {
                kind: f[1].into(),
                size: f[2].into(),
                payload: f[4].into(),
                image: Image {
                    width: grey.width() as usize,
                    height: grey.height() as usize,
                    luma: grey.into_raw(),
                },
            }
        })
        .collect()
}

type Decoder = (&'static str, Box<dyn Fn(Frame<'_>) -> Option<String>>);

fn decoders() -> Vec<Decoder> {
    vec![
        (
            "app before: 640 wide + rqrr",
            Box::new(|f| rqrr(to_width(f, 640).frame())),
        ),
        ("rqrr, whole frame", Box::new(rqrr)),
        (
            "rqrr, sharpened",
            Box::new(|f| rqrr(sharpen(f, 2, 1.5).frame())),
        ),
        (
            "rqrr, binarised",
            Box::new(|f| rqrr(binarise(f, 6, 4).frame())),
        ),
        (
            "rqrr, enlarged ×2 (≤800 wide)",
            Box::new(|f| (f.width <= 800).then(|| rqrr(enlarge(f).frame())).flatten()),
        ),
        (
            "rqrr + sharpened + binarised",
            Box::new(|f| {
                rqrr(f)
                    .or_else(|| rqrr(sharpen(f, 2, 1.5).frame()))
                    .or_else(|| rqrr(binarise(f, 6, 4).frame()))
            }),
        ),
        ("rxing", Box::new(|f| rxing(f, false))),
        ("rxing, try harder", Box::new(|f| rxing(f, true))),
        (
            "rxing, 640 wide",
            Box::new(|f| rxing(to_width(f, 640).frame(), true)),
        ),
        ("rxing, sharpened", Box::new(|f| attempt(f, 1))),
        ("rxing, binarised", Box::new(|f| attempt(f, 2))),
        (
            "rxing, enlarged ×2 (≤800 wide)",
            Box::new(|f| {
                (f.width <= 800)
                    .then(|| rxing(enlarge(f).frame(), true))
                    .flatten()
            }),
        ),
        (
            "rxing + sharpened",
            Box::new(|f| attempt(f, 0).or_else(|| attempt(f, 1))),
        ),
        ("keyward_qr::read: rxing + sharp. + bin.", Box::new(read)),
        (
            "read, then rqrr binarised",
            Box::new(|f| read(f).or_else(|| rqrr(binarise(f, 6, 4).frame()))),
        ),
    ]
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3);
    let args: Vec<String> = std::env::args().collect();
    let samples = match &args[..] {
        [_, _, video, payload] => load_y4m(video, payload),
        _ => load(),
    };
    let kinds: Vec<String> = {
        let mut k: Vec<String> = samples.iter().map(|s| s.kind.clone()).collect();
        k.dedup();
        k
    };
    let in_kind = |k: &str| samples.iter().filter(|s| s.kind == k).count();
    println!("{} frames of {} kinds (640x480 and 1280x720, locker label and key tag); {runs} runs each\n", samples.len(), kinds.len());
    let mut header = format!(
        "{:<36} {:>6} {:>8} {:>8}",
        "decoder", "read", "median", "p95"
    );
    for k in &kinds {
        header += &format!(" {:>7}", short(k));
    }
    header += "  640  1280";
    println!("{header}");
    for (name, decode) in decoders() {
        let mut times = Vec::new();
        let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
        let mut by_size: BTreeMap<&str, usize> = BTreeMap::new();
        let mut total = 0;
        for s in &samples {
            let mut ok = false;
            for _ in 0..runs {
                let t = Instant::now();
                ok = decode(s.image.frame()).as_deref() == Some(s.payload.as_str());
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            if ok {
                total += 1;
                *by_kind.entry(&s.kind).or_default() += 1;
                *by_size.entry(&s.size).or_default() += 1;
            }
        }
        times.sort_by(f64::total_cmp);
        let mut row = format!(
            "{name:<36} {:>2}/{:<3} {:>6.1}ms {:>6.1}ms",
            total,
            samples.len(),
            percentile(&times, 0.5),
            percentile(&times, 0.95)
        );
        for k in &kinds {
            row += &format!(
                " {:>5}/{}",
                by_kind.get(k.as_str()).unwrap_or(&0),
                in_kind(k)
            );
        }
        row += &format!(
            " {:>4} {:>5}",
            by_size.get("640x480").unwrap_or(&0),
            by_size.get("1280x720").unwrap_or(&0)
        );
        println!("{row}");
    }
}

/// A kind's name cut to fit its column.
fn short(kind: &str) -> String {
    kind.chars().take(7).collect()
}
