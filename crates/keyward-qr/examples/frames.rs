//! Makes the hard camera frames in `tests/fixtures/frames/` (grey PNGs and `frames.tsv`, the
//! text each holds), from real labels: the core's `label::qr_svg` on a locker label (Avery
//! L7160, 63.5 × 38.1 mm) or a key tag (L7651, 38.1 × 21.2 mm), rendered by resvg, seen by a
//! pinhole camera at an angle on a grey locker door, then lit, blurred, noised and JPEG'd.
//! Everything is fixed (no clock; noise from a seed per frame), so the same frames come out:
//!
//!     cargo run --release -p keyward-qr --example frames [-- <out dir>]

use image::{GrayImage, Luma};
use imageproc::geometric_transformations::Projection;
use keyward_core::label::{qr_svg, LabelRef, Scanned};
use keyward_core::TagId;
use resvg::{tiny_skia, usvg};
use std::fmt::Write as _;
use std::path::PathBuf;

/// How one frame is made.
#[derive(Clone, Copy)]
struct Shot {
    /// What is hard about it: the frames are counted by kind.
    kind: &'static str,
    /// The label's width as a share of the frame's width (seen face on).
    share: f32,
    /// Turn about the vertical, the horizontal and the view axis, in degrees.
    yaw: f32,
    pitch: f32,
    roll: f32,
    /// Gaussian blur (out of focus, or shake), in pixels of a 640-wide frame.
    blur: f32,
    /// Light: 1.0 an office, 0.2 a dim corridor (dark ink stays dark, paper goes grey).
    light: f32,
    /// Ink against paper: 1.0 black on white, 0.3 grey print on grey.
    contrast: f32,
    /// Sensor noise, in grey levels (standard deviation).
    noise: f32,
    /// JPEG quality of the camera's compression (100: none).
    jpeg: u8,
}

const PLAIN: Shot = Shot {
    kind: "clean",
    share: 0.45,
    yaw: 8.0,
    pitch: -5.0,
    roll: 3.0,
    blur: 0.7,
    light: 1.0,
    contrast: 1.0,
    noise: 0.0,
    jpeg: 100,
};

/// The kinds of hard frame, each made at 640×480 and 1280×720 for a locker label and a key tag
/// (the noisiest only at 640×480: noise does not compress, and the frames live in the repository).
const SHOTS: [Shot; 12] = [
    PLAIN,
    Shot {
        kind: "blur-1.5",
        blur: 1.5,
        ..PLAIN
    },
    Shot {
        kind: "blur-2",
        blur: 2.0,
        ..PLAIN
    },
    Shot {
        kind: "blur-2.5",
        blur: 2.5,
        ..PLAIN
    },
    Shot {
        kind: "angle",
        yaw: 45.0,
        pitch: 20.0,
        roll: 25.0,
        ..PLAIN
    },
    Shot {
        kind: "low-light",
        light: 0.22,
        noise: 4.0,
        ..PLAIN
    },
    Shot {
        kind: "low-contrast",
        contrast: 0.3,
        ..PLAIN
    },
    Shot {
        kind: "noise",
        noise: 10.0,
        ..PLAIN
    },
    Shot {
        kind: "jpeg",
        jpeg: 12,
        ..PLAIN
    },
    Shot {
        kind: "small-25",
        share: 0.25,
        ..PLAIN
    },
    Shot {
        kind: "small-15",
        share: 0.15,
        ..PLAIN
    },
    Shot {
        kind: "small-blur-angle",
        share: 0.25,
        yaw: 30.0,
        pitch: 15.0,
        roll: 10.0,
        blur: 1.2,
        light: 0.7,
        noise: 3.0,
        jpeg: 60,
        ..PLAIN
    },
];

/// A printed label: the QR code and its text (as solid bars: no fonts needed), in millimetres.
struct Label {
    payload: String,
    width: f32,
    height: f32,
    /// Rendered at 20 px/mm, grey levels 0..1.
    pixels: Vec<f32>,
}

const PX_PER_MM: f32 = 20.0;

