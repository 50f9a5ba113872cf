//! The one module that touches the camera. It shows the rear camera in a `<video>` and reports
//! each code it reads: with the browser's BarcodeDetector where there is one, otherwise by
//! sending frames (up to 1280 wide) to the decoder worker (`qr-worker`: `keyward_qr::read`,
//! ZXing's port on the frame and sharpened and binarised variants; fetched only then).
//! [`Codes::Labels`] reads QR codes only (the scanner); [`Codes::Cards`] also the barcodes of
//! staff and pupil cards (`keyward_qr::read_card`, when choosing who takes a key).

use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlVideoElement;

#[wasm_bindgen(inline_js = r#"
let current = null;
const CARD_FORMATS = ['code_128', 'code_39', 'codabar', 'code_93', 'itf', 'ean_13'];
export async function camera_start(video, on_code, use_rqrr, worker_url, cards) {
  camera_stop();
  const s = { stopped: false, stream: null, worker: null, busy: false, timer: null, sent: 0 };
  current = s;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw 'NotSupported';
  try {
    s.stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 } }, audio: false });
  } catch (e) { throw (e && e.name) || 'Error'; }
  if (s.stopped) { s.stream.getTracks().forEach((t) => t.stop()); return 'stopped'; }
  video.muted = true;
  video.setAttribute('playsinline', '');
  video.srcObject = s.stream;
  await video.play().catch(() => {});
  let detector = null;
  if (!use_rqrr && 'BarcodeDetector' in window) {
    const formats = await BarcodeDetector.getSupportedFormats().catch(() => []);
    const wanted = ['qr_code', ...(cards ? CARD_FORMATS : [])].filter((f) => formats.includes(f));
    if (formats.includes('qr_code')) detector = new BarcodeDetector({ formats: wanted });
  }
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!detector) {
    s.worker = new Worker(worker_url);
    s.busy = true; // until the worker says it is ready
    s.worker.onmessage = (e) => {
      s.busy = false;
      if (e.data && !s.stopped) on_code(e.data, performance.now() - s.sent);
    };
  }
  const tick = async () => {
    if (s.stopped) return;
    // A frame the worker never answered (it failed) is given up after two seconds.
    if (s.busy && s.sent && performance.now() - s.sent > 2000) s.busy = false;
    if (video.readyState >= 2 && video.videoWidth && !s.busy) {
      if (detector) {
        s.busy = true;
        const t0 = performance.now();
        try {
          const codes = await detector.detect(video);
          if (codes.length && !s.stopped) on_code(codes[0].rawValue, performance.now() - t0);
        } catch (e) {}
        s.busy = false;
      } else {
        // The whole frame up to 1280 wide: a code a step away has few pixels to spare.
        const w = Math.min(1280, video.videoWidth);
        const h = Math.round((video.videoHeight * w) / video.videoWidth);
        canvas.width = w;
        canvas.height = h;
        ctx.drawImage(video, 0, 0, w, h);
        const frame = ctx.getImageData(0, 0, w, h);
        s.busy = true;
        s.sent = performance.now();
        s.worker.postMessage({ width: w, height: h, data: frame.data, cards }, [frame.data.buffer]);
      }
    }
    s.timer = setTimeout(tick, 120);
  };
  tick();
  return detector ? 'BarcodeDetector' : 'rqrr';
}
export function camera_stop() {
  if (!current) return;
  current.stopped = true;
  clearTimeout(current.timer);
  if (current.stream) current.stream.getTracks().forEach((t) => t.stop());
  if (current.worker) current.worker.terminate();
  current = null;
}
function track() {
  return current && current.stream && current.stream.getVideoTracks()[0];
}
export function torch_available() {
  const t = track();
  return !!(t && t.getCapabilities && t.getCapabilities().torch);
}
export async function torch_set(on) {
  const t = track();
  if (!t) return false;
  try { await t.applyConstraints({ advanced: [{ torch: on }] }); return true; } catch (e) { return false; }
}
"#)]
extern "C" {
    fn camera_start(
        video: &HtmlVideoElement,
        on_code: &OnCode,
        use_rqrr: bool,
        worker_url: &str,
        cards: bool,
    ) -> js_sys::Promise;
    fn camera_stop();
    fn torch_available() -> bool;
    fn torch_set(on: bool) -> js_sys::Promise;
}

/// Where trunk puts the worker (workers keep their bin name; the service worker caches it).
const WORKER: &str = "/qr-worker-loader.js";

/// Called with each code read and how long decoding took (ms).
type OnCode = Closure<dyn Fn(String, f64)>;

thread_local! {
    // The code callback lives as long as the camera runs.
    static ON_CODE: RefCell<Option<OnCode>> = const { RefCell::new(None) };
}

/// Which decoder reads the frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoder {
    BarcodeDetector,
    Rqrr,
}

/// What the camera looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codes {
    /// QR codes: Keyward's labels and key tags.
    Labels,
    /// QR codes and the barcodes of staff and pupil cards.
    Cards,
}

/// Starts the camera in `video`; `on_code(text, decode_ms)` is called for every code read.
/// The error is the browser's reason (NotAllowedError, NotFoundError, …).
pub async fn start(
    video: &HtmlVideoElement,
    force_rqrr: bool,
    codes: Codes,
    on_code: impl Fn(String, f64) + 'static,
) -> Result<Decoder, String> {
    let callback = OnCode::new(on_code);
    let promise = camera_start(video, &callback, force_rqrr, WORKER, codes == Codes::Cards);
    ON_CODE.with(|c| *c.borrow_mut() = Some(callback));
    match JsFuture::from(promise).await {
        Ok(v) if v.as_string().as_deref() == Some("BarcodeDetector") => {
            Ok(Decoder::BarcodeDetector)
        }
        Ok(_) => Ok(Decoder::Rqrr),
        Err(e) => Err(e.as_string().unwrap_or_else(|| "Error".into())),
    }
}

pub fn stop() {
    camera_stop();
    ON_CODE.with(|c| c.borrow_mut().take());
}

pub fn has_torch() -> bool {
    torch_available()
}

pub async fn set_torch(on: bool) -> bool {
    JsFuture::from(torch_set(on))
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}
