//! The parts of the OpenAPI document that no field's Rust type says: how [`Money`] is written,
//! and what `credit_limit` may be sent as.

use std::borrow::Cow;

use serde_json::json;
use utoipa::openapi::schema::{Object, ObjectBuilder, OneOf, Schema, Type};
use utoipa::openapi::RefOr;

/// [`shared_events::Money`] as the API writes it: a decimal string with exactly two places.
/// A field of that type names this schema (`#[schema(value_type = schema::Money)]`).
pub struct Money;

impl utoipa::ToSchema for Money {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Money")
    }
}

impl utoipa::PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        let mut two_places = ObjectBuilder::new().schema_type(Type::String);
        two_places = two_places.pattern(Some(r"^[0-9]+\.[0-9]{2}$"));
        two_places.examples([json!("500.00")]).into()
    }
}

/// What `credit_limit` may be, as the document says it.
const CREDIT_LIMIT: &str = "Non-negative, at most two decimal places, at most 1000000000; a \
    decimal string such as \"12.50\" (trailing zeros past two places are dropped) or a JSON number";

/// `credit_limit` as a request may send it: a decimal string, or a JSON number within the
/// bounds of [`shared_events::Money`].
pub fn credit_limit() -> Schema {
    let mut in_bounds = Object::with_type(Type::Number);
    (in_bounds.minimum, in_bounds.maximum) = (Some(0.into()), Some(1_000_000_000.into()));
    let mut either = OneOf::with_capacity(2);
    either.items = vec![Object::with_type(Type::String).into(), in_bounds.into()];
    either.description = Some(CREDIT_LIMIT.to_owned());
    either.examples = vec![json!("250.00")];
    Schema::OneOf(either)
}
