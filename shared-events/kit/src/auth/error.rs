//! [`AuthError`]: why a request was not let through, and how each reason answers (SPEC §4, §7):
//! 401 `unauthorized` with a `WWW-Authenticate: Bearer` challenge when the caller did not prove
//! who it is, 403 `forbidden` when it did but may not do this, and 503 `unavailable` when the
//! issuer's keys cannot be had, so that a good token is never refused for our outage.
//!
//! Messages say what was wrong with the token, never the token itself.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::http::ApiError;

/// A request refused at the boundary.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer …` header (or another scheme): 401, challenge `Bearer`.
    #[error("a bearer token is required (Authorization: Bearer <access token>)")]
    Missing,
    /// A token that does not parse as a JWT, or whose header is unusable: 401,
    /// `error="invalid_token"`.
    #[error("the bearer token is malformed: {0}")]
    Malformed(String),
    /// The token's `alg` is not an asymmetric signature this service accepts (`none` and HMAC
    /// never are): 401.
    #[error("the token's algorithm {0} is not accepted")]
    Algorithm(String),
    /// The issuer publishes no key with the token's `kid`, even after fetching its keys again:
    /// 401.
    #[error("the token is signed with a key the issuer does not publish")]
    UnknownKey,
    /// The signature, `iss`, `aud`, `exp`, `nbf` or a required claim failed: 401.
    #[error("the token is not valid: {0}")]
    Invalid(String),
    /// The token is valid, but its holder may not do this: 403 `forbidden`.
    #[error("{0}")]
    Forbidden(String),
    /// The issuer's discovery document or keys cannot be fetched or used, so no token can be
    /// checked: 503 `unavailable`, which a client may retry.
    #[error("the identity provider's keys are unavailable: {0}")]
    KeysUnavailable(String),
}

impl AuthError {
    /// A 403 for `action`, said as what the caller may not do.
    pub fn forbidden(action: impl Into<String>) -> AuthError {
        AuthError::Forbidden(action.into())
    }

    /// The `WWW-Authenticate` challenge of a 401 (RFC 6750 §3), if this is one.
    fn challenge(&self) -> Option<&'static str> {
        match self {
            AuthError::Missing => Some("Bearer realm=\"saga\""),
            AuthError::Malformed(_)
            | AuthError::Algorithm(_)
            | AuthError::UnknownKey
            | AuthError::Invalid(_) => Some("Bearer realm=\"saga\", error=\"invalid_token\""),
            AuthError::Forbidden(_) | AuthError::KeysUnavailable(_) => None,
        }
    }

    /// The error as the API reports it.
    pub fn api_error(&self) -> ApiError {
        match self {
            AuthError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            AuthError::KeysUnavailable(_) => ApiError::unavailable(
                "the identity provider cannot be reached to check the token; try again",
            ),
            other => ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", other.to_string()),
        }
    }
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        self.api_error().status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = self.api_error().error_response();
        if let Some(challenge) = self.challenge() {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

/// A handler's `?` on an authorization check: a 403 becomes the API's error.
impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> ApiError {
        error.api_error()
    }
}
