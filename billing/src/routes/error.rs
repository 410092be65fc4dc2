//! How the store's errors reach a client: each [`StoreError`] variant as its API error, so
//! handlers use `?`.

use saga_kit::http::ApiError;

use crate::store::StoreError;

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            // 503 `unavailable` if the database is unreachable, else 500 `internal`.
            StoreError::Database(cause) => ApiError::store(cause),
            e @ StoreError::NoAccount(_) => ApiError::not_found("account_not_found", e.to_string()),
            e @ StoreError::LimitExceeded => {
                ApiError::unprocessable("balance_limit_exceeded", e.to_string())
            }
        }
    }
}
