//! `Money`: a non-negative amount with at most two decimal places.
//!
//! On the wire it is always a decimal string with exactly two places (`"12.50"`), never a float.
//! Parsing rejects negative and over-precise amounts, so a `Money` in hand is always valid.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Mul};
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Largest amount accepted anywhere in the system (a sanity bound, far above any real order).
const MAX_AMOUNT: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// An amount of money: non-negative, exact, two decimal places, at most 1000000000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

/// Why a value is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not a decimal number at all.
    #[error("an amount must be a decimal number, e.g. \"12.50\"")]
    NotANumber,
    /// Below zero.
    #[error("an amount cannot be negative")]
    Negative,
    /// More than two decimal places, after trailing zeros are dropped.
    #[error("an amount has at most two decimal places")]
    TooPrecise,
    /// Above 1000000000.
    #[error("an amount cannot exceed 1000000000")]
    TooLarge,
}

impl Money {
    /// Nothing.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Accepts a decimal that is non-negative, has at most two places (after dropping
    /// trailing zeros) and is within the system's bound.
    pub fn new(amount: Decimal) -> Result<Self, MoneyError> {
        let amount = amount.normalize();
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(MoneyError::Negative);
        }
        if amount.scale() > 2 {
            return Err(MoneyError::TooPrecise);
        }
        if amount > MAX_AMOUNT {
            return Err(MoneyError::TooLarge);
        }
        let mut amount = amount.abs();
        amount.rescale(2);
        Ok(Money(amount))
    }

    /// The amount, with scale 2.
    pub fn amount(&self) -> Decimal {
        self.0
    }

    /// Subtraction that refuses to go below zero.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        (self.0 >= other.0).then(|| {
            let mut d = self.0 - other.0;
            d.rescale(2);
            Money(d)
        })
    }
}

impl FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let d = Decimal::from_str_exact(s.trim()).map_err(|_| MoneyError::NotANumber)?;
        Money::new(d)
    }
}

impl TryFrom<Decimal> for Money {
    type Error = MoneyError;
    fn try_from(d: Decimal) -> Result<Self, Self::Error> {
        Money::new(d)
    }
}

impl From<Money> for Decimal {
    fn from(m: Money) -> Decimal {
        m.0
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        let mut d = self.0 + rhs.0;
        d.rescale(2);
        Money(d)
    }
}

impl Mul<u32> for Money {
    type Output = Money;
    fn mul(self, rhs: u32) -> Money {
        let mut d = self.0 * Decimal::from(rhs);
        d.rescale(2);
        Money(d)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    /// Accepts the canonical string form, and also a JSON number for HTTP clients that send
    /// one; either way the same validation applies.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a decimal amount such as \"12.50\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
                Money::new(Decimal::from(v)).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
                Money::new(Decimal::from(v)).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Money, E> {
                // The shortest decimal text that round-trips the float, so 12.5 reads as 12.5.
                v.to_string().parse().map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_two_places() {
        assert_eq!("12.5".parse::<Money>().unwrap().to_string(), "12.50");
        assert_eq!("7".parse::<Money>().unwrap().to_string(), "7.00");
        assert_eq!("0.10".parse::<Money>().unwrap().to_string(), "0.10");
        assert_eq!("3.100".parse::<Money>().unwrap().to_string(), "3.10");
    }

    #[test]
    fn rejects_invalid_amounts() {
        assert_eq!("-1".parse::<Money>(), Err(MoneyError::Negative));
        assert_eq!("1.234".parse::<Money>(), Err(MoneyError::TooPrecise));
        assert_eq!("abc".parse::<Money>(), Err(MoneyError::NotANumber));
        assert_eq!("1e3".parse::<Money>(), Err(MoneyError::NotANumber));
        assert_eq!("1000000000.01".parse::<Money>(), Err(MoneyError::TooLarge));
    }

    #[test]
    fn json_forms() {
        let m: Money = serde_json::from_str("\"12.50\"").unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"12.50\"");
        let m: Money = serde_json::from_str("12.5").unwrap();
        assert_eq!(m.to_string(), "12.50");
        let m: Money = serde_json::from_str("40").unwrap();
        assert_eq!(m.to_string(), "40.00");
        assert!(serde_json::from_str::<Money>("0.001").is_err());
        assert!(serde_json::from_str::<Money>("-3").is_err());
        assert!(serde_json::from_str::<Money>("null").is_err());
    }

    #[test]
    fn arithmetic() {
        let a: Money = "10.25".parse().unwrap();
        let b: Money = "0.75".parse().unwrap();
        assert_eq!((a + b).to_string(), "11.00");
        assert_eq!((a * 3).to_string(), "30.75");
        assert_eq!(a.checked_sub(b).unwrap().to_string(), "9.50");
        assert_eq!(b.checked_sub(a), None);
        assert_eq!([a, b, b].into_iter().sum::<Money>().to_string(), "11.75");
    }
}
