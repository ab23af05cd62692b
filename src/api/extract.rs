//! Turning requests into typed values, with errors that name the field.

use super::error::{ApiError, Code};
use crate::domain::schema::{integer, schema_rule};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

/// The largest request body accepted: a POS batch of 1,000 lines fits with room to spare.
pub const BODY_BYTES_MAX: usize = 1024 * 1024;
/// Longest a request body may take to arrive once its headers have (a slow client holds a
/// worker's connection, not a thread, but must not hold it forever).
pub const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A JSON body parsed into `T`, keeping the body for idempotency fingerprints.
/// Malformed JSON is a 400; a wrong type or unknown field is a 422 naming its path.
pub struct Json<T> {
    pub value: T,
    body: Vec<u8>,
}

impl<T> Json<T> {
    /// The body as a JSON document (it parsed once already, so it parses again).
    pub fn document(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let optional = OptionalJson::<T>::from_request(request, payload);
        Box::pin(async move {
            // An empty body needs no type: it stands for `{}`, so a route whose fields are all
            // optional takes none, and one with required fields names them as missing.
            match optional.await?.0 {
                Some(json) => Ok(json),
                None => parse(b"{}".to_vec()),
            }
        })
    }
}

/// An optional JSON body: `None` only when the body is empty. A body that is there is a `Json`
/// with all its refusals (415, 400, 422); actix's `Option<Json<T>>` would instead drop any body
/// that fails to extract, as if none was sent.
pub struct OptionalJson<T>(pub Option<Json<T>>);

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read(request, payload);
        Box::pin(async move {
            let (typed, body) = body.await?;
            if is_empty(&body) {
                return Ok(Self(None));
            }
            if !typed {
                return Err(unsupported_media_type());
            }
            parse(body).map(|json| Self(Some(json)))
        })
    }
}

