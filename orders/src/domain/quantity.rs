//! A line's quantity: a whole number from 1 to 1000.

use serde_json::Value;

pub const MAX_QUANTITY: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Quantity(u32);

impl Quantity {
    /// Accepts a JSON integer in 1..=1000 (a whole number written as `3.0` too); nothing else.
    pub fn parse(raw: &Value) -> Result<Quantity, String> {
        let bad = || format!("quantity must be a whole number from 1 to {MAX_QUANTITY}, got {raw}");
        let n = match raw {
            Value::Number(n) => n
                .as_u64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                        .map(|f| f as u64)
                })
                .ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        if !(1..=u64::from(MAX_QUANTITY)).contains(&n) {
            return Err(bad());
        }
        Ok(Quantity(n as u32))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_numbers_from_one_to_a_thousand() {
        assert_eq!(Quantity::parse(&json!(1)).unwrap().get(), 1);
        assert_eq!(Quantity::parse(&json!(1000)).unwrap().get(), 1000);
        assert_eq!(Quantity::parse(&json!(2.0)).unwrap().get(), 2);
        for bad in [
            json!(0),
            json!(1001),
            json!(-1),
            json!(1.5),
            json!("3"),
            json!(null),
            json!(u64::MAX),
        ] {
            assert!(Quantity::parse(&bad).is_err(), "{bad}");
        }
    }
}
