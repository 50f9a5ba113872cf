//! Offering text to the person as a file download (backups, CSV lists, a damaged register's
//! raw copy): the one place that makes a Blob, a link and a click.

use leptos::prelude::document;
use wasm_bindgen::{JsCast, JsValue};

/// Offers `text` as a file called `name` of type `mime`; `Err` when the browser refused.
pub fn save(text: &str, name: &str, mime: &str) -> Result<(), ()> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob =
        web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(|_| ())?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| ())?;
    let anchor = document()
        .create_element("a")
        .map_err(|_| ())?
        .unchecked_into::<web_sys::HtmlAnchorElement>();
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// The file chosen in a file input's `change` event, with its input; `None` when none was.
pub fn chosen(ev: &leptos::ev::Event) -> Option<(web_sys::HtmlInputElement, web_sys::File)> {
    let input = ev.target()?.dyn_into::<web_sys::HtmlInputElement>().ok()?;
    let file = input.files()?.get(0)?;
    Some((input, file))
}

/// The text of a chosen file; `None` when the browser could not read it.
pub async fn text_of(file: &web_sys::File) -> Option<String> {
    wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .ok()
        .and_then(|t| t.as_string())
}
