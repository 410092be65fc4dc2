//! The errors of the HTTP boundary: how a [`StoreError`] and an invalid order request become
//! an [`ApiError`], so that handlers use `?`; and [`StoreUnavailable`], the document's 503.

use std::collections::BTreeMap;

use shared_events::kit::http::ApiError;
use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder};

use crate::domain::OrderRequestError;
use crate::store::StoreError;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::KeyReused => ApiError::conflict(
                "idempotency_key_reused",
                "this Idempotency-Key was already used for a different request",
            ),
            // The database error itself, so that its cause chain decides 503 or 500.
            StoreError::Database(e) => ApiError::store(e),
        }
    }
}

impl From<OrderRequestError> for ApiError {
    fn from(e: OrderRequestError) -> ApiError {
        ApiError::unprocessable(e.code(), e.to_string())
    }
}

/// The `503 unavailable` of every operation that reads or writes the store, once for all of
/// them: `#[utoipa::path(responses(..., StoreUnavailable))]`.
pub struct StoreUnavailable;

impl utoipa::IntoResponses for StoreUnavailable {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let body = Content::new(Some(Ref::from_schema_name("Error")));
        let response = ResponseBuilder::new()
            .description("unavailable: the store is unreachable; try again")
            .content("application/json", body)
            .build();
        BTreeMap::from([("503".to_owned(), response.into())])
    }
}
