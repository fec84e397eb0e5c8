//! Fixtures shaped like Lever's documentation examples (nulls, legacy fields, expanded and
//! plain references, unknown fields) parse into the model as intended.

use super::model::{DeletedOpportunity, Opportunity, Posting, Stage, Tag, User};
use super::wire::{self, DataEnvelope, ListEnvelope};
use crate::http::decode::decode;
use crate::http::observer::Api;

fn one(json: &str) -> Opportunity {
    decode::<DataEnvelope<wire::Opportunity>>(Api::Lever, "/t", json.as_bytes())
        .unwrap()
        .data
        .into()
}

fn list<W: serde::de::DeserializeOwned, T: From<W>>(
    json: &str,
) -> (Vec<T>, Option<String>, Option<bool>) {
    let page: ListEnvelope<W> = decode(Api::Lever, "/t", json.as_bytes()).unwrap();
    (
        page.data.unwrap().into_iter().map(T::from).collect(),
        page.next,
        page.has_next,
    )
}

#[test]
fn documentation_example_opportunity() {
    let o = one(include_str!(
        "../../tests/fixtures/lever/opportunity_doc.json"
    ));
    assert_eq!(o.id, "250d8f03-738a-4bba-a671-8a3d73477145");
    assert_eq!(o.name, "Shane Smith");
    assert_eq!(
        o.contact_id.as_deref(),
        Some("7f23e772-f2cf-4d9a-8cee-a2ae9f7e0b3f")
    );
    assert_eq!(o.emails, ["shane@exampleq3.com"]);
    assert_eq!(
        o.stage_id.as_deref(),
        Some("00922a60-7c15-422b-b086-f62000824fd7")
    );
    assert_eq!(o.tags.len(), 5);
    assert_eq!(o.application_ids, ["cdb1b3d9-eba6-4d2d-a8e1-1f2c1b0b3e0f"]);
    // Without expand=applications the posting is unknown.
    assert_eq!(o.posting_id, None);
    assert!(!o.archived);
    assert_eq!(o.archive_reason, None);
    assert!(!o.anonymized);
    assert_eq!(o.contact_allowed, Some(false));
    assert_eq!(o.updated_at, Some(1407460080506));
    assert_eq!(o.created_at, Some(1407460071043));
    assert_eq!(o.last_advanced_at, Some(1417587916964));
    assert_eq!(
        o.show_url.as_deref(),
        Some("https://hire.lever.co/candidates/250d8f03-738a-4bba-a671-8a3d73477145")
    );
}

#[test]
fn legacy_archived_fields_alone_mean_archived() {
    let o = one(include_str!(
        "../../tests/fixtures/lever/opportunity_legacy_archived.json"
    ));
    assert!(o.archived);
    assert_eq!(o.archived_at, Some(1417587916964));
    assert_eq!(
        o.archive_reason.as_deref(),
        Some("63dd55b2-a99f-4e7b-985f-22c7bf80ab42")
    );
    assert_eq!(o.updated_at, None);
    assert_eq!(o.contact_allowed, None);
    assert!(!o.anonymized);
    assert!(o.emails.is_empty());
}

#[test]
fn expanded_list_with_nulls_and_unknown_fields() {
    let (opps, next, has_next) = list::<wire::Opportunity, Opportunity>(include_str!(
        "../../tests/fixtures/lever/opportunities_expanded.json"
    ));
    assert_eq!(has_next, Some(true));
    assert_eq!(
        next.as_deref(),
        Some("0.1414895548650.a6070140-33db-407e-a9ee-f4d0a4f5e2c1")
    );
    let [a, b, c] = &opps[..] else {
        panic!("three rows expected")
    };

    assert_eq!(a.emails, ["ada@example.com", "ada.l@example.org"]);
    assert_eq!(a.stage_id.as_deref(), Some("stage-video"));
    assert_eq!(a.posting_id.as_deref(), Some("posting-pm"));
    assert_eq!(a.application_ids, ["app-1"]);
    assert!(a.archived);
    assert_eq!(a.archive_reason.as_deref(), Some("reason-hired"));
    assert_eq!(a.contact_allowed, Some(true));
    assert_eq!(a.updated_at, Some(1700000600000));

    assert_eq!(b.name, "");
    assert!(b.emails.is_empty() && b.tags.is_empty() && b.application_ids.is_empty());
    assert_eq!(
        (b.stage_id.as_deref(), b.contact_id.as_deref()),
        (None, None)
    );
    assert!(!b.archived);
    assert!(b.anonymized);
    assert_eq!(b.updated_at, None);

    assert_eq!(c.id, "opp-3");
    assert!(!c.archived && !c.anonymized);
}

