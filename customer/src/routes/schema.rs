//! The part of the OpenAPI document that no field's Rust type says: what `credit_limit` may be
//! sent as.

use serde_json::json;
use utoipa::openapi::schema::{Object, OneOf, Schema, Type};

/// What `credit_limit` may be, as the document says it.
const CREDIT_LIMIT: &str = "Non-negative, at most two decimal places, at most 1000000000; a \
    decimal string such as \"12.50\" (trailing zeros past two places are dropped) or a JSON number";

/// `credit_limit` as a request may send it: a decimal string, or a JSON number within the
/// bounds of [`saga_contracts::Money`].
pub fn credit_limit() -> Schema {
    let mut in_bounds = Object::with_type(Type::Number);
    (in_bounds.minimum, in_bounds.maximum) = (Some(0.into()), Some(1_000_000_000.into()));
    let mut either = OneOf::with_capacity(2);
    either.items = vec![Object::with_type(Type::String).into(), in_bounds.into()];
    either.description = Some(CREDIT_LIMIT.to_owned());
    either.examples = vec![json!("250.00")];
    Schema::OneOf(either)
}
