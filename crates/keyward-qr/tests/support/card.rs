//! A staff or pupil card's barcode in a grey camera frame, for `tests/cards.rs` and
//! `examples/card_video.rs` (the fake camera of the browser test that chooses a person by
//! their card).

use imageproc::filter::gaussian_blur_f32;
use rxing::oned::{
    CodaBarWriter, Code128Writer, Code39Writer, EAN13Writer, OneDimensionalCodeWriter,
};

/// The barcodes drawn here.
#[derive(Clone, Copy, Debug)]
pub enum Symbology {
    Code128,
    Code39,
    Codabar,
    Ean13,
}

impl Symbology {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "code128" => Symbology::Code128,
            "code39" => Symbology::Code39,
            "codabar" => Symbology::Codabar,
            "ean13" => Symbology::Ean13,
            _ => return None,
        })
    }

    /// The bars of `text`, one `true` per dark module.
    pub fn bars(self, text: &str) -> Vec<bool> {
        match self {
            Symbology::Code128 => Code128Writer.encode_oned(text),
            Symbology::Code39 => Code39Writer.encode_oned(text),
            Symbology::Codabar => CodaBarWriter.encode_oned(text),
            Symbology::Ean13 => EAN13Writer.encode_oned(text),
        }
        .expect("text the symbology can carry")
    }
}

/// How the card is seen.
#[derive(Clone, Copy, Debug)]
pub struct View {
    pub width: usize,
    pub height: usize,
    /// Pixels per module (a fraction is drawn with partial grey, as a lens would).
    pub module: f32,
    /// Gaussian blur, in pixels.
    pub blur: f32,
    /// Degrees the card is turned in the frame.
    pub roll: f32,
}

/// A light card (grey 225) on a darker desk (grey 80) with the barcode across its middle,
/// 0.4 of the frame high, seen as `view` says.
pub fn frame(bars: &[bool], view: View) -> Vec<u8> {
    let (w, h) = (view.width as f32, view.height as f32);
    let code_width = bars.len() as f32 * view.module;
    let quiet = 10.0 * view.module;
    let (card_w, card_h) = (code_width + 2.0 * quiet, h * 0.55);
    let bar_h = h * 0.4;
    let (sin, cos) = view.roll.to_radians().sin_cos();
    let (cx, cy) = (w / 2.0, h / 2.0);
    // Four samples a pixel across, two down: enough to grey a module's edge.
    let mut luma = Vec::with_capacity(view.width * view.height);
    for y in 0..view.height {
        for x in 0..view.width {
            let mut sum = 0.0;
            for (sx, sy) in [(0.125, 0.25), (0.375, 0.75), (0.625, 0.25), (0.875, 0.75)] {
                let (dx, dy) = (x as f32 + sx - cx, y as f32 + sy - cy);
                // Into the card's own axes.
                let (u, v) = (dx * cos + dy * sin, -dx * sin + dy * cos);
                sum += if u.abs() > card_w / 2.0 || v.abs() > card_h / 2.0 {
                    80.0
                } else if v.abs() <= bar_h / 2.0
                    && u.abs() < code_width / 2.0
                    && bars[((u + code_width / 2.0) / view.module) as usize]
                {
                    30.0
                } else {
                    225.0
                };
            }
            luma.push((sum / 4.0) as u8);
        }
    }
    if view.blur > 0.0 {
        let image = image::GrayImage::from_raw(view.width as u32, view.height as u32, luma)
            .expect("a whole frame");
        luma = gaussian_blur_f32(&image, view.blur).into_raw();
    }
    luma
}
