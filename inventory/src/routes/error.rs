//! The store's errors at the HTTP boundary: each domain refusal keeps its status and code
//! (SPEC §4), and the store's own failure is [`ApiError::store`] (503 `unavailable` when the
//! store is unreachable, else 500 `internal`, both logged with their whole cause chain). So
//! handlers use `?`.

use saga_kit::http::ApiError;

use super::input::sku_not_found;
use crate::domain::StockError;
use crate::store::StoreError;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::SkuExists(sku) => ApiError::conflict(
                "sku_exists",
                format!("a product with sku {:?} already exists", sku.as_str()),
            ),
            StoreError::SkuNotFound(sku) => sku_not_found(sku.as_str()),
            e @ StoreError::OrderBelongsToSaga(_) => {
                ApiError::conflict("order_belongs_to_saga", e.to_string())
            }
            StoreError::ReservationNotFound(order_id) => ApiError::not_found(
                "reservation_not_found",
                format!("no reservation for order {order_id}"),
            ),
            e @ StoreError::ReservationOwnedBySaga(_) => {
                ApiError::conflict("reservation_owned_by_saga", e.to_string())
            }
            StoreError::Stock(e @ StockError::TooLarge) => {
                ApiError::unprocessable("invalid_quantity", e.to_string())
            }
            e @ (StoreError::Stock(StockError::Inconsistent { .. }) | StoreError::Backend(_)) => {
                ApiError::store(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::domain::Sku;

    fn status_and_code(e: StoreError) -> (u16, String) {
        let e = ApiError::from(e);
        (e.status.as_u16(), e.code)
    }

    #[test]
    fn domain_refusals_keep_their_codes() {
        let sku = || Sku::parse("W-1").unwrap();
        let cases = [
            (StoreError::SkuExists(sku()), 409, "sku_exists"),
            (StoreError::SkuNotFound(sku()), 404, "sku_not_found"),
            (
                StoreError::OrderBelongsToSaga(Uuid::nil()),
                409,
                "order_belongs_to_saga",
            ),
            (
                StoreError::ReservationNotFound(Uuid::nil()),
                404,
                "reservation_not_found",
            ),
            (
                StoreError::ReservationOwnedBySaga(Uuid::nil()),
                409,
                "reservation_owned_by_saga",
            ),
            (
                StoreError::Stock(StockError::TooLarge),
                422,
                "invalid_quantity",
            ),
            (
                StoreError::Backend(anyhow::anyhow!("disk full")),
                500,
                "internal",
            ),
        ];
        for (error, status, code) in cases {
            assert_eq!(status_and_code(error), (status, code.to_owned()));
        }
    }
}
