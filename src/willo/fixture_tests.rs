//! Fixtures in each shape Willo may send (each state form, key-or-object interview, nulls).

use super::model::{Interview, Participant};
use super::state::StateFields;
use super::wire;

#[test]
fn interviews_page() {
    let page = wire::page(
        "/t",
        include_bytes!("../../tests/fixtures/willo/interviews.json"),
    )
    .unwrap();
    assert_eq!(page.next, None);
    let interviews: Vec<Interview> = page
        .results
        .iter()
        .map(|r| Interview::from_json(r).unwrap())
        .collect();
    assert_eq!(
        interviews[0],
        Interview {
            key: "1e2048a686804049b128f1357c559cbf".into(),
            title: "Researcher".into(),
            department_key: Some("bb".into()),
            department_name: Some("Acme".into()),
            owner_key: Some("aa".into()),
            owner_email: Some("owner@example.com".into()),
        }
    );
    assert_eq!(interviews[1].title, "");
    assert_eq!(interviews[1].department_key.as_deref(), Some("cc"));
    assert_eq!(interviews[1].owner_email, None);
}

#[test]
fn participants_in_every_state_form() {
    let page = wire::page(
        "/t",
        include_bytes!("../../tests/fixtures/willo/participants_page.json"),
    )
    .unwrap();
    assert!(page.next.as_deref().unwrap().ends_with("page=2"));
    let fields = StateFields::default();
    let rows: Vec<Participant> = page
        .results
        .iter()
        .map(|r| Participant::from_json(r, &fields).unwrap())
        .collect();
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
    assert!(rows.iter().all(|p| !p.state_is_key));
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

#[test]
fn a_row_without_a_key_is_unreadable() {
    let row = serde_json::json!({"interview": "i", "stage": "Accepted"});
    assert_eq!(Participant::from_json(&row, &StateFields::default()), None);
    assert_eq!(
        Interview::from_json(&serde_json::json!({"title": "T"})),
        None
    );
}

#[test]
fn fields_of_unexpected_types_read_as_unknown_without_failing_the_row() {
    let row = serde_json::json!({
        "key": "0123456789abcdef0123456789abcdef",
        "interview": {"key": "i1", "title": "T"},
        "name": {"first": "Ada", "last": "Lovelace"},
        "email": ["ada@example.com"],
        "phone": {"number": "+44 1", "country_code": "GB"},
        "external_id": {"id": 3},
        "created_at": 1_767_225_600,
        "updated_at": {"at": "2026-01-01"},
        "stage": {"key": "k", "name": {"en": "Accepted"}},
        "status": "Accepted",
        "language": {"code": "en", "name": "English"},
        "responses": [{"question": "q"}]
    });
    let p = Participant::from_json(&row, &StateFields::default()).unwrap();
    assert_eq!(p.interview_key.as_deref(), Some("i1"));
    assert_eq!((p.name.as_str(), p.email.as_deref()), ("", None));
    assert_eq!(p.phone.as_deref(), Some("+44 1"));
    assert_eq!(p.external_id, None);
    assert_eq!(p.created_at, Some(1_767_225_600_000));
    assert_eq!(p.updated_at, None);
    // `stage.name` is not text, so the next path holding text wins.
    assert_eq!(p.state.as_deref(), Some("Accepted"));
}
