//! [`ApiError`]: how every service reports a failed request (SPEC §4): a status, a stable
//! snake_case code and a sentence, as `{"error": {"code", "message"}}`.
//!
//! Two kinds of failure are ours rather than the caller's, and each has one status in every
//! service: a dependency that is down (the store, the network to it) is **503 `unavailable`**,
//! which a client may retry; anything else is **500 `internal`**. [`ApiError::store`] picks
//! between the two by the error's cause chain ([`saga_messaging::consumer::classify`]), so a service's
//! `From<StoreError> for ApiError` sends its store's errors through it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use saga_messaging::consumer::{classify, ErrorClass};

/// An error as the API reports it: a status, a stable snake_case code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status of the response.
    pub status: StatusCode,
    /// The stable, machine-readable code (`customer_not_found`): clients match on it.
    pub code: String,
    /// A sentence for a human; it may change wording between releases.
    pub message: String,
}

/// The body of every error response, as the OpenAPI documents describe it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of [`ErrorBody`].
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable snake_case code, such as `customer_not_found`.
    pub code: String,
    /// A human sentence.
    pub message: String,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// 400: the request could not be read at all (malformed JSON).
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404: the resource named does not exist.
    pub fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 409: the request conflicts with the resource's state.
    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 422: well-formed, but a value is invalid.
    pub fn unprocessable(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 500 `internal`: a failure of ours. Logged with its whole cause chain, reported without
    /// internals.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        let error = error.into();
        tracing::error!(error = %format!("{error:#}"), "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the service failed to handle the request; it has been logged",
        )
    }

    /// 503 `unavailable`: a dependency is down; the request may succeed if sent again.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// A store error: 503 `unavailable` when its cause chain shows the store unreachable
    /// (connection refused or reset, pool timeout, server shutting down), else 500 `internal`.
    /// Either way it is logged with its whole cause chain.
    pub fn store(error: impl Into<anyhow::Error>) -> Self {
        let error = error.into();
        match classify(&error) {
            ErrorClass::Unavailable => {
                tracing::warn!(error = %format!("{error:#}"), "the store is unavailable");
                Self::unavailable("a store of the service is unavailable; try again")
            }
            ErrorClass::Transient | ErrorClass::Permanent => Self::internal(error),
        }
    }

    /// The response body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.clone(),
                message: self.message.clone(),
            },
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(self.body())
    }
}
