use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <h1>"Not found"</h1>
        <p>"There is nothing at this address in the register on this device."</p>
        <p><A href="/" attr:class="button">"Go to the register"</A></p>
    }
}
