//! A signature drawn with a finger or a mouse, kept as SVG path data (small, and it redraws
//! exactly in the register's history).

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, PointerEvent};

/// The drawing box, in path units.
const WIDTH: f64 = 300.0;
const HEIGHT: f64 = 120.0;
/// A signature longer than this is surely a scribble gone wrong.
const MAX_PATH: usize = 20_000;

#[component]
pub fn SignaturePad(path: RwSignal<String>) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let drawing = StoredValue::new(false);

    let context = move || -> Option<CanvasRenderingContext2d> {
        canvas
            .get()?
            .get_context("2d")
            .ok()??
            .dyn_into::<CanvasRenderingContext2d>()
            .ok()
    };
    let point = move |ev: &PointerEvent| -> Option<(f64, f64)> {
        let element = canvas.get()?;
        let rect = element.get_bounding_client_rect();
        let x = (f64::from(ev.client_x()) - rect.left()) * WIDTH / rect.width();
        let y = (f64::from(ev.client_y()) - rect.top()) * HEIGHT / rect.height();
        Some((x.clamp(0.0, WIDTH).round(), y.clamp(0.0, HEIGHT).round()))
    };
    let on_down = move |ev: PointerEvent| {
        ev.prevent_default();
        let Some((x, y)) = point(&ev) else { return };
        if path.with_untracked(|p| p.len()) > MAX_PATH {
            return;
        }
        drawing.set_value(true);
        path.update(|p| p.push_str(&format!("M{x} {y} ")));
        if let Some(ctx) = context() {
            ctx.begin_path();
            ctx.move_to(x, y);
        }
    };
    let on_move = move |ev: PointerEvent| {
        if !drawing.get_value() {
            return;
        }
        ev.prevent_default();
        let Some((x, y)) = point(&ev) else { return };
        path.update(|p| p.push_str(&format!("L{x} {y} ")));
        if let Some(ctx) = context() {
            ctx.line_to(x, y);
            ctx.stroke();
        }
    };
    let on_up = move |_: PointerEvent| drawing.set_value(false);
    let clear = move |_| {
        path.set(String::new());
        if let Some(ctx) = context() {
            ctx.clear_rect(0.0, 0.0, WIDTH, HEIGHT);
        }
    };
    Effect::new(move |_| {
        if let Some(ctx) = context() {
            ctx.set_line_width(2.5);
            ctx.set_line_cap("round");
            ctx.set_line_join("round");
            ctx.set_stroke_style_str("#1a1a1a");
        }
    });

    view! {
        <div class="signature">
            <canvas
                node_ref=canvas
                width=WIDTH
                height=HEIGHT
                role="img"
                aria-label="Signature box: sign with your finger"
                on:pointerdown=on_down
                on:pointermove=on_move
                on:pointerup=on_up
                on:pointerleave=on_up
            ></canvas>
            <button type="button" class="button small" on:click=clear>"Clear signature"</button>
        </div>
    }
}
