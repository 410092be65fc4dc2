//! The schema of a value several routes share, as the OpenAPI document names it: `StockLine`
//! (`Sku` and `Money` are the kit's, `saga_kit::http::schema`).

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

/// One line of a reservation: a SKU and how many of it. As sent, each field is parsed by hand
/// so that each bad one gets its own error code; as answered, one line per SKU.
#[derive(Deserialize, ToSchema)]
#[schema(as = StockLine)]
pub struct StockLineBody {
    /// The product.
    #[schema(value_type = saga_contracts::Sku)]
    pub sku: Value,
    /// How many: at least one.
    #[schema(value_type = u64, minimum = 1, maximum = 1_000_000_000)]
    pub quantity: Value,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_largest_quantity_is_the_documented_one() {
        assert_eq!(crate::domain::quantity::MAX_QUANTITY, 1_000_000_000);
    }
}
