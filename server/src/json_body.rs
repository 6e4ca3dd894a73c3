//! Request bodies as the API reads them: JSON whose refusals use the API's error format, and
//! whose whole numbers may be written with a fraction of zero.
//!
//! The OpenAPI document is JSON Schema 2020-12, where `30.0` *is* an integer; Python's `json`
//! writes a float that holds a whole number that way. serde refuses it for an integer field, so
//! when serde refuses a body at such a number, that number is written as an integer and the body
//! read again. Only the numbers serde refused change: a field that takes any JSON (a flag's
//! variant, a config value) keeps what was sent.

use crate::error::ApiError;
use app::error::{AppError, ErrorCode};
use axum::extract::{FromRequest, Request};
use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Number, Value};
use serde_path_to_error::{Path, Segment};
use std::{fmt, marker::PhantomData};

/// A JSON object body (`Json`) whose rejections use the API's error format, and which takes
/// `30.0` where an integer is expected.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(value) = axum::Json::<Value>::from_request(req, state).await?;
        Ok(ApiJson(read_object(value)?))
    }
}

/// A parsed body as `T`, by the rules of [`ApiJson`]: a JSON object (422 otherwise), whose
/// whole numbers may be written with a fraction of zero. For handlers that read the body
/// themselves (an optional one).
pub fn read_object<T: DeserializeOwned>(mut value: Value) -> Result<T, AppError> {
    // serde would read `[null, null]` into a struct's fields in order; no body here is a list.
    if !value.is_object() {
        return Err(AppError::unprocessable(
            "Invalid JSON body: it must be a JSON object ({...}) with the fields this endpoint takes",
        ));
    }
    // Each retry fixes one number; a body of a thousand of them is refused at the 65th.
    for _ in 0..=64 {
        let refusal = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(body) => return Ok(body),
            Err(e) => e,
        };
        let refused = number_at(&mut value, refusal.path());
        match refused.and_then(|n| as_whole(n).map(|w| (n, w))) {
            Some((n, whole)) => *n = whole,
            None => {
                return Err(AppError::new(
                    ErrorCode::Unprocessable,
                    format!("Invalid JSON body: {refusal}"),
                ))
            }
        }
    }
    Err(AppError::unprocessable(
        "Invalid JSON body: too many numbers written with a fraction where whole ones are expected",
    ))
}

/// A `T` read from a JSON object only. serde reads a derived struct from a list of its fields in
/// order as well (`[{"a": "b"}]` would be an alert with those labels), which no sender writes and
/// no document allows. For bodies read straight from their bytes, where [`read_object`]'s parse
/// to a `Value` first would cost a hot path.
#[derive(Debug)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Fields<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(Fields(PhantomData))
            .map(Object)
    }
}

/// The number at `path` in `value`, if that is one.
fn number_at<'v>(value: &'v mut Value, path: &Path) -> Option<&'v mut Number> {
    let mut here = value;
    for segment in path.iter() {
        here = match (segment, here) {
            (Segment::Seq { index }, Value::Array(items)) => items.get_mut(*index)?,
            (Segment::Map { key }, Value::Object(fields)) => fields.get_mut(key)?,
            _ => return None,
        };
    }
    match here {
        Value::Number(n) => Some(n),
        _ => None,
    }
}

/// A time as the API takes it in JSON: RFC 3339 text or Unix milliseconds, as Unix milliseconds.
pub fn time_ms(value: &Value) -> Option<i64> {
    match value {
        Value::String(text) => crate::rfc3339_ms(text),
        number => whole_number(number),
    }
}

/// `value` as a whole number: `30` or `30.0`, not `30.5`, nor one past 64 bits.
pub fn whole_number(value: &Value) -> Option<i64> {
    let n = value.as_number()?;
    n.as_i64().or_else(|| as_whole(n).and_then(|w| w.as_i64()))
}

