//! Writes a Y4M video of a label's QR code, for Chromium's fake camera
//! (`--use-file-for-fake-video-capture`), so the scanner is tested with a real video stream:
//!
//!     cargo run -p keyward-core --example label_video -- <payload> <out.y4m> [options]
//!
//! By default 640×480, the code about 300 px wide on a light grey card, a little off centre,
//! as a phone held over a locker door would see it. Options make it hard, as a phone held a
//! step away in a dim corridor sees it:
//!
//! - `--size WxH` the frame (640x480);
//! - `--share S` the code's width (with its quiet zone) as a share of the frame's width (0.47);
//! - `--yaw D`, `--pitch D`, `--roll D` the card turned by D degrees about the vertical, the
//!   horizontal and the view axis (0);
//! - `--blur S` a Gaussian blur of S pixels (0);
//! - `--noise N` sensor noise of N grey levels, different in each frame (0);
//! - `--hard` the same as `--share 0.25 --yaw 35 --pitch 20 --roll 15 --blur 1.8 --noise 4`.

use qrcode::{Color, EcLevel, QrCode};
use std::io::Write;

const FRAMES: usize = 5;

struct Options {
    width: usize,
    height: usize,
    share: f64,
    yaw: f64,
    pitch: f64,
    roll: f64,
    blur: f64,
    noise: f64,
}

fn usage() -> ! {
    eprintln!("usage: label_video <payload> <out.y4m> [--size WxH] [--share S] [--yaw D] [--pitch D] [--roll D] [--blur S] [--noise N] [--hard]");
    std::process::exit(2);
}

fn options(mut args: impl Iterator<Item = String>) -> Options {
    let mut o = Options {
        width: 640,
        height: 480,
        share: 0.47,
        yaw: 0.0,
        pitch: 0.0,
        roll: 0.0,
        blur: 0.0,
        noise: 0.0,
    };
    while let Some(flag) = args.next() {
        if flag == "--hard" {
            (o.share, o.yaw, o.pitch, o.roll, o.blur, o.noise) = (0.25, 35.0, 20.0, 15.0, 1.8, 4.0);
            continue;
        }
        let value = args.next().unwrap_or_else(|| usage());
        let number = || value.parse::<f64>().unwrap_or_else(|_| usage());
        match flag.as_str() {
            "--size" => {
                let (w, h) = value.split_once('x').unwrap_or_else(|| usage());
                o.width = w.parse().unwrap_or_else(|_| usage());
                o.height = h.parse().unwrap_or_else(|_| usage());
                if !o.width.is_multiple_of(2) || !o.height.is_multiple_of(2) {
                    usage();
                }
            }
            "--share" => o.share = number(),
            "--yaw" => o.yaw = number(),
            "--pitch" => o.pitch = number(),
            "--roll" => o.roll = number(),
            "--blur" => o.blur = number(),
            "--noise" => o.noise = number(),
            _ => usage(),
        }
    }
    o
}

/// A 3-vector.
type V = [f64; 3];

fn dot(a: V, b: V) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// The card's axes in the camera's space: turned by roll (in its plane), pitch and yaw.
fn card_axes(o: &Options) -> (V, V, V) {
    let (r, p, y) = (
        o.roll.to_radians(),
        o.pitch.to_radians(),
        o.yaw.to_radians(),
    );
    let turn = |v: V| {
        let (x, yy) = (
            v[0] * r.cos() - v[1] * r.sin(),
            v[0] * r.sin() + v[1] * r.cos(),
        );
        let (yy, z) = (yy * p.cos() - v[2] * p.sin(), yy * p.sin() + v[2] * p.cos());
        [x * y.cos() + z * y.sin(), yy, -x * y.sin() + z * y.cos()]
    };
    (
        turn([1.0, 0.0, 0.0]),
        turn([0.0, 1.0, 0.0]),
        turn([0.0, 0.0, 1.0]),
    )
}

