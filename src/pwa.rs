//! Service worker registration and the "new version — reload" offer. The worker itself
//! (public/sw.js, filled in by tools/sw-build.sh at build time) never swaps code under a
//! person: a new version waits until they choose to reload.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
export function register_worker(on_update) {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js').then((reg) => {
    const offer = () => { if (navigator.serviceWorker.controller) on_update(); };
    if (reg.waiting) offer();
    reg.addEventListener('updatefound', () => {
      const worker = reg.installing;
      if (!worker) return;
      worker.addEventListener('statechange', () => { if (worker.state === 'installed') offer(); });
    });
    // Look for a new version every hour while the app stays open.
    setInterval(() => reg.update().catch(() => {}), 3600 * 1000);
  }).catch(() => {});
}
export function activate_update() {
  navigator.serviceWorker.getRegistration().then((reg) => {
    if (!reg || !reg.waiting) { location.reload(); return; }
    navigator.serviceWorker.addEventListener('controllerchange', () => location.reload());
    reg.waiting.postMessage('skip-waiting');
  });
}
export function on_connectivity(callback) {
  window.addEventListener('online', () => callback(true));
  window.addEventListener('offline', () => callback(false));
  return navigator.onLine;
}
"#)]
extern "C" {
    fn register_worker(on_update: &Closure<dyn Fn()>);
    fn activate_update();
    fn on_connectivity(callback: &Closure<dyn Fn(bool)>) -> bool;
}

/// Registers the worker; `on_update` runs when a new version is installed and waiting.
pub fn register(on_update: impl Fn() + 'static) {
    let callback = Closure::<dyn Fn()>::new(on_update);
    register_worker(&callback);
    callback.forget();
}

/// Switches to the waiting version and reloads.
pub fn reload_to_update() {
    activate_update();
}

/// Whether the page is a secure context (https, or this device's own localhost): browsers
/// give the service worker (offline use) and the camera only then.
pub fn secure_context() -> bool {
    web_sys::window().is_some_and(|w| w.is_secure_context())
}

/// Calls `changed` when the device goes on or off line; returns whether it is online now.
pub fn watch_connectivity(changed: impl Fn(bool) + 'static) -> bool {
    let callback = Closure::<dyn Fn(bool)>::new(changed);
    let online = on_connectivity(&callback);
    callback.forget();
    online
}