#[test]
fn stages_postings_tags_users_deleted() {
    let (stages, _, _) =
        list::<wire::Stage, Stage>(include_str!("../../tests/fixtures/lever/stages.json"));
    assert_eq!(stages.len(), 4);
    assert_eq!(
        stages[2],
        Stage {
            id: "00922a60-7c15-422b-b086-f62000824fd7".into(),
            text: "Video Interview".into()
        }
    );
    assert_eq!(stages[3].text, "");

    let (postings, _, _) =
        list::<wire::Posting, Posting>(include_str!("../../tests/fixtures/lever/postings.json"));
    assert_eq!(postings[0].tags, ["Willo:Product Manager-Acme", "Remote"]);
    assert_eq!(postings[0].state.as_deref(), Some("published"));
    assert!(postings[1].tags.is_empty());

    let (tags, _, _) = list::<wire::Tag, Tag>(include_str!("../../tests/fixtures/lever/tags.json"));
    assert_eq!(
        tags,
        [
            Tag {
                text: "Willo:Invited".into(),
                count: 3
            },
            Tag {
                text: "Referral".into(),
                count: 0
            }
        ]
    );

    let (users, _, _) =
        list::<wire::User, User>(include_str!("../../tests/fixtures/lever/users.json"));
    assert_eq!(users[0].access_role.as_deref(), Some("super admin"));
    assert_eq!(users[0].deactivated_at, None);

    let (deleted, _, _) = list::<wire::DeletedOpportunity, DeletedOpportunity>(include_str!(
        "../../tests/fixtures/lever/deleted.json"
    ));
    assert_eq!(deleted[0].deleted_at, Some(1700000700000));
    assert_eq!(deleted[0].deleted_by.as_deref(), Some("user-1"));
    assert_eq!(deleted[1].deleted_at, None);
}

#[test]
fn note_response_carries_the_note_id() {
    let env: DataEnvelope<wire::NoteCreated> = decode(
        Api::Lever,
        "/t",
        include_bytes!("../../tests/fixtures/lever/note_created.json"),
    )
    .unwrap();
    assert_eq!(env.data.note_id.as_deref(), Some("note-42"));
}

#[test]
fn archived_only_with_an_archive_time_in_either_form() {
    let read = |archived: &str| one(&format!(r#"{{"data": {{"id": "o", {archived}}}}}"#));
    // The documented form: an object with a time, or null.
    let o = read(r#""archived": {"archivedAt": 1700000000000, "reason": "r1"}"#);
    assert!(o.archived);
    assert_eq!(o.archive_reason.as_deref(), Some("r1"));
    assert!(!read(r#""archived": null"#).archived);
    // An object whose fields are null is an active candidate.
    let o = read(r#""archived": {"archivedAt": null, "reason": null}"#);
    assert!(!o.archived);
    assert_eq!((o.archived_at, o.archive_reason), (None, None));
    // The legacy top-level fields alone.
    assert!(read(r#""archivedAt": 1700000000000, "archiveReason": "r2""#).archived);
    assert!(!read(r#""archivedAt": null, "archiveReason": null"#).archived);
    // An object without a time but a legacy time: archived.
    assert!(read(r#""archived": {"archivedAt": null}, "archivedAt": 17"#).archived);
}

#[test]
fn unneeded_fields_of_another_type_do_not_fail_the_row() {
    let o = one(
        r#"{"data": {"id": "o", "name": {"first": "A"}, "headline": 3,
            "confidentiality": {"level": "x"}, "urls": "nope", "updatedAt": "1700000000000",
            "createdAt": {"ms": 1}, "emails": ["a@example.com"], "tags": ["t"]}}"#,
    );
    assert_eq!(o.name, "");
    assert_eq!(
        (o.headline, o.confidentiality, o.show_url),
        (None, None, None)
    );
    assert_eq!(o.updated_at, Some(1_700_000_000_000));
    assert_eq!(o.created_at, None);
    assert_eq!(o.emails, ["a@example.com"]);
}
