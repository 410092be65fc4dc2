//! Reading requests: extractor configs that give bad input SPEC §4's status and code, the
//! [`Json`] extractor, and the trace context a request carries.

use std::future::Future;
use std::pin::Pin;

use actix_web::error::{JsonPayloadError, PayloadError};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};

use super::ApiError;
use saga_contracts::trace::TraceParent;

/// Largest JSON body any endpoint accepts.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// JSON bodies: at most `limit` bytes, any content type, and SPEC's status for each rejection.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .content_type_required(false)
        .error_handler(|err, _req| json_error(err).into())
}

fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => too_large(limit),
        JsonPayloadError::Payload(PayloadError::Overflow) => too_large(DEFAULT_BODY_LIMIT),
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::unprocessable("invalid_request", e.to_string())
        }
        JsonPayloadError::Deserialize(e) => {
            ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
        }
        other => ApiError::bad_request("bad_request", other.to_string()),
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the body is larger than {limit} bytes"),
    )
}

/// A JSON request body, rejected as SPEC says: a body that is not JSON at all (a syntax error,
/// or cut off: `[1,2`) is 400 `malformed_json`; JSON of the wrong shape is 422
/// `invalid_request`.
///
/// actix-web's own `Json` cannot tell the two apart for a body that is both: serde reports the
/// first problem it meets, and for `[1,2` sent where an object is expected that is the
/// sequence, a data error, before it reaches the missing end. So the body is read as a
/// `serde_json::Value` first (syntax only, with [`json_config`]'s limits and errors), then
/// converted to `T` (shape only).
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let syntax = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let web::Json(value) = syntax.await?;
            serde_json::from_value(value)
                .map(Json)
                .map_err(|e| ApiError::unprocessable("invalid_request", e.to_string()).into())
        })
    }
}

/// Path parameters that do not parse (an id that is not a UUID) name no resource: 404.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        ApiError::not_found("not_found", format!("no such resource ({err})")).into()
    })
}

/// Query strings that do not parse: 422.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err, _req| ApiError::unprocessable("invalid_query", err.to_string()).into())
}

/// The trace context of an incoming request, if it sent a valid `traceparent` header.
pub fn traceparent(req: &HttpRequest) -> Option<TraceParent> {
    req.headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}
