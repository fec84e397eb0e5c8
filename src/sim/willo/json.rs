//! The JSON of interviews, participants and webhook bodies, in the forms the switches pick.

use serde_json::{Map, Value, json};

use super::model::{Interview, InterviewForm, Participant, StateForm, WebhookBodyForm};
use super::variants::{DepartmentForm, PhoneForm, ResponseLinkForm, TimestampForm};
use super::world::WilloWorld;

/// ISO 8601 in UTC with microseconds, as Django REST framework writes datetimes.
pub(crate) fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .unwrap_or_default()
}

fn timestamp(form: TimestampForm, ms: i64) -> Value {
    match form {
        TimestampForm::Iso => json!(iso(ms)),
        TimestampForm::EpochSeconds => json!(ms.div_euclid(1000)),
        TimestampForm::EpochMillis => json!(ms),
    }
}

/// The 32-hex key of a board stage, as [`StateForm::StageKey`] and the stage objects show it:
/// stable per stage name (case-insensitive), so a test can compute the key it will see.
pub fn stage_key(name: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(name.to_lowercase().as_bytes())[..16])
}

pub(crate) fn interview_json(w: &WilloWorld, i: &Interview) -> Value {
    let s = &w.settings;
    let mut m = Map::new();
    m.insert("key".into(), json!(i.key));
    m.insert("title".into(), json!(i.title));
    let department = i.department.as_deref().map(|key| match s.department_form {
        DepartmentForm::Key => json!(key),
        DepartmentForm::Object => json!({
            "key": key,
            "name": w.department(key).map(|d| d.name.as_str()),
        }),
    });
    m.insert("department".into(), json!(department));
    m.insert(
        "owner".into(),
        json!({"key": i.owner.key, "email": i.owner.email, "full_name": i.owner.full_name}),
    );
    m.insert("created_at".into(), timestamp(s.timestamps, i.created_at));
    if s.nested_objects {
        m.insert("language".into(), json!({"code": "en", "name": "English"}));
    }
    if s.extra_fields {
        m.insert(
            "questions".into(),
            json!([{"key": stage_key(&i.title), "prompt": "Tell us about yourself",
                    "answer_type": "video", "duration": 120, "retakes": 2}]),
        );
        m.insert(
            "invite_link".into(),
            json!(format!(
                "https://app.willotalent.com/invite/{}",
                &i.key[..6]
            )),
        );
        m.insert("meta".into(), json!({"template": null, "version": 3}));
    }
    Value::Object(m)
}

fn state_fields(m: &mut Map<String, Value>, form: StateForm, state: &str) {
    let object = || json!({"key": stage_key(state), "name": state});
    match form {
        StateForm::StageObject => {
            m.insert("stage".into(), object());
        }
        StateForm::StageString => {
            m.insert("stage".into(), json!(state));
        }
        StateForm::StatusString => {
            m.insert("status".into(), json!(state));
        }
        StateForm::Missing => {}
        StateForm::StageTitle => {
            m.insert(
                "stage".into(),
                json!({"key": stage_key(state), "title": state}),
            );
        }
        StateForm::CurrentStageName => {
            m.insert("current_stage".into(), object());
        }
        StateForm::PipelineStage => {
            m.insert("pipeline_stage".into(), json!(state));
        }
        StateForm::StageKey => {
            m.insert("stage".into(), json!(stage_key(state)));
        }
    }
}

pub(crate) fn participant_json(w: &WilloWorld, p: &Participant) -> Value {
    let s = &w.settings;
    let interview = w.interview(&p.interview);
    let mut m = Map::new();
    m.insert("key".into(), json!(p.key));
    m.insert(
        "interview".into(),
        match (s.interview_form, interview) {
            (InterviewForm::Object, Some(i)) => json!({"key": i.key, "title": i.title}),
            _ => json!(p.interview),
        },
    );
    m.insert("name".into(), json!(p.name));
    m.insert("first_name".into(), json!(p.first_name));
    m.insert("last_name".into(), json!(p.last_name));
    m.insert("email".into(), json!(p.email));
    m.insert(
        "phone".into(),
        match (s.phone, &p.phone) {
            (_, None) => Value::Null,
            (PhoneForm::Text, Some(n)) => json!(n),
            (PhoneForm::Object, Some(n)) => json!({"number": n, "country_code": null}),
        },
    );
    m.insert("external_id".into(), json!(p.external_id));
    m.insert("created_at".into(), timestamp(s.timestamps, p.created_at));
    m.insert("updated_at".into(), timestamp(s.timestamps, p.updated_at));
    state_fields(&mut m, p.state_form.unwrap_or(s.state_form), &p.state);
    if p.state != s.initial_state {
        response_link(&mut m, s.response_link, &p.key);
    }
    if s.nested_objects {
        m.insert("language".into(), json!({"code": "en", "name": "English"}));
    }
    if s.extra_fields {
        m.insert("responses".into(), json!([]));
        m.insert("idv_status".into(), json!({"state": "not_started"}));
        m.insert("tags".into(), json!([]));
        m.insert("score".into(), Value::Null);
        m.insert(
            "meta".into(),
            json!({"source": "api", "ip": null, "user_agent": null}),
        );
    }
    Value::Object(m)
}

/// The response link of a participant past the initial state, where `form` puts it.
fn response_link(m: &mut Map<String, Value>, form: ResponseLinkForm, key: &str) {
    let url = format!("https://app.willotalent.example/review/{key}");
    match form {
        ResponseLinkForm::None => {}
        ResponseLinkForm::ShareLink => {
            m.insert("share_link".into(), json!(url));
        }
        ResponseLinkForm::ResponseUrl => {
            m.insert("response_url".into(), json!(url));
        }
        ResponseLinkForm::ReviewObject => {
            m.insert("review".into(), json!({ "url": url }));
        }
        ResponseLinkForm::NotAUrl => {
            m.insert("share_link".into(), json!(key));
        }
    }
}

pub(crate) fn webhook_body(
    form: WebhookBodyForm,
    p: &Participant,
    i: Option<&Interview>,
    now: i64,
) -> Value {
    let title = i.map(|i| i.title.as_str());
    match form {
        WebhookBodyForm::ParticipantKey => json!({"participant": p.key, "interview": p.interview}),
        WebhookBodyForm::ParticipantObject => json!({
            "participant": {"key": p.key, "name": p.name, "email": p.email},
            "interview": {"key": p.interview, "title": title},
        }),
        WebhookBodyForm::ParticipantKeyField => {
            json!({"participant_key": p.key, "interview_key": p.interview})
        }
        WebhookBodyForm::Key => json!({"key": p.key, "interview": p.interview}),
        WebhookBodyForm::DataCandidateUuid => json!({
            "data": {
                "candidate": {"uuid": p.key, "name": p.name, "email": p.email},
                "interview": {"uuid": p.interview, "title": title},
            },
        }),
        WebhookBodyForm::ResponseParticipantId => json!({
            "response": {
                "participant_id": p.key,
                "interview_id": p.interview,
                "submitted_at": iso(now),
            },
        }),
        WebhookBodyForm::BareHexValues => json!({
            "api_version": "v1",
            "refs": [p.interview, p.key],
            "sent_at": iso(now),
        }),
        WebhookBodyForm::NoParticipantKey => json!({
            "api_version": "v1",
            "interview": p.interview,
            "sent_at": iso(now),
        }),
    }
}
