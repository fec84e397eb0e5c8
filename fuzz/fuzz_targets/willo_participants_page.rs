//! One body of Willo's `GET /participants/`: never panics; Ok only for an envelope with a
//! `results` list or a bare array, every row with a key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use willo_lever_sync::willo::{StateFields, decode_participants_page};

fuzz_target!(|body: &[u8]| {
    let fields = StateFields::default();
    if let Ok((_next, rows)) = decode_participants_page(body, &fields) {
        let v: serde_json::Value = serde_json::from_slice(body).expect("Ok only for JSON");
        let results = match &v {
            serde_json::Value::Array(a) => a.len(),
            other => other["results"]
                .as_array()
                .expect("Ok only with results")
                .len(),
        };
        assert_eq!(rows.len(), results);
        assert!(
            rows.iter()
                .all(|p| !p.key.is_empty() && p.key.trim() == p.key)
        );
    }
});