/// A Gaussian blur of `sigma` pixels, rows then columns.
fn blur(luma: &mut [f64], width: usize, height: usize, sigma: f64) {
    if sigma <= 0.0 {
        return;
    }
    let r = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f64> = (-r..=r)
        .map(|i| (-((i * i) as f64) / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = kernel.iter().sum();
    let pass = |luma: &mut [f64], step: usize, count: usize, lines: usize, stride: usize| {
        let mut line = vec![0.0; count];
        for l in 0..lines {
            for (i, out) in line.iter_mut().enumerate() {
                *out = kernel
                    .iter()
                    .enumerate()
                    .map(|(k, w)| {
                        let j = (i as isize + k as isize - r).clamp(0, count as isize - 1) as usize;
                        w * luma[l * stride + j * step]
                    })
                    .sum::<f64>()
                    / total;
            }
            for (i, v) in line.iter().enumerate() {
                luma[l * stride + i * step] = *v;
            }
        }
    };
    pass(luma, 1, width, height, width);
    pass(luma, width, height, width, 1);
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(payload), Some(out)) = (args.next(), args.next()) else {
        usage();
    };
    let o = options(args);
    let (width, height) = (o.width, o.height);
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .expect("payload fits in a QR code");
    let modules = code.width();
    let colors = code.to_colors();
    let quiet = 4;
    let span = (modules + 2 * quiet) as f64;
    // Card units are modules; the card is the code and its quiet zone, with a margin.
    let is_dark = |mx: f64, my: f64| -> Option<bool> {
        let (cx, cy) = (mx + span / 2.0, my + span / 2.0);
        if !(-2.0..span + 2.0).contains(&cx) || !(-2.0..span + 2.0).contains(&cy) {
            return None;
        }
        let (x, y) = (
            cx.floor() as isize - quiet as isize,
            cy.floor() as isize - quiet as isize,
        );
        let inside = (0..modules as isize).contains(&x) && (0..modules as isize).contains(&y);
        Some(inside && colors[y as usize * modules + x as usize] == Color::Dark)
    };
    // A pinhole camera: each pixel's ray meets the card's plane at its centre's distance.
    let focal = width as f64 * 0.9;
    let distance = focal * span / (o.share * width as f64);
    let (ax, ay, normal) = card_axes(&o);
    let centre: V = [20.0 / focal * distance, -10.0 / focal * distance, distance];
    let mut luma = vec![150.0; width * height];
    for py in 0..height {
        for px in 0..width {
            let mut sum = 0.0;
            // 3×3 samples a pixel, as a sensor's pixel gathers the light over its area.
            for s in 0..9 {
                let ray = [
                    (px as f64 + (s % 3) as f64 / 3.0 + 1.0 / 6.0 - width as f64 / 2.0) / focal,
                    (py as f64 + (s / 3) as f64 / 3.0 + 1.0 / 6.0 - height as f64 / 2.0) / focal,
                    1.0,
                ];
                let t = dot(normal, centre) / dot(normal, ray);
                let hit = [
                    ray[0] * t - centre[0],
                    ray[1] * t - centre[1],
                    ray[2] * t - centre[2],
                ];
                sum += match is_dark(dot(hit, ax), dot(hit, ay)) {
                    Some(true) => 20.0,
                    Some(false) => 235.0,
                    None => 150.0,
                };
            }
            luma[py * width + px] = sum / 9.0;
        }
    }
    blur(&mut luma, width, height, o.blur);

    let chroma = vec![128u8; width / 2 * height / 2];
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    writeln!(file, "YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg")?;
    // Noise from a fixed seed (xorshift; a sum of uniforms is near enough Gaussian).
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for _ in 0..FRAMES {
        let frame: Vec<u8> = luma
            .iter()
            .map(|v| {
                let n = if o.noise > 0.0 {
                    ((0..4).map(|_| uniform()).sum::<f64>() - 2.0) * o.noise * 3f64.sqrt()
                } else {
                    0.0
                };
                (v + n).round().clamp(0.0, 255.0) as u8
            })
            .collect();
        file.write_all(b"FRAME\n")?;
        file.write_all(&frame)?;
        file.write_all(&chroma)?;
        file.write_all(&chroma)?;
    }
    file.flush()
}