fn as_whole(n: &Number) -> Option<Number> {
    let f = n.as_f64().filter(|_| n.is_f64())?;
    // Past 2^53 a float no longer counts every integer; below it the conversion is exact.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    (f.fract() == 0.0 && f.abs() <= EXACT).then(|| Number::from(f as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{body::Body, http::Request as HttpRequest};
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Step {
        delay_s: u32,
        share: f64,
        label: Value,
    }

    async fn read<T: DeserializeOwned>(body: &str) -> Result<T, String> {
        let request = HttpRequest::post("/")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        match ApiJson::<T>::from_request(request, &()).await {
            Ok(ApiJson(v)) => Ok(v),
            Err(ApiError(e)) => Err(format!("{} {}", e.code.status(), e.message)),
        }
    }

    #[tokio::test]
    async fn a_whole_number_written_with_a_fraction_of_zero_is_an_integer() {
        let step: Step = read(r#"{"delay_s": 900.0, "share": 2.0, "label": 3.0}"#)
            .await
            .unwrap();
        // The integer field takes it; a field that keeps any JSON keeps what was sent.
        assert_eq!(step.delay_s, 900);
        assert_eq!(step.share, 2.0);
        assert_eq!(step.label, json!(3.0));
        assert!(step.label.is_f64());
    }

    #[tokio::test]
    async fn a_fraction_or_a_mistake_is_still_refused_with_its_place() {
        let err = read::<Step>(r#"{"delay_s": 1.5, "share": 1, "label": 1}"#)
            .await
            .unwrap_err();
        assert!(
            err.starts_with("422 Invalid JSON body: delay_s: invalid type"),
            "{err}"
        );
        // A list is not read into a struct's fields in order.
        let err = read::<Step>("[1, 1, 1]").await.unwrap_err();
        assert!(
            err.starts_with("422 Invalid JSON body: it must be a JSON object"),
            "{err}"
        );
        let err = read::<Step>(r#"{"delay_s": 1.0, "share": 1, "label": 1, "extra": 2.0}"#)
            .await
            .unwrap_err();
        assert!(
            err.starts_with("422 ") && err.contains("unknown field `extra`"),
            "{err}"
        );
        let err = read::<Step>("{").await.unwrap_err();
        assert!(err.starts_with("400 "), "{err}");
    }

    #[test]
    fn an_object_is_read_from_an_object_only() {
        let read = |body: &str| serde_json::from_str::<Vec<Object<Step>>>(body).map(|v| v.len());
        let step = r#"{"delay_s": 1, "share": 0.5, "label": "x"}"#;
        assert_eq!(read(&format!("[{step}]")).unwrap(), 1);
        // The same fields as a list, which a plain derived struct takes.
        assert!(serde_json::from_str::<Step>(r#"[1, 0.5, "x"]"#).is_ok());
        let err = read(r#"[[1, 0.5, "x"]]"#).unwrap_err().to_string();
        assert!(err.contains("expected a JSON object"), "{err}");
        // What the struct itself refuses is still refused, with the struct's words.
        let err = read(r#"[{"delay_s": 1, "share": 0.5, "label": 1, "extra": 2}]"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `extra`"), "{err}");
    }

    #[test]
    fn whole_numbers() {
        assert_eq!(whole_number(&json!(30)), Some(30));
        assert_eq!(whole_number(&json!(30.0)), Some(30));
        assert_eq!(whole_number(&json!(-2.0)), Some(-2));
        assert_eq!(whole_number(&json!(30.5)), None);
        assert_eq!(whole_number(&json!(1e300)), None);
        assert_eq!(whole_number(&json!("30")), None);
    }

    #[test]
    fn times_are_rfc_3339_or_unix_milliseconds() {
        let ms = 1_796_083_200_000;
        assert_eq!(time_ms(&json!("2026-12-01T00:00:00Z")), Some(ms));
        assert_eq!(
            time_ms(&json!("2026-12-01T01:00:00.250+01:00")),
            Some(ms + 250)
        );
        assert_eq!(time_ms(&json!(ms)), Some(ms));
        assert_eq!(time_ms(&json!(1_796_083_200_000.0)), Some(ms));
        // Digits in text are no time in a body (a query string's are read where it is).
        for refused in [
            json!("1796083200000"),
            json!("tomorrow"),
            json!(1.5),
            json!(true),
        ] {
            assert_eq!(time_ms(&refused), None, "{refused}");
        }
    }
}
