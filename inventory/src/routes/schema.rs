//! The schemas of the values several routes share, as the OpenAPI document names them:
//! `Sku`, `Money` and `StockLine`. Sku and Money are `shared_events` types without a schema of
//! their own, so theirs are written here, from the rules their parsers apply.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// The schema of a SKU (`shared_events::Sku`).
pub struct SkuSchema;

impl PartialSchema for SkuSchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A product's stock-keeping unit: 1 to 64 letters, digits, `.`, `_` or `-`",
            ))
            .pattern(Some("^[A-Za-z0-9._-]{1,64}$"))
            .examples([json!("WIDGET-1")])
            .into()
    }
}

impl ToSchema for SkuSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Sku")
    }
}

/// The schema of an amount of money as the API answers it (`shared_events::Money`).
pub struct MoneySchema;

impl PartialSchema for MoneySchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("An exact decimal amount with two decimal places"))
            .pattern(Some("^[0-9]+\\.[0-9]{2}$"))
            .examples([json!("12.50")])
            .into()
    }
}

impl ToSchema for MoneySchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Money")
    }
}

/// One line of a reservation: a SKU and how many of it. As sent, each field is parsed by hand
/// so that each bad one gets its own error code; as answered, one line per SKU.
#[derive(Deserialize, ToSchema)]
#[schema(as = StockLine)]
pub struct StockLineBody {
    /// The product.
    #[schema(value_type = SkuSchema)]
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
