//! Keeps several tabs of the app on one register consistent: after storing an event a tab
//! announces it on a BroadcastChannel, and the others read the log from where they were.

use wasm_bindgen::prelude::*;
use web_sys::BroadcastChannel;

const CHANNEL: &str = "keyward-register";

thread_local! {
    static CHANNEL_HANDLE: Option<BroadcastChannel> = BroadcastChannel::new(CHANNEL).ok();
}

/// Calls `changed` whenever another tab stored something.
pub fn listen(changed: impl Fn() + 'static) {
    CHANNEL_HANDLE.with(|channel| {
        if let Some(channel) = channel {
            let callback = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |_| changed());
            channel.set_onmessage(Some(callback.as_ref().unchecked_ref()));
            // Lives as long as the page does.
            callback.forget();
        }
    });
}

/// Tells the other tabs there is something new in the log.
pub fn announce() {
    CHANNEL_HANDLE.with(|channel| {
        if let Some(channel) = channel {
            let _ = channel.post_message(&JsValue::from_str("changed"));
        }
    });
}
