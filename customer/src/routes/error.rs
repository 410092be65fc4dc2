//! How the store's errors reach a client: each [`StoreError`] variant as its API error, so
//! handlers use `?`.

use saga_kit::http::ApiError;

use crate::store::StoreError;

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        let message = error.to_string();
        match error {
            StoreError::EmailTaken => ApiError::conflict("email_taken", message),
            StoreError::Exists(_) => ApiError::conflict("customer_exists", message),
            StoreError::NotFound(_) => ApiError::not_found("customer_not_found", message),
            // 503 `unavailable` if the database is unreachable, else 500 `internal`.
            StoreError::Database(e) => ApiError::store(e),
        }
    }
}
