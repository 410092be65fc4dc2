//! The OpenAPI schemas of the contract types orders shows but `shared-events` owns, which do
//! not derive `ToSchema` there: [`MoneySchema`] (`Money`) and [`OrderLineSchema`]
//! (`OrderLine`). Fields of those types name these with `#[schema(value_type = ...)]`.

use std::borrow::Cow;

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

/// The schema of [`shared_events::Money`]: a decimal string with exactly two places.
pub struct MoneySchema;

impl utoipa::PartialSchema for MoneySchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^[0-9]+\.[0-9]{2}$"))
            .examples([serde_json::json!("12.50")])
            .into()
    }
}

impl utoipa::ToSchema for MoneySchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Money")
    }
}

/// One priced line of an order (the schema of `shared_events::contracts::events::OrderLine`).
#[derive(utoipa::ToSchema)]
#[schema(as = OrderLine)]
#[allow(dead_code)] // only its schema is used
pub struct OrderLineSchema {
    /// The product, as the catalogue names it.
    sku: String,
    /// How many.
    #[schema(value_type = i64)]
    quantity: u32,
    /// The price of one, from the catalogue when the order was placed.
    #[schema(value_type = MoneySchema)]
    unit_price: String,
}
