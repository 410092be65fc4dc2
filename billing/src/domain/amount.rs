//! A deposit: an amount of money strictly greater than zero.

use saga_contracts::Money;

/// An amount a deposit may add: valid [`Money`], above zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositAmount(Money);

impl DepositAmount {
    /// Parses a JSON string or number as [`Money`] and refuses zero.
    pub fn parse(raw: serde_json::Value) -> Result<DepositAmount, String> {
        let money = serde_json::from_value::<Money>(raw).map_err(|e| format!("amount: {e}"))?;
        if money == Money::ZERO {
            return Err("amount: a deposit must be greater than zero".into());
        }
        Ok(DepositAmount(money))
    }

    /// The amount as money.
    pub fn money(&self) -> Money {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_positive_amounts_as_strings_or_numbers() {
        assert_eq!(
            DepositAmount::parse(json!("12.5"))
                .unwrap()
                .money()
                .to_string(),
            "12.50"
        );
        assert_eq!(
            DepositAmount::parse(json!(3)).unwrap().money().to_string(),
            "3.00"
        );
        assert_eq!(
            DepositAmount::parse(json!("0.01"))
                .unwrap()
                .money()
                .to_string(),
            "0.01"
        );
    }

    #[test]
    fn refuses_zero_negative_over_precise_and_non_numbers() {
        for bad in [
            json!("0"),
            json!(0),
            json!("0.00"),
            json!("-1"),
            json!(-1),
            json!("1.001"),
            json!("lots"),
            json!(null),
            json!(true),
            json!("1000000000.01"),
        ] {
            assert!(DepositAmount::parse(bad.clone()).is_err(), "{bad} accepted");
        }
    }
}
