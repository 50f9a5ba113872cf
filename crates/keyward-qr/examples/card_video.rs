//! A Y4M video of a staff or pupil card's barcode, for Chromium's fake camera
//! (`--use-file-for-fake-video-capture`): the browser test that chooses the person taking a key
//! by scanning their card.
//!
//!     cargo run -p keyward-qr --example card_video -- <code128|code39|codabar|ean13> <text> <out.y4m>
//!
//! 640×480 at 10 frames a second, the card turned 4° and a little out of focus; Chromium loops
//! the file.

#[path = "../tests/support/card.rs"]
mod card;

use std::io::Write;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, text, out] = &args[..] else {
        eprintln!("usage: card_video <code128|code39|codabar|ean13> <text> <out.y4m>");
        std::process::exit(2);
    };
    let Some(symbology) = card::Symbology::parse(kind) else {
        eprintln!("unknown barcode {kind:?}: code128, code39, codabar or ean13");
        std::process::exit(2);
    };
    let view = card::View {
        width: 640,
        height: 480,
        module: 2.5,
        blur: 0.8,
        roll: 4.0,
    };
    let luma = card::frame(&symbology.bars(text), view);
    let chroma = vec![128u8; view.width / 2 * view.height / 2];
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    writeln!(
        file,
        "YUV4MPEG2 W{} H{} F10:1 Ip A1:1 C420jpeg",
        view.width, view.height
    )?;
    for _ in 0..10 {
        file.write_all(b"FRAME\n")?;
        file.write_all(&luma)?;
        file.write_all(&chroma)?;
        file.write_all(&chroma)?;
    }
    file.flush()
}
