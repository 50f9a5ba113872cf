//! Reads the QR code of a Keyward label in a camera frame (grey levels, one byte a pixel).
//!
//! The scanner's worker (`src/qr_worker.rs`) calls [`read`]; `examples/compare.rs` measures it
//! against the other candidates here (rqrr, as the app used it before, and with preprocessing)
//! on the hard frames in `tests/fixtures/frames/`, and `tests/frames.rs` keeps its reading rate.
//!
//! rqrr alone fails on a frame from a phone held a step away: the code is small, blurred and
//! seen at an angle, and rqrr's finder needs crisp 1:1:3:1:1 runs. ZXing's port (rxing, QR
//! only) reads as many frames in a sixth of the time, and with sharpening and binarising more
//! than rqrr with the same help; so [`read`] is rxing on the frame and on those variants.
//!
//! [`read_card`] reads a staff or pupil card when the person taking a key is chosen by
//! scanning it: a QR code, as on a label, or one of the barcodes ID cards carry
//! ([`CARD_BARCODES`]). Those are looked for only there, never in a label scan, where a
//! one-dimensional reader's rare misreading of a pattern would only get in the way.

/// A frame: `width × height` grey levels, row by row.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    pub luma: &'a [u8],
    pub width: usize,
    pub height: usize,
}

/// An owned frame, made by one of the transforms below.
#[derive(Clone, Debug)]
pub struct Image {
    pub luma: Vec<u8>,
    pub width: usize,
    pub height: usize,
}

impl Image {
    pub fn frame(&self) -> Frame<'_> {
        Frame {
            luma: &self.luma,
            width: self.width,
            height: self.height,
        }
    }
}

impl<'a> Frame<'a> {
    /// `None` when the buffer is shorter than its size says.
    pub fn new(luma: &'a [u8], width: usize, height: usize) -> Option<Self> {
        (width > 0 && height > 0 && luma.len() >= width * height).then_some(Frame {
            luma,
            width,
            height,
        })
    }

    fn at(&self, x: usize, y: usize) -> u8 {
        self.luma[y * self.width + x]
    }
}

/// rqrr as it is: the first grid that decodes.
pub fn rqrr(frame: Frame<'_>) -> Option<String> {
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(frame.width, frame.height, |x, y| {
            frame.at(x, y)
        });
    image
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

/// ZXing's port (rxing): hybrid (local) binariser, QR only; `try_harder` scans every row.
pub fn rxing(frame: Frame<'_>, try_harder: bool) -> Option<String> {
    let mut hints = ::rxing::DecodeHints {
        TryHarder: Some(try_harder),
        ..Default::default()
    };
    ::rxing::helpers::detect_in_luma_with_hints(
        frame.luma[..frame.width * frame.height].to_vec(),
        frame.width as u32,
        frame.height as u32,
        Some(::rxing::BarcodeFormat::QR_CODE),
        &mut hints,
    )
    .ok()
    .map(|r| r.getText().to_string())
}

/// The one-dimensional barcodes printed on ID cards: Code 128 and Code 39 (most staff and
/// pupil cards), Codabar (library cards), Code 93, interleaved 2 of 5 and EAN-13.
pub const CARD_BARCODES: [::rxing::BarcodeFormat; 6] = [
    ::rxing::BarcodeFormat::CODE_128,
    ::rxing::BarcodeFormat::CODE_39,
    ::rxing::BarcodeFormat::CODABAR,
    ::rxing::BarcodeFormat::CODE_93,
    ::rxing::BarcodeFormat::ITF,
    ::rxing::BarcodeFormat::EAN_13,
];

/// A card's one-dimensional barcode ([`CARD_BARCODES`]), every row tried.
pub fn barcode(frame: Frame<'_>) -> Option<String> {
    let mut hints = ::rxing::DecodeHints {
        TryHarder: Some(true),
        PossibleFormats: Some(CARD_BARCODES.into_iter().collect()),
        ..Default::default()
    };
    ::rxing::helpers::detect_in_luma_with_hints(
        frame.luma[..frame.width * frame.height].to_vec(),
        frame.width as u32,
        frame.height as u32,
        None,
        &mut hints,
    )
    .ok()
    .map(|r| r.getText().trim().to_string())
    .filter(|text| !text.is_empty())
}

/// The frame scaled to `width` pixels wide by area averaging (as a canvas `drawImage` to a
/// smaller canvas does); a frame no wider is copied.
pub fn to_width(frame: Frame<'_>, width: usize) -> Image {
    if frame.width <= width {
        return Image {
            luma: frame.luma[..frame.width * frame.height].to_vec(),
            width: frame.width,
            height: frame.height,
        };
    }
    let height = (frame.height * width + frame.width / 2) / frame.width;
    let (sx, sy) = (
        frame.width as f32 / width as f32,
        frame.height as f32 / height as f32,
    );
    let mut luma = Vec::with_capacity(width * height);
    for y in 0..height {
        let (y0, y1) = ((y as f32 * sy) as usize, ((y + 1) as f32 * sy) as usize);
        for x in 0..width {
            let (x0, x1) = ((x as f32 * sx) as usize, ((x + 1) as f32 * sx) as usize);
            let (mut sum, mut n) = (0u32, 0u32);
            for yy in y0..y1.clamp(y0 + 1, frame.height) {
                for xx in x0..x1.clamp(x0 + 1, frame.width) {
                    sum += frame.at(xx, yy) as u32;
                    n += 1;
                }
            }
            luma.push((sum / n) as u8);
        }
    }
    Image {
        luma,
        width,
        height,
    }
}

/// Twice as wide and high, bilinear: gives a small code's modules enough pixels for rqrr.
pub fn enlarge(frame: Frame<'_>) -> Image {
    let (width, height) = (frame.width * 2, frame.height * 2);
    let mut luma = Vec::with_capacity(width * height);
    for y in 0..height {
        let fy = ((y as f32 - 0.5) / 2.0).max(0.0);
        let (y0, ty) = (fy as usize, fy.fract());
        let y1 = (y0 + 1).min(frame.height - 1);
        for x in 0..width {
            let fx = ((x as f32 - 0.5) / 2.0).max(0.0);
            let (x0, tx) = (fx as usize, fx.fract());
            let x1 = (x0 + 1).min(frame.width - 1);
            let top = frame.at(x0, y0) as f32 * (1.0 - tx) + frame.at(x1, y0) as f32 * tx;
            let bottom = frame.at(x0, y1) as f32 * (1.0 - tx) + frame.at(x1, y1) as f32 * tx;
            luma.push((top * (1.0 - ty) + bottom * ty + 0.5) as u8);
        }
    }
    Image {
        luma,
        width,
        height,
    }
}

/// The box mean of every pixel's `(2r+1)²` neighbourhood, from an integral image.
fn box_mean(frame: Frame<'_>, r: usize) -> Vec<u8> {
    let (w, h) = (frame.width, frame.height);
    let mut integral = vec![0u32; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0u32;
        for x in 0..w {
            row += frame.at(x, y) as u32;
            integral[(y + 1) * (w + 1) + x + 1] = integral[y * (w + 1) + x + 1] + row;
        }
    }
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let sum = integral[y1 * (w + 1) + x1] + integral[y0 * (w + 1) + x0]
                - integral[y0 * (w + 1) + x1]
                - integral[y1 * (w + 1) + x0];
            out.push((sum / ((x1 - x0) * (y1 - y0)) as u32) as u8);
        }
    }
    out
}

