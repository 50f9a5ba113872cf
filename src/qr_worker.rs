//! The QR decoder for browsers without BarcodeDetector: `keyward_qr::read` (rqrr on the frame
//! and a few sharpened, scaled and binarised variants of it) in its own Web Worker, so the
//! camera view never stutters, and its wasm is only fetched when a scanner needs it.
//! A message is one frame `{width, height, data, cards}` (RGBA; `cards` when a staff or pupil
//! card's barcode is wanted too: `keyward_qr::read_card`); the answer is the decoded text, or
//! an empty string when there is no readable code in it. The first message out, `null`, says
//! the decoder is ready.

use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

fn main() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply = scope.clone();
    let on_frame = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let text = decode(&event.data()).unwrap_or_default();
        let _ = reply.post_message(&JsValue::from_str(&text));
    });
    scope.set_onmessage(Some(on_frame.as_ref().unchecked_ref()));
    on_frame.forget();
    // Frames sent before this point were lost: tell the page the decoder is listening.
    let _ = scope.post_message(&JsValue::NULL);
}

fn decode(frame: &JsValue) -> Option<String> {
    let get = |name: &str| js_sys::Reflect::get(frame, &JsValue::from_str(name)).ok();
    let width = get("width")?.as_f64()? as usize;
    let height = get("height")?.as_f64()? as usize;
    let rgba = js_sys::Uint8ClampedArray::new(&get("data")?).to_vec();
    if rgba.len() < width * height * 4 {
        return None;
    }
    // The green channel is a good enough luminance for black-on-white codes.
    let luma: Vec<u8> = rgba.chunks_exact(4).map(|p| p[1]).collect();
    let frame = keyward_qr::Frame::new(&luma, width, height)?;
    if get("cards").and_then(|c| c.as_bool()).unwrap_or(false) {
        keyward_qr::read_card(frame)
    } else {
        keyward_qr::read(frame)
    }
}
