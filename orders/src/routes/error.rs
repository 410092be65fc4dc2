//! The errors of the HTTP boundary: how a [`StoreError`] and an invalid order request become
//! an [`ApiError`], so that handlers use `?`.

use saga_kit::http::ApiError;

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
