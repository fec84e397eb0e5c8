//! One body of Willo's `GET /interviews/`: never panics; every interview read has a key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use willo_lever_sync::willo::decode_interviews_page;

fuzz_target!(|body: &[u8]| {
    if let Ok((_next, rows)) = decode_interviews_page(body) {
        assert!(rows.iter().all(|i| !i.key.is_empty()));
    }
});