impl Label {
    fn new(payload: String, key_tag: bool) -> Label {
        // Locker label: a 33 mm code and the locker number beside it; key tag: 18 mm and the tag id.
        let (width, height, qr, pad) = if key_tag {
            (38.1, 21.2, 18.0, 1.6)
        } else {
            (63.5, 38.1, 33.0, 2.5)
        };
        let (w, h) = ((width * PX_PER_MM) as u32, (height * PX_PER_MM) as u32);
        let mut pixmap = tiny_skia::Pixmap::new(w, h).unwrap();
        pixmap.fill(tiny_skia::Color::WHITE);
        let svg = qr_svg(&payload).expect("a label's payload fits");
        let tree = usvg::Tree::from_str(&svg, &usvg::Options::default()).expect("valid SVG");
        let s = qr * PX_PER_MM / tree.size().width();
        let at = pad * PX_PER_MM;
        resvg::render(
            &tree,
            tiny_skia::Transform::from_row(s, 0.0, 0.0, s, at, (h as f32 - qr * PX_PER_MM) / 2.0),
            &mut pixmap.as_mut(),
        );
        // The text: a big line (number or tag id) and two small lines, as ink bars.
        let mut ink = tiny_skia::Paint::default();
        ink.set_color_rgba8(20, 20, 20, 255);
        let text_left = (2.0 * pad + qr) * PX_PER_MM;
        let text_width = w as f32 - text_left - pad * PX_PER_MM;
        let line = height / 6.0 * PX_PER_MM;
        for (top, share, tall) in [(1.2, 0.9, 1.3), (3.0, 0.8, 0.5), (3.8, 0.6, 0.5)] {
            let rect =
                tiny_skia::Rect::from_xywh(text_left, top * line, text_width * share, tall * line)
                    .unwrap();
            pixmap.fill_rect(rect, &ink, tiny_skia::Transform::identity(), None);
        }
        let pixels = pixmap
            .pixels()
            .iter()
            .map(|p| p.red() as f32 / 255.0)
            .collect();
        Label {
            payload,
            width,
            height,
            pixels,
        }
    }

    /// The label's grey at a point in millimetres (bilinear), or `None` off the label.
    fn at(&self, x: f32, y: f32) -> Option<f32> {
        if !(0.0..self.width).contains(&x) || !(0.0..self.height).contains(&y) {
            return None;
        }
        let w = (self.width * PX_PER_MM) as usize;
        let h = (self.height * PX_PER_MM) as usize;
        let (fx, fy) = (x * PX_PER_MM - 0.5, y * PX_PER_MM - 0.5);
        let (x0, y0) = (fx.max(0.0) as usize, fy.max(0.0) as usize);
        let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
        let (tx, ty) = (fx.max(0.0).fract(), fy.max(0.0).fract());
        let p = |x: usize, y: usize| self.pixels[y * w + x];
        let top = p(x0, y0) * (1.0 - tx) + p(x1, y0) * tx;
        let bottom = p(x0, y1) * (1.0 - tx) + p(x1, y1) * tx;
        Some(top * (1.0 - ty) + bottom * ty)
    }
}

/// Where the label's corners land in a `width × height` frame through a pinhole camera.
fn corners(
    label: &Label,
    shot: &Shot,
    width: f32,
    height: f32,
    shift: (f32, f32),
) -> [(f32, f32); 4] {
    let focal = width * 0.9;
    let distance = focal * label.width / (shot.share * width);
    let (yaw, pitch, roll) = (
        shot.yaw.to_radians(),
        shot.pitch.to_radians(),
        shot.roll.to_radians(),
    );
    let corner = |x: f32, y: f32| {
        let (x, y) = (x - label.width / 2.0, y - label.height / 2.0);
        // Roll in the label's plane, then pitch (about x) and yaw (about y).
        let (x, y) = (
            x * roll.cos() - y * roll.sin(),
            x * roll.sin() + y * roll.cos(),
        );
        let (y, z) = (y * pitch.cos(), y * pitch.sin());
        let (x, z) = (
            x * yaw.cos() + z * yaw.sin(),
            -x * yaw.sin() + z * yaw.cos(),
        );
        let z = z + distance;
        (
            width / 2.0 + shift.0 * width + focal * x / z,
            height / 2.0 + shift.1 * height + focal * y / z,
        )
    };
    [
        corner(0.0, 0.0),
        corner(label.width, 0.0),
        corner(label.width, label.height),
        corner(0.0, label.height),
    ]
}

