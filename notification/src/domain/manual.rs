//! The subject and body of a manual notification (`POST /notify`): trimmed, not empty,
//! bounded in length, and (for the subject) on one line.

/// The longest subject accepted, in characters (not bytes).
pub const MAX_SUBJECT_CHARS: usize = 200;
/// The longest body accepted, in characters (not bytes).
pub const MAX_BODY_CHARS: usize = 10_000;

/// `raw` trimmed, if that is not empty, at most `max` characters long and free of the
/// characters `forbidden` picks; else a sentence naming the field `what` (`rule` says what a
/// forbidden character breaks).
fn checked(
    what: &str,
    raw: &str,
    max: usize,
    forbidden: fn(char) -> bool,
    rule: &str,
) -> Result<String, String> {
    let text = raw.trim();
    let broken = if text.is_empty() {
        "must not be empty".to_owned()
    } else if text.chars().count() > max {
        format!("must be at most {max} characters")
    } else if text.chars().any(forbidden) {
        rule.to_owned()
    } else {
        return Ok(text.to_owned());
    };
    Err(format!("{what} {broken}"))
}

/// A valid subject: one line, so it prints as a mail's subject would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    /// Trims `raw` and checks it; the error is a sentence for the API's error body.
    pub fn parse(raw: &str) -> Result<Subject, String> {
        let rule = "must be one line without control characters";
        checked("subject", raw, MAX_SUBJECT_CHARS, char::is_control, rule).map(Subject)
    }

    /// The subject's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A valid body: it may span lines (and hold tabs), but holds no other control character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body(String);

impl Body {
    /// Trims `raw` and checks it; the error is a sentence for the API's error body.
    pub fn parse(raw: &str) -> Result<Body, String> {
        let forbidden = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
        let rule = "must not contain control characters";
        checked("body", raw, MAX_BODY_CHARS, forbidden, rule).map(Body)
    }

    /// The body's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_trimmed_one_line_and_bounded() {
        assert_eq!(Subject::parse("  Hi ").unwrap().as_str(), "Hi");
        assert!(Subject::parse("  ").is_err());
        assert!(Subject::parse("a\nb").is_err());
        assert!(Subject::parse(&"x".repeat(201)).is_err());
        assert!(Subject::parse(&"é".repeat(200)).is_ok());
    }

    #[test]
    fn bodies_may_span_lines_but_not_be_empty_or_huge() {
        assert_eq!(Body::parse("a\nb\n").unwrap().as_str(), "a\nb");
        assert!(Body::parse("\n\t ").is_err());
        assert!(Body::parse("a\u{0}b").is_err());
        assert!(Body::parse(&"x".repeat(10_001)).is_err());
    }
}
