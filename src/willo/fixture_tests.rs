//! Fixtures in each shape Willo may send (each state form, key-or-object interview, nulls).

use super::model::{Interview, Participant};
use super::wire;
use crate::http::decode::decode;
use crate::http::observer::Api;

#[test]
fn interviews_page() {
    let page: wire::Page<wire::Interview> = decode(
        Api::Willo,
        "/t",
        include_bytes!("../../tests/fixtures/willo/interviews.json"),
    )
    .unwrap();
    assert_eq!(page.next, None);
    let interviews: Vec<Interview> = page.results.into_iter().map(Interview::from).collect();
    assert_eq!(
        interviews[0],
        Interview {
            key: "1e2048a686804049b128f1357c559cbf".into(),
            title: "Researcher".into()
        }
    );
    assert_eq!(interviews[1].title, "");
}

#[test]
fn participants_in_every_state_form() {
    let page: wire::Page<wire::Participant> = decode(
        Api::Willo,
        "/t",
        include_bytes!("../../tests/fixtures/willo/participants_page.json"),
    )
    .unwrap();
    assert!(page.next.as_deref().unwrap().ends_with("page=2"));
    let rows: Vec<Participant> = page.results.into_iter().map(Participant::from).collect();
    let states: Vec<Option<&str>> = rows.iter().map(|p| p.state.as_deref()).collect();
    // stage string wins over status; stage object name; stage object title; status; none.
    assert_eq!(
        states,
        [
            Some("Accepted"),
            Some("To Review"),
            Some("Rejected"),
            Some("in_progress"),
            None
        ]
    );
    assert!(
        rows.iter()
            .all(|p| p.interview_key.as_deref() == Some("1e2048a686804049b128f1357c559cbf"))
    );

    let ada = &rows[0];
    assert_eq!(ada.email.as_deref(), Some("Ada@Example.com"));
    assert_eq!(ada.phone, None);
    assert_eq!(ada.external_id.as_deref(), Some("opp-1"));
    assert_eq!(ada.created_at, Some(1_767_261_600_123));
    assert_eq!(ada.updated_at, Some(1_767_348_000_000));
    assert_eq!(rows[2].external_id.as_deref(), Some("17"));
    assert_eq!(rows[3].created_at, None);
    assert_eq!(
        (rows[4].name.as_str(), rows[4].email.as_deref()),
        ("", None)
    );
}
