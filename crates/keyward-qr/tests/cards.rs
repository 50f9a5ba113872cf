//! A person is chosen by scanning their staff or pupil card: `read_card` reads the barcodes ID
//! cards carry, small, blurred and turned as a phone sees them; `read` (labels) does not look
//! for them.

#[path = "support/card.rs"]
mod card;

use card::{Symbology, View};
use keyward_qr::{read, read_card, Frame};

fn seen(symbology: Symbology, text: &str, view: View) -> Vec<u8> {
    card::frame(&symbology.bars(text), view)
}

const PHONE: View = View {
    width: 640,
    height: 480,
    module: 2.5,
    blur: 1.2,
    roll: 4.0,
};

#[test]
fn every_card_barcode_is_read() {
    for (name, text) in [
        ("code128", "ST-1042"),
        ("code128", "P20231187"),
        ("code39", "1042"),
        // Codabar's start and stop letters are not part of the number.
        ("codabar", "A40156B"),
        ("ean13", "5012345678900"),
    ] {
        let symbology = Symbology::parse(name).expect("a symbology");
        let luma = seen(symbology, text, PHONE);
        let frame = Frame::new(&luma, PHONE.width, PHONE.height).unwrap();
        let want = text.trim_start_matches('A').trim_end_matches('B');
        assert_eq!(
            read_card(frame).as_deref(),
            Some(want),
            "{symbology:?} {text}"
        );
    }
}

#[test]
fn a_small_blurred_card_is_read() {
    let view = View {
        // Two pixels a module: a card of 4 cm a long arm away in 640×480.
        module: 2.0,
        blur: 1.0,
        roll: 8.0,
        ..PHONE
    };
    let luma = seen(Symbology::Code128, "ST-1042", view);
    let frame = Frame::new(&luma, view.width, view.height).unwrap();
    assert_eq!(read_card(frame).as_deref(), Some("ST-1042"));
}

#[test]
fn a_card_with_no_barcode_reads_as_nothing() {
    let luma = card::frame(&[false; 80], PHONE);
    let frame = Frame::new(&luma, PHONE.width, PHONE.height).unwrap();
    assert_eq!(read_card(frame), None);
}

#[test]
fn a_label_scan_does_not_look_for_card_barcodes() {
    let luma = seen(Symbology::Code128, "ST-1042", PHONE);
    let frame = Frame::new(&luma, PHONE.width, PHONE.height).unwrap();
    assert_eq!(read(frame), None);
}