fn frame(label: &Label, shot: &Shot, width: u32, height: u32, seed: u64) -> GrayImage {
    let (w, h) = (width as f32, height as f32);
    // A little off centre, differently for each frame.
    let shift = (
        ((seed * 37 % 11) as f32 - 5.0) / 60.0,
        ((seed * 53 % 7) as f32 - 3.0) / 40.0,
    );
    let to_frame = Projection::from_control_points(
        [
            (0.0, 0.0),
            (label.width, 0.0),
            (label.width, label.height),
            (0.0, label.height),
        ],
        corners(label, shot, w, h, shift),
    )
    .expect("a label seen from the front is a proper quadrilateral");
    let to_label = to_frame.invert();
    let mut image = GrayImage::new(width, height);
    for (x, y, pixel) in image.enumerate_pixels_mut() {
        // 3×3 samples a pixel, as a sensor's pixel gathers the light over its area.
        let mut sum = 0.0;
        for sy in 0..3 {
            for sx in 0..3 {
                let (fx, fy) = (
                    x as f32 + (sx as f32 + 0.5) / 3.0,
                    y as f32 + (sy as f32 + 0.5) / 3.0,
                );
                let (lx, ly) = to_label * (fx, fy);
                // The locker door: grey, darker towards the bottom, with a door edge.
                let door = 0.55
                    - 0.15 * fy / h
                    - if (fx / w - 0.12).abs() < 0.006 {
                        0.3
                    } else {
                        0.0
                    };
                sum += label.at(lx, ly).unwrap_or(door);
            }
        }
        let paper = sum / 9.0;
        // Ink and paper drawn together by poor contrast, the whole dimmed by poor light, with a
        // vignette (corners darker), as a phone camera's auto exposure leaves it.
        let centred = 0.5 + (paper - 0.5) * shot.contrast;
        let (dx, dy) = (x as f32 / w - 0.5, y as f32 / h - 0.5);
        let vignette = 1.0 - 0.5 * (dx * dx + dy * dy);
        let value = (centred * shot.light * vignette * 235.0 + 12.0).clamp(0.0, 255.0);
        *pixel = Luma([value.round() as u8]);
    }
    let scale = w / 640.0;
    let mut image = imageproc::filter::gaussian_blur_f32(&image, shot.blur * scale);
    if shot.noise > 0.0 {
        image = imageproc::noise::gaussian_noise(&image, 0.0, shot.noise as f64, seed);
    }
    if shot.jpeg < 100 {
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, shot.jpeg)
            .encode_image(&image)
            .expect("JPEG encodes");
        image = image::load_from_memory(&bytes)
            .expect("JPEG decodes")
            .to_luma8();
    }
    image
}

/// A grey PNG, compressed hard: the frames live in the repository.
fn save(image: &GrayImage, path: &std::path::Path) {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let file = std::fs::File::create(path).expect("the PNG is created");
    image
        .write_with_encoder(PngEncoder::new_with_quality(
            std::io::BufWriter::new(file),
            CompressionType::Best,
            FilterType::Adaptive,
        ))
        .expect("the PNG is written");
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/frames")
        });
    std::fs::create_dir_all(&out).expect("the frames folder");
    // The upper-case style lets the QR use its alphanumeric mode; the lower-case one is bytes.
    let labels = [
        Label::new(
            Scanned::Locker(LabelRef("ABCDEFGHJK".into()))
                .url("keys.northgate.sch.uk")
                .to_ascii_uppercase(),
            false,
        ),
        Label::new(
            Scanned::Key(TagId("K7M2P9Q".into())).url("keys.northgate.sch.uk"),
            true,
        ),
    ];
    let mut index = String::from("file\tkind\tsize\tlabel\tpayload\n");
    let mut seed = 0;
    let mut count = 0;
    for shot in &SHOTS {
        for (width, height) in [(640, 480), (1280, 720)] {
            if width > 640 && shot.noise >= 4.0 {
                continue;
            }
            for (label, what) in labels.iter().zip(["locker", "key"]) {
                seed += 1;
                let name = format!("{}-{width}x{height}-{what}.png", shot.kind);
                count += 1;
                save(&frame(label, shot, width, height, seed), &out.join(&name));
                writeln!(
                    index,
                    "{name}\t{}\t{width}x{height}\t{what}\t{}",
                    shot.kind, label.payload
                )
                .unwrap();
            }
        }
    }
    std::fs::write(out.join("frames.tsv"), index).expect("frames.tsv is written");
    println!("{count} frames in {}", out.display());
}
