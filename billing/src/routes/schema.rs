//! The parts of the OpenAPI document that no field's Rust type says: what a deposit's
//! `amount` may be sent as, and the values a payment's `status` and `reason` take (listed from
//! the domain's own enums, so the document cannot drift from them).

use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type};

use crate::domain::{FailureReason, PaymentStatus};

/// A deposit's `amount`: a decimal string, or a JSON number above zero and at most the
/// largest [`saga_contracts::Money`].
pub fn deposit_amount() -> Schema {
    let text = ObjectBuilder::new().schema_type(Type::String);
    let positive = ObjectBuilder::new()
        .schema_type(Type::Number)
        .exclusive_minimum(Some(0))
        .maximum(Some(1_000_000_000));
    let doc = "Greater than zero, at most two decimal places, at most 1000000000; a decimal \
               string such as \"12.50\" (trailing zeros past two places are dropped) or a JSON \
               number";
    OneOfBuilder::new()
        .item(text)
        .item(positive)
        .description(Some(doc))
        .examples(["250.00"])
        .into()
}

/// A listed payment's `status`: a tombstone (`CANCELLED_BEFORE_CHARGE`) is never listed.
pub fn payment_status() -> Schema {
    let listed = [
        PaymentStatus::Charged,
        PaymentStatus::Refunded,
        PaymentStatus::Failed,
    ];
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(listed.map(|s| s.as_str())))
        .into()
}

/// A listed payment's `reason`: a failure reason code, or null unless the payment failed.
pub fn failure_reason() -> Schema {
    let codes = [
        FailureReason::InsufficientFunds,
        FailureReason::UnknownCustomer,
    ]
    .map(|r| serde_json::Value::from(r.as_str()));
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(codes.into_iter().chain([serde_json::Value::Null])))
        .description(Some("Why a FAILED payment failed; null otherwise"))
        .into()
}
