//! One body of Lever's `GET /opportunities`: never panics; a page read as Ok came from a JSON
//! object with a `data` list (as many items as the list), so an unreadable page can never
//! pass for an empty one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use willo_lever_sync::lever::decode_opportunities_page;

fuzz_target!(|body: &[u8]| {
    if let Ok((items, _next, _has_next)) = decode_opportunities_page(body) {
        // Fields the product does not read are skipped unchecked (invalid UTF-8 inside them
        // included), so only a body that is valid JSON throughout is compared item by item.
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
            let data = v["data"].as_array().expect("Ok only with a data list");
            assert_eq!(items.len(), data.len());
        }
        for o in &items {
            assert!(
                o.emails
                    .iter()
                    .all(|e| !e.trim().is_empty() && e.trim() == e)
            );
            assert_eq!(o.archived, o.archived_at.is_some());
        }
    }
});
