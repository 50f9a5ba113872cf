//! Keyward in the browser: a Leptos CSR app over keyward-core. See ARCHITECTURE.md.

mod api;
mod app;
mod camera;
mod components;
mod device;
mod download;
mod pin;
mod pwa;
mod routes;
mod settings;
mod state;
mod storage;
mod sync;
mod tabs;

fn main() {
    console_error_panic_hook_lite();
    leptos::mount::mount_to_body(app::App);
}

/// Panics would otherwise vanish silently with `panic = "abort"`; log them to the console.
fn console_error_panic_hook_lite() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&info.to_string().into());
    }));
}
