//! An account balance (or any account total) as the API shows it: a decimal string with
//! exactly two places. Unlike [`saga_contracts::Money`] it has no upper bound of its own, since
//! deposits may take a balance beyond the largest single amount.

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;

/// A non-negative amount, printed with two decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Balance(Decimal);

impl Balance {
    /// `amount` (a stored NUMERIC(14, 2), never negative) at two decimal places.
    pub fn new(amount: Decimal) -> Balance {
        let mut amount = amount;
        amount.rescale(2);
        Balance(amount)
    }

    /// The amount as a decimal.
    pub fn amount(&self) -> Decimal {
        self.0
    }
}

impl std::fmt::Display for Balance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl Serialize for Balance {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// In the OpenAPI document a balance is `Money` (the kit's schema), the two-place decimal
/// string every amount of the API is written as.
impl utoipa::PartialSchema for Balance {
    fn schema() -> RefOr<Schema> {
        <saga_contracts::Money as utoipa::PartialSchema>::schema()
    }
}

impl utoipa::ToSchema for Balance {
    fn name() -> Cow<'static, str> {
        "Money".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_two_places() {
        let b = Balance::new(Decimal::new(5, 0));
        assert_eq!(serde_json::to_value(b).unwrap(), "5.00");
        let b = Balance::new(Decimal::new(123_456_789_012_345, 2));
        assert_eq!(b.to_string(), "1234567890123.45");
    }
}
