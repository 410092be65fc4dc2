//! The error responses every service's OpenAPI document lists the same way, so a handler
//! names them instead of writing them out: `#[utoipa::path(responses(..., MalformedJson,
//! PayloadTooLarge, Unavailable))]`. Each is SPEC §4's error body (the `Error` schema
//! [`super::document`] adds), with the code the kit's extractors and [`ApiError::store`]
//! answer.
//!
//! [`ApiError::store`]: super::ApiError::store

use std::collections::BTreeMap;

use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder};

/// One documented error response: `status`, described by `description`, with the error body.
fn error_response(status: &str, description: &str) -> BTreeMap<String, RefOr<Response>> {
    let body = Content::new(Some(Ref::from_schema_name("Error")));
    let response = ResponseBuilder::new()
        .description(description)
        .content("application/json", body)
        .build();
    BTreeMap::from([(status.to_owned(), response.into())])
}

/// 400 `malformed_json`: the body is not JSON ([`super::json_config`]).
pub struct MalformedJson;

impl utoipa::IntoResponses for MalformedJson {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_response("400", "malformed_json: the body is not JSON")
    }
}

/// 413 `payload_too_large`: the body is over the limit ([`super::DEFAULT_BODY_LIMIT`]).
pub struct PayloadTooLarge;

impl utoipa::IntoResponses for PayloadTooLarge {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_response("413", "payload_too_large: the body is over the limit")
    }
}

/// 503 `unavailable`: the one status every service answers when a dependency (its store) is
/// down, so a client knows to try again ([`super::ApiError::store`]).
pub struct Unavailable;

impl utoipa::IntoResponses for Unavailable {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_response("503", "unavailable: the store is unreachable; try again")
    }
}

/// 401 `unauthorized`: no bearer token, or one that fails verification
/// ([`crate::auth::authenticate`]); the response carries `WWW-Authenticate: Bearer`.
pub struct Unauthorized;

impl utoipa::IntoResponses for Unauthorized {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_response(
            "401",
            "unauthorized: no bearer token, or one that is expired, not yet valid, for another \
             issuer or audience, or not signed by the issuer's keys",
        )
    }
}

/// 403 `forbidden`: a valid token whose holder may not do this (a customer acting on another
/// customer's data, or on an operator's operation).
pub struct Forbidden;

impl utoipa::IntoResponses for Forbidden {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_response(
            "403",
            "forbidden: the token's holder may not do this (another customer's data, or an \
             operator's operation)",
        )
    }
}
