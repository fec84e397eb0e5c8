//! One body of Lever's `GET /opportunities/{id}`: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use willo_lever_sync::lever::decode_opportunity;

fuzz_target!(|body: &[u8]| {
    if let Ok(o) = decode_opportunity(body) {
        assert!(o.emails.iter().all(|e| !e.trim().is_empty()));
        assert_eq!(o.archived, o.archived_at.is_some());
    }
});
