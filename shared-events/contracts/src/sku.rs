//! A stock-keeping unit: 1 to 64 characters from `A-Z a-z 0-9 . _ -`, case-sensitive, as given.
//! Inventory accepts only such SKUs for its products, and orders knows from it that a line with
//! any other text names no product, before asking its catalogue (or PostgreSQL, which refuses
//! some text outright, such as a NUL character).

use std::fmt;

/// A SKU in the one format every service agrees on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sku(String);

/// The longest SKU accepted.
pub const MAX_SKU_LEN: usize = 64;

impl Sku {
    /// `raw` if it is a SKU; otherwise a sentence saying why not.
    pub fn parse(raw: &str) -> Result<Sku, String> {
        if raw.is_empty() {
            return Err("sku must not be empty".into());
        }
        if raw.len() > MAX_SKU_LEN {
            return Err(format!("sku must be at most {MAX_SKU_LEN} characters"));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(format!(
                "sku {raw:?} may contain only letters, digits, '.', '_' and '-'"
            ));
        }
        Ok(Sku(raw.to_owned()))
    }

    /// The SKU's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Sku {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_allowed_alphabet_up_to_64() {
        for ok in ["A", "sku-1", "widget_2.blue", "AbC-09._", &"x".repeat(64)] {
            assert_eq!(Sku::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_empty_long_and_foreign_characters() {
        for bad in [
            "",
            " a",
            "a b",
            "a/b",
            "é",
            "a\n",
            "a\u{0}",
            "sku!",
            &"x".repeat(65),
        ] {
            assert!(Sku::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
