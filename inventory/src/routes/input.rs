//! Reading request fields that are parsed by hand, so that each bad field gets its own error
//! code instead of serde's generic one.

use saga_kit::http::ApiError;
use serde_json::Value;

use crate::domain::quantity::bounded;
use crate::domain::Sku;

/// A whole number in `min..=MAX_QUANTITY`; anything else (negative, fractional, a string) is a
/// 422 with `code`.
pub fn count(value: &Value, field: &str, min: u64, code: &str) -> Result<u64, ApiError> {
    let invalid = |m: String| ApiError::unprocessable(code, m);
    match value {
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(v), _) => bounded(v, min, field).map_err(invalid),
            (None, Some(_)) => Err(invalid(format!("{field} must not be negative"))),
            (None, None) => Err(invalid(format!("{field} must be a whole number"))),
        },
        _ => Err(invalid(format!("{field} must be a whole number"))),
    }
}

/// A SKU in a body: a string of the allowed alphabet.
pub fn sku(value: &Value) -> Result<Sku, ApiError> {
    let raw = value
        .as_str()
        .ok_or_else(|| ApiError::unprocessable("invalid_sku", "sku must be a string"))?;
    Sku::parse(raw).map_err(|m| ApiError::unprocessable("invalid_sku", m))
}

/// A SKU in a path: one that does not parse names no product.
pub fn path_sku(raw: &str) -> Result<Sku, ApiError> {
    Sku::parse(raw).map_err(|_| sku_not_found(raw))
}

/// 404 `sku_not_found`: no product has this SKU.
pub fn sku_not_found(sku: &str) -> ApiError {
    ApiError::not_found("sku_not_found", format!("no product with sku {sku:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_are_whole_non_negative_and_bounded() {
        assert_eq!(count(&json!(0), "q", 0, "c").unwrap(), 0);
        assert_eq!(count(&json!(7), "q", 1, "c").unwrap(), 7);
        for bad in [
            json!(0),
            json!(-1),
            json!(1.5),
            json!("3"),
            json!(null),
            json!(2e12),
        ] {
            let e = count(&bad, "q", 1, "invalid_quantity").unwrap_err();
            assert_eq!(
                (e.status.as_u16(), e.code.as_str()),
                (422, "invalid_quantity"),
                "{bad}"
            );
        }
    }
}
