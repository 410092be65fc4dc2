//! A name as people type it (a customer's, a product's): trimmed, not empty, at most
//! [`Name::MAX_CHARS`] characters, and free of control characters, so that it prints on one
//! line wherever it is shown.

/// A valid name; a value of this type is valid by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    /// The longest name accepted, in characters (not bytes).
    pub const MAX_CHARS: usize = 200;

    /// Trims `raw` and checks it; the error is a sentence for the API's error body.
    pub fn parse(raw: &str) -> Result<Name, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("name must not be empty".into());
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(format!(
                "name must be at most {} characters",
                Self::MAX_CHARS
            ));
        }
        if name.chars().any(char::is_control) {
            return Err("name must not contain control characters".into());
        }
        Ok(Name(name.to_owned()))
    }

    /// The name's text, trimmed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_rejects_empty_long_or_control() {
        assert_eq!(Name::parse("  Ada ").unwrap().as_str(), "Ada");
        assert_eq!(Name::parse("  Widget ").unwrap().as_str(), "Widget");
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse("  ").is_err());
        assert!(Name::parse("").is_err());
        assert!(Name::parse(&"x".repeat(201)).is_err());
        assert!(Name::parse(&"é".repeat(200)).is_ok());
        assert!(Name::parse("a\u{0}b").is_err());
        assert!(Name::parse("a\tb").is_err());
    }

    #[test]
    fn the_errors_say_what_is_wrong() {
        assert_eq!(Name::parse(" ").unwrap_err(), "name must not be empty");
        assert_eq!(
            Name::parse(&"x".repeat(201)).unwrap_err(),
            "name must be at most 200 characters"
        );
        assert_eq!(
            Name::parse("a\nb").unwrap_err(),
            "name must not contain control characters"
        );
    }
}
