//! One body of Willo's `GET /participants/{key}/` (or a create's answer): never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use willo_lever_sync::willo::{StateFields, decode_participant};

fuzz_target!(|body: &[u8]| {
    if let Ok(p) = decode_participant(body, &StateFields::default()) {
        assert!(!p.key.is_empty());
        if let Some(state) = &p.state {
            assert_eq!(state.trim(), state);
        }
    }
});
