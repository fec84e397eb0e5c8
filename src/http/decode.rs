//! JSON decoding that says *where* a vendor payload stopped matching (`ApiError::Decode`).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use super::error::ApiError;
use super::observer::Api;

/// Decodes `body`, reporting the JSON path of the first failure (e.g. `data[3].emails`).
pub fn decode<T: DeserializeOwned>(
    api: Api,
    route: &'static str,
    body: &[u8],
) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value =
        serde_path_to_error::deserialize(&mut de).map_err(|e| decode_error(api, route, e))?;
    // Trailing garbage after a complete document is a broken body too.
    de.end().map_err(|e| ApiError::Decode {
        api,
        route,
        path: ".".into(),
        message: e.to_string(),
    })?;
    Ok(value)
}

fn decode_error(
    api: Api,
    route: &'static str,
    e: serde_path_to_error::Error<serde_json::Error>,
) -> ApiError {
    let path = e.path().to_string();
    ApiError::Decode {
        api,
        route,
        path,
        message: e.into_inner().to_string(),
    }
}

/// For `#[serde(deserialize_with)]`: `null` (or a missing field, with `default`) becomes the
/// type's default. Vendors send `null` for empty lists.
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// For `#[serde(deserialize_with)]` on fields the product does not rely on: any JSON value is
/// accepted, and one that is not a `T` reads as `None` instead of failing the whole page
/// (vendors add nested objects where a string used to be).
pub fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Page {
        data: Vec<Row>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Row {
        id: String,
        emails: Vec<String>,
    }

    #[test]
    fn truncated_body_names_the_path_it_reached() {
        let body = br#"{"data":[{"id":"a","emails":["x@y"]},{"id":"b","emails":["p@"#;
        match decode::<Page>(Api::Lever, "/opportunities", body).unwrap_err() {
            ApiError::Decode { path, route, .. } => {
                assert_eq!(path, "data[1].emails[0]");
                assert_eq!(route, "/opportunities");
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn lenient_fields_read_a_wrong_type_as_none() {
        #[derive(Debug, serde::Deserialize)]
        struct Row {
            #[serde(default, deserialize_with = "lenient")]
            name: Option<String>,
        }
        let read = |json: &str| {
            decode::<Row>(Api::Lever, "/r", json.as_bytes())
                .unwrap()
                .name
        };
        assert_eq!(read(r#"{"name":"Ada"}"#).as_deref(), Some("Ada"));
        assert_eq!(read(r#"{"name":{"first":"Ada"}}"#), None);
        assert_eq!(read(r#"{"name":null}"#), None);
        assert_eq!(read(r#"{}"#), None);
    }

    #[test]
    fn wrong_type_names_the_field() {
        let body = br#"{"data":[{"id":"a","emails":"x@y"}]}"#;
        match decode::<Page>(Api::Lever, "/r", body).unwrap_err() {
            ApiError::Decode { path, .. } => assert_eq!(path, "data[0].emails"),
            other => panic!("unexpected {other}"),
        }
    }
}