/// Contrast stretched so the 1st and 99th percentiles become black and white, then an unsharp
/// mask of radius `r` and strength `amount` (1.0 doubles the detail): undoes some blur, dim light
/// and grey print.
pub fn sharpen(frame: Frame<'_>, r: usize, amount: f32) -> Image {
    let pixels = &frame.luma[..frame.width * frame.height];
    let mut histogram = [0usize; 256];
    for &p in pixels {
        histogram[p as usize] += 1;
    }
    let percentile = |q: usize| {
        let target = pixels.len() * q / 100;
        let mut seen = 0;
        (0..256)
            .find(|&v| {
                seen += histogram[v];
                seen > target
            })
            .unwrap_or(255) as f32
    };
    let (low, high) = (percentile(1), percentile(99).max(percentile(1) + 16.0));
    let mean = box_mean(frame, r);
    let scale = 255.0 / (high - low);
    let luma = pixels
        .iter()
        .zip(mean)
        .map(|(&p, m)| {
            let v = p as f32 + amount * (p as f32 - m as f32);
            ((v - low) * scale).clamp(0.0, 255.0) as u8
        })
        .collect();
    Image {
        luma,
        width: frame.width,
        height: frame.height,
    }
}

/// Black or white by each pixel's local mean over a `(2r+1)²` window, less `offset`.
pub fn binarise(frame: Frame<'_>, r: usize, offset: i32) -> Image {
    let mean = box_mean(frame, r);
    let luma = frame.luma[..frame.width * frame.height]
        .iter()
        .zip(mean)
        .map(|(&p, m)| {
            if (p as i32) < m as i32 - offset {
                0
            } else {
                255
            }
        })
        .collect();
    Image {
        luma,
        width: frame.width,
        height: frame.height,
    }
}

/// The attempts [`read`] makes, in order, each on a variant of the frame: ZXing's port on the
/// frame as it is, sharpened (blur, dim light), then binarised by local means (heavier blur).
pub const ATTEMPTS: usize = 3;

/// One attempt of [`read`] (`0..ATTEMPTS`).
pub fn attempt(frame: Frame<'_>, n: usize) -> Option<String> {
    match n {
        0 => rxing(frame, true),
        1 => rxing(sharpen(frame, 2, 1.5).frame(), true),
        2 => rxing(binarise(frame, 6, 4).frame(), true),
        _ => None,
    }
}

/// Reads the frame's QR code: ZXing's port (rxing) on the frame, then on a sharpened and a
/// binarised variant of it, stopping at the first that decodes.
pub fn read(frame: Frame<'_>) -> Option<String> {
    (0..ATTEMPTS).find_map(|n| attempt(frame, n))
}

/// Reads a staff or pupil card: its barcode ([`barcode`]) on the frame and sharpened (a card
/// held close is often out of focus), or a QR code as [`read`] does.
pub fn read_card(frame: Frame<'_>) -> Option<String> {
    barcode(frame)
        .or_else(|| barcode(sharpen(frame, 2, 1.5).frame()))
        .or_else(|| read(frame))
}
