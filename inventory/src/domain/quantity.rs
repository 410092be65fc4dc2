//! Bounds on the counts the service accepts, so that every stored number stays far inside the
//! 64-bit range of both stores.

/// Largest quantity in one request: a product's initial stock, a restock, a reserved line, or
/// a low-stock threshold.
pub const MAX_QUANTITY: u64 = 1_000_000_000;

/// Largest total a product may ever have received (`initial + restocked`).
pub const MAX_TOTAL: u64 = 1_000_000_000_000_000;

/// Checks a count against `min..=MAX_QUANTITY`.
pub fn bounded(value: u64, min: u64, what: &str) -> Result<u64, String> {
    if value < min {
        return Err(format!("{what} must be at least {min}"));
    }
    if value > MAX_QUANTITY {
        return Err(format!("{what} must be at most {MAX_QUANTITY}"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive() {
        assert_eq!(bounded(0, 0, "q"), Ok(0));
        assert!(bounded(0, 1, "q").is_err());
        assert_eq!(bounded(MAX_QUANTITY, 1, "q"), Ok(MAX_QUANTITY));
        assert!(bounded(MAX_QUANTITY + 1, 0, "q").is_err());
    }
}
