//! The shape of a JSON record: its paths and the type found at each, never a value. `doctor`
//! shows it so an operator can choose `state_fields` without seeing anyone's data.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// Each path (`stage.name`, `responses[].question`) and the JSON types seen there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    paths: BTreeMap<String, BTreeSet<&'static str>>,
}

/// How deep a record is walked: deeper levels hold answers, not fields to configure.
const MAX_DEPTH: usize = 4;

impl Shape {
    /// The shape of one record.
    pub fn of(v: &Value) -> Shape {
        let mut shape = Shape::default();
        shape.walk("", v, 0);
        shape
    }

    /// Adds another record's paths and types.
    pub fn merge(&mut self, other: Shape) {
        for (path, kinds) in other.paths {
            self.paths.entry(path).or_default().extend(kinds);
        }
    }

    /// `(path, types joined by "|")`, sorted by path.
    pub fn entries(&self) -> impl Iterator<Item = (&str, String)> {
        self.paths.iter().map(|(p, kinds)| {
            (
                p.as_str(),
                kinds.iter().copied().collect::<Vec<_>>().join("|"),
            )
        })
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    fn walk(&mut self, path: &str, v: &Value, depth: usize) {
        if !path.is_empty() {
            self.paths
                .entry(path.to_owned())
                .or_default()
                .insert(kind(v));
        }
        if depth >= MAX_DEPTH {
            return;
        }
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let child_path = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    self.walk(&child_path, child, depth + 1);
                }
            }
            Value::Array(items) => {
                let child_path = format!("{path}[]");
                for item in items {
                    self.walk(&child_path, item, depth + 1);
                }
            }
            _ => {}
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_and_types_without_values() {
        let mut s = Shape::of(&json!({
            "key": "k", "email": "ada@example.com",
            "stage": {"key": "s", "name": "Accepted"},
            "responses": [{"question": "q", "score": 3}],
            "phone": null
        }));
        s.merge(Shape::of(&json!({"phone": {"number": "+1"}})));
        let entries: Vec<(String, String)> = s.entries().map(|(p, t)| (p.to_owned(), t)).collect();
        let expect = |p: &str, t: &str| (p.to_owned(), t.to_owned());
        assert_eq!(
            entries,
            [
                expect("email", "string"),
                expect("key", "string"),
                expect("phone", "null|object"),
                expect("phone.number", "string"),
                expect("responses", "array"),
                expect("responses[]", "object"),
                expect("responses[].question", "string"),
                expect("responses[].score", "number"),
                expect("stage", "object"),
                expect("stage.key", "string"),
                expect("stage.name", "string"),
            ]
        );
        let printed = format!("{entries:?}");
        assert!(!printed.contains("ada@") && !printed.contains("Accepted"));
    }
}
