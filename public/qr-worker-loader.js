// Starts the QR decoder worker (src/qr_worker.rs, built by trunk as qr-worker.js + wasm).
importScripts("./qr-worker.js");
wasm_bindgen({ module_or_path: "./qr-worker_bg.wasm" });
