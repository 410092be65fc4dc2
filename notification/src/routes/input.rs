//! Reading request fields that more than one handler takes as text, so that each bad field
//! gets its own error code instead of serde's generic one.

use saga_kit::http::ApiError;
use uuid::Uuid;

/// A customer id given as text: 422 `invalid_customer_id` when missing or not a UUID.
pub fn parse_customer_id(raw: Option<&str>) -> Result<Uuid, ApiError> {
    let raw = raw
        .ok_or_else(|| ApiError::unprocessable("invalid_customer_id", "customer_id is required"))?;
    Uuid::parse_str(raw.trim()).map_err(|_| {
        ApiError::unprocessable(
            "invalid_customer_id",
            format!("customer_id {raw:?} is not a UUID"),
        )
    })
}
