//! Writes a Y4M video of a label's QR code, for Chromium's fake camera
//! (`--use-file-for-fake-video-capture`), so the scanner is tested with a real video stream:
//!
//!     cargo run -p keyward-core --example label_video -- <payload> <out.y4m>
//!
//! 640×480, the code about 300 px wide on a light grey card, a little off centre, as a phone
//! held over a locker door would see it.

use qrcode::{Color, EcLevel, QrCode};
use std::io::Write;

const WIDTH: usize = 640;
const HEIGHT: usize = 480;
const FRAMES: usize = 5;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(payload), Some(out)) = (args.next(), args.next()) else {
        eprintln!("usage: label_video <payload> <out.y4m>");
        std::process::exit(2);
    };
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .expect("payload fits in a QR code");
    let modules = code.width();
    let colors = code.to_colors();
    let quiet = 4;
    let scale = 300 / (modules + 2 * quiet);
    let size = scale * (modules + 2 * quiet);
    let (left, top) = ((WIDTH - size) / 2 + 20, (HEIGHT - size) / 2 - 10);

    // Luma: a grey background, a white card with the code; chroma neutral.
    let mut luma = vec![150u8; WIDTH * HEIGHT];
    for y in 0..size {
        for x in 0..size {
            let (mx, my) = (x / scale, y / scale);
            let dark = mx >= quiet
                && my >= quiet
                && mx < quiet + modules
                && my < quiet + modules
                && colors[(my - quiet) * modules + (mx - quiet)] == Color::Dark;
            luma[(top + y) * WIDTH + left + x] = if dark { 20 } else { 235 };
        }
    }
    let chroma = vec![128u8; WIDTH / 2 * HEIGHT / 2];
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    writeln!(file, "YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg")?;
    for _ in 0..FRAMES {
        file.write_all(b"FRAME\n")?;
        file.write_all(&luma)?;
        file.write_all(&chroma)?;
        file.write_all(&chroma)?;
    }
    file.flush()
}
