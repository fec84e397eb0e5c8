//! Where a participant's state is read from. Willo publishes no participant schema, so which
//! field carries the state is configuration (`[tenants.willo] state_fields`): an ordered list
//! of dotted JSON paths, the first one holding non-empty text wins.

use serde_json::Value;

/// The paths read when the configuration names none: what the model describes (`stage` as
/// text, or a `stage` object's `name` or `title`), then `status`.
pub const DEFAULT_STATE_FIELDS: [&str; 4] = ["stage", "stage.name", "stage.title", "status"];

/// Where the link to a participant's response is looked for when the configuration names no
/// path (`response_link_fields`). Willo documents no such field; these are plausible names,
/// and a tenant whose account uses another sets its own (rule: completion note).
pub const DEFAULT_RESPONSE_LINK_FIELDS: [&str; 3] = ["share_link", "response_url", "public_url"];

/// Ordered dotted JSON paths (`stage.name`), each a list of object keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateFields {
    paths: Vec<String>,
}

/// Why a path cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path:?} is not a dotted JSON path such as \"stage.name\" (empty segment)")]
pub struct StateFieldError {
    pub path: String,
}

impl Default for StateFields {
    fn default() -> Self {
        StateFields {
            paths: DEFAULT_STATE_FIELDS.iter().map(|p| p.to_string()).collect(),
        }
    }
}

impl StateFields {
    /// Checks each path (non-empty segments separated by dots). An empty list is refused:
    /// every participant would read as invited.
    pub fn new<S: AsRef<str>>(paths: &[S]) -> Result<StateFields, StateFieldError> {
        if paths.is_empty() {
            return Err(StateFieldError {
                path: String::new(),
            });
        }
        let mut out = Vec::with_capacity(paths.len());
        for p in paths {
            let p = p.as_ref().trim();
            let segments: Vec<&str> = p.split('.').map(str::trim).collect();
            if segments.iter().any(|segment| segment.is_empty()) {
                return Err(StateFieldError { path: p.to_owned() });
            }
            out.push(segments.join("."));
        }
        Ok(StateFields { paths: out })
    }

    /// The default paths of `response_link_fields`.
    pub fn response_links() -> StateFields {
        StateFields {
            paths: DEFAULT_RESPONSE_LINK_FIELDS
                .iter()
                .map(|p| p.to_string())
                .collect(),
        }
    }

    /// No paths: nothing is ever found (`response_link_fields = []`).
    pub fn none() -> StateFields {
        StateFields { paths: Vec::new() }
    }

    /// The first path holding an http(s) URL, as a link to put in a note. Text that is not a
    /// web address is skipped: a note must not carry a key or a word as if it were a link.
    pub fn find_link(&self, row: &Value) -> Option<String> {
        self.paths.iter().find_map(|path| {
            let text = at_path(row, path)?;
            let url = url::Url::parse(&text).ok()?;
            matches!(url.scheme(), "https" | "http").then_some(text)
        })
    }

    /// The paths, in order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.paths.iter().map(String::as_str)
    }

    /// The first path holding non-empty text, and that text (trimmed).
    pub fn find<'a>(&'a self, row: &Value) -> Option<(&'a str, String)> {
        self.paths
            .iter()
            .find_map(|path| at_path(row, path).map(|text| (path.as_str(), text)))
    }
}

/// The text at a dotted path, if that is where non-empty text is.
fn at_path(row: &Value, path: &str) -> Option<String> {
    let mut v = row;
    for segment in path.split('.') {
        v = v.get(segment)?;
    }
    super::wire::text(v)
}

/// True when a state looks like a key (32 hexadecimal characters, a UUID without dashes)
/// rather than a name: the path then points at a board stage's key, which the default status
/// map cannot know.
pub fn looks_like_key(state: &str) -> bool {
    state.len() == 32 && state.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(fields: &StateFields, row: Value) -> Option<String> {
        fields.find(&row).map(|(_, s)| s)
    }

    #[test]
    fn the_default_follows_the_model_order() {
        let f = StateFields::default();
        assert_eq!(
            read(&f, json!({"stage": " Accepted ", "status": "new"})).as_deref(),
            Some("Accepted")
        );
        assert_eq!(
            read(&f, json!({"stage": {"name": "To Review"}, "status": "x"})).as_deref(),
            Some("To Review")
        );
        assert_eq!(
            read(&f, json!({"stage": {"title": "Rejected"}})).as_deref(),
            Some("Rejected")
        );
        assert_eq!(
            read(&f, json!({"stage": {"name": null, "title": "Hired"}})).as_deref(),
            Some("Hired")
        );
        assert_eq!(
            read(&f, json!({"status": "completed"})).as_deref(),
            Some("completed")
        );
        assert_eq!(read(&f, json!({"stage": "", "status": "  "})), None);
        assert_eq!(read(&f, json!({"stage": 3})), None);
        assert_eq!(
            read(&f, json!({"current_stage": {"name": "Accepted"}})),
            None
        );
    }

    #[test]
    fn configured_paths_are_read_in_order_and_say_which_matched() {
        let f = StateFields::new(&["current_stage. name ", "pipeline_stage"]).unwrap();
        assert_eq!(
            f.paths().collect::<Vec<_>>(),
            ["current_stage.name", "pipeline_stage"]
        );
        let row = json!({"current_stage": {"key": "k", "name": "Accepted"}, "pipeline_stage": "x"});
        assert_eq!(
            f.find(&row),
            Some(("current_stage.name", "Accepted".to_owned()))
        );
        assert_eq!(
            f.find(&json!({"pipeline_stage": "Rejected"})),
            Some(("pipeline_stage", "Rejected".to_owned()))
        );
    }

    #[test]
    fn bad_paths_are_refused() {
        assert!(StateFields::new::<&str>(&[]).is_err());
        assert!(StateFields::new(&["stage..name"]).is_err());
        assert!(StateFields::new(&[""]).is_err());
        assert!(StateFields::new(&[".stage"]).is_err());
    }

    #[test]
    fn keys_are_told_from_names() {
        assert!(looks_like_key("0123456789abcdef0123456789ABCDEF"));
        assert!(!looks_like_key("Accepted"));
        assert!(!looks_like_key("0123456789abcdef0123456789abcde"));
        assert!(!looks_like_key("0123456789abcdef0123456789abcdeg"));
    }
}