/// The whole body and whether it is declared JSON. A declared type that is not JSON is refused
/// before reading, and a body over [`BODY_BYTES_MAX`] as soon as it shows.
fn read(
    request: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<(bool, Vec<u8>), ApiError>> {
    let declared = declares_json(request);
    let declared_length = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    let mut payload = payload.take();
    async move {
        if declared == Some(false) {
            return Err(unsupported_media_type());
        }
        if declared_length.is_some_and(|length| length > BODY_BYTES_MAX) {
            return Err(too_large());
        }
        let reading = async {
            let mut body = Vec::new();
            while let Some(chunk) = payload.next().await {
                let chunk =
                    chunk.map_err(|error| ApiError::new(Code::BadRequest, error.to_string()))?;
                if body.len() + chunk.len() > BODY_BYTES_MAX {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body)
        };
        let body = tokio::time::timeout(BODY_READ_TIMEOUT, reading)
            .await
            .map_err(|_| {
                let limit = BODY_READ_TIMEOUT.as_secs();
                ApiError::new(
                    Code::RequestTimeout,
                    format!("the body did not arrive within {limit} s"),
                )
            })??;
        Ok((declared == Some(true), body))
    }
}

/// Whether the request declares a JSON body: `None` without a Content-Type, else whether its
/// media type (before any `; charset=…`, in any case) is `application/json`.
pub fn declares_json(request: &HttpRequest) -> Option<bool> {
    request.headers().get(header::CONTENT_TYPE).map(|value| {
        value
            .to_str()
            .ok()
            .and_then(|value| value.split(';').next())
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
    })
}

fn is_empty(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

fn unsupported_media_type() -> ApiError {
    ApiError::new(
        Code::UnsupportedMediaType,
        "the body must be JSON (Content-Type: application/json)",
    )
}

fn too_large() -> ApiError {
    ApiError::new(
        Code::PayloadTooLarge,
        format!("the body must be at most {BODY_BYTES_MAX} bytes"),
    )
}

/// A body that is there, parsed into `T`.
fn parse<T: DeserializeOwned>(body: Vec<u8>) -> Result<Json<T>, ApiError> {
    let mut document: Value = serde_json::from_slice(&body).map_err(|error| {
        ApiError::new(
            Code::MalformedJson,
            format!("the body is not valid JSON: {error}"),
        )
    })?;
    // A document keeps the last of repeated names; a field given twice stays an error.
    let mut deserializer = serde_json::Deserializer::from_slice(&body);
    serde_path_to_error::deserialize::<_, Unrepeated>(&mut deserializer).map_err(invalid)?;
    whole_numbers(&mut document);
    let value = serde_path_to_error::deserialize(document).map_err(invalid)?;
    Ok(Json { value, body })
}

fn invalid<E: std::fmt::Display>(error: serde_path_to_error::Error<E>) -> ApiError {
    let path = error.path().to_string();
    let api_error = ApiError::new(Code::InvalidField, error.into_inner().to_string());
    if path.is_empty() || path == "." {
        api_error
    } else {
        api_error.with_field(path)
    }
}

/// Any JSON in which no object names a field twice.
struct Unrepeated;

impl<'de> serde::Deserialize<'de> for Unrepeated {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UnrepeatedVisitor)
    }
}

struct UnrepeatedVisitor;

impl<'de> serde::de::Visitor<'de> for UnrepeatedVisitor {
    type Value = Unrepeated;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Unrepeated, A::Error> {
        let mut names = std::collections::HashSet::new();
        while let Some(name) = map.next_key::<String>()? {
            if !names.insert(name.clone()) {
                return Err(serde::de::Error::custom(format!(
                    "duplicate field `{name}`"
                )));
            }
            map.next_value::<Unrepeated>()?;
        }
        Ok(Unrepeated)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Unrepeated, A::Error> {
        while seq.next_element::<Unrepeated>()?.is_some() {}
        Ok(Unrepeated)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Unrepeated, E> {
        Ok(Unrepeated)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Unrepeated, E> {
        Ok(Unrepeated)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Unrepeated, E> {
        Ok(Unrepeated)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Unrepeated, E> {
        Ok(Unrepeated)
    }

    fn visit_str<E>(self, _: &str) -> Result<Unrepeated, E> {
        Ok(Unrepeated)
    }

    fn visit_unit<E>(self) -> Result<Unrepeated, E> {
        Ok(Unrepeated)
    }
}

/// JSON has one kind of number: `2.0` is the integer 2 (JSON Schema's `integer` says so too),
/// but serde refuses it for an `i64`. Whole numbers are made integers before `T` reads them;
/// a float field reads an integer all the same.
fn whole_numbers(value: &mut Value) {
    /// Floats of at most this magnitude are exact integers that fit an `i64`.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::Number(number) if !number.is_i64() && !number.is_u64() => {
            if let Some(float) = number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() <= EXACT)
            {
                *number = serde_json::Number::from(float as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// Query-string errors become the same JSON errors as everything else.
pub fn query_error(
    error: actix_web::error::QueryPayloadError,
    _: &HttpRequest,
) -> actix_web::Error {
    ApiError::new(Code::InvalidQuery, error.to_string()).into()
}

/// Path-segment errors likewise.
pub fn path_error(error: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::new(Code::InvalidPath, error.to_string()).into()
}

/// Page sizes: a default that suits a screen, a cap that protects the database.
pub const PAGE_LIMIT_DEFAULT: i64 = 100;
pub const PAGE_LIMIT_MAX: i64 = 1000;

schema_rule!(
    /// Items per page.
    PageLimit = integer(1, PAGE_LIMIT_MAX).default(Some(PAGE_LIMIT_DEFAULT.into()))
);
schema_rule!(
    /// Where a page starts: the `next_after` of the previous page.
    Cursor = integer(i64::MIN, i64::MAX)
);
schema_rule!(
    /// A record's id, a positive number.
    PositiveId = integer(1, i64::MAX)
);

/// The cursor of the page after `items`, when they fill a page of `limit` (a shorter page is
/// the last): `key` of the last item.
pub fn next_page<T, C>(items: &[T], limit: i64, key: impl FnOnce(&T) -> C) -> Option<C> {
    (items.len() as i64 == limit)
        .then(|| items.last().map(key))
        .flatten()
}

pub fn page_limit(raw: Option<i64>) -> Result<i64, ApiError> {
    match raw {
        None => Ok(PAGE_LIMIT_DEFAULT),
        Some(limit) if (1..=PAGE_LIMIT_MAX).contains(&limit) => Ok(limit),
        Some(_) => Err(crate::domain::Invalid::new(
            "limit",
            format!("must be from 1 to {PAGE_LIMIT_MAX}"),
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::StatusCode;
    use actix_web::test::TestRequest;
    use actix_web::ResponseError;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Received {
        received: Option<i64>,
    }

    async fn optional(
        content_type: Option<&str>,
        body: &'static str,
    ) -> Result<Option<i64>, StatusCode> {
        let mut request = TestRequest::post().set_payload(body);
        if let Some(content_type) = content_type {
            request = request.insert_header((header::CONTENT_TYPE, content_type));
        }
        let (request, mut payload) = request.to_http_parts();
        OptionalJson::<Received>::from_request(&request, &mut payload)
            .await
            .map(|body| body.0.and_then(|json| json.value.received))
            .map_err(|error| error.status_code())
    }

    #[actix_web::test]
    async fn an_optional_body_is_absent_only_when_empty() {
        assert_eq!(optional(None, "").await, Ok(None));
        assert_eq!(optional(Some("application/json"), " ").await, Ok(None));
        let json = Some("application/json; charset=utf-8");
        assert_eq!(optional(json, r#"{"received":0}"#).await, Ok(Some(0)));
        let unsupported = Err(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(
            optional(Some("text/plain"), r#"{"received":0}"#).await,
            unsupported
        );
        assert_eq!(optional(None, r#"{"received":0}"#).await, unsupported);
        assert_eq!(optional(Some("text/plain"), "").await, unsupported);
        assert_eq!(optional(json, "{").await, Err(StatusCode::BAD_REQUEST));
        assert_eq!(
            optional(json, r#"{"received":"all"}"#).await,
            Err(StatusCode::UNPROCESSABLE_ENTITY)
        );
    }

    #[actix_web::test]
    async fn a_whole_float_is_an_integer_and_a_repeated_field_is_refused() {
        let json = Some("application/json");
        assert_eq!(optional(json, r#"{"received":2.0}"#).await, Ok(Some(2)));
        assert_eq!(
            optional(json, r#"{"received":2.5}"#).await,
            Err(StatusCode::UNPROCESSABLE_ENTITY)
        );
        assert_eq!(
            optional(json, r#"{"received":1,"received":2}"#).await,
            Err(StatusCode::UNPROCESSABLE_ENTITY)
        );
    }
}
