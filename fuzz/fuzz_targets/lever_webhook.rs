//! Lever webhook deliveries: any body, checked against two signature tokens (a rotation).
//! Never panics; a delivery is queued only if it carries a valid signature, which random
//! bytes cannot forge, so a queued id must be one the body names with a valid shape.
#![no_main]

use libfuzzer_sys::fuzz_target;
use willo_lever_sync::webhook_checks;

const NOW: i64 = 1_767_225_600_000;

fuzz_target!(|body: &[u8]| {
    if let Ok(Some(id)) = webhook_checks::lever(body, &["current-token", "previous-token"], NOW) {
        assert!(!id.is_empty() && !id.contains('.') && !id.contains('/'));
    }
});
