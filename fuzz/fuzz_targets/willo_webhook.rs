//! Willo webhook bodies: searched for a participant key, never parsed against a schema.
//! Never panics; every key it returns is 32 hex characters found in the body. (That the shape
//! it logs holds no key is not asserted here: an object *name* with a key inside it shows in
//! the shape, the defect `decoder_props::fuzzing_found_…` records.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use willo_lever_sync::webhook_checks;

fn is_key(k: &str) -> bool {
    k.len() == 32 && k.bytes().all(|b| b.is_ascii_hexdigit())
}

fuzz_target!(|body: &[u8]| {
    let (named, candidates, shape) = webhook_checks::willo(body);
    let text = String::from_utf8_lossy(body);
    if let Some(k) = &named {
        assert!(is_key(k) && text.contains(k.as_str()));
    }
    assert!(candidates.len() <= 16);
    for c in &candidates {
        assert!(is_key(c) && text.contains(c.as_str()));
    }
});
