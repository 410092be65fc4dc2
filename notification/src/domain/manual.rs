//! The subject and body of a manual notification (`POST /notify`): trimmed, not empty,
//! bounded in length, and (for the subject) on one line.

const MAX_SUBJECT_CHARS: usize = 200;
const MAX_BODY_CHARS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    pub fn parse(raw: &str) -> Result<Subject, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("subject must not be empty".into());
        }
        if s.chars().count() > MAX_SUBJECT_CHARS {
            return Err(format!(
                "subject must be at most {MAX_SUBJECT_CHARS} characters"
            ));
        }
        if s.chars().any(char::is_control) {
            return Err("subject must be one line without control characters".into());
        }
        Ok(Subject(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body(String);

impl Body {
    pub fn parse(raw: &str) -> Result<Body, String> {
        let b = raw.trim();
        if b.is_empty() {
            return Err("body must not be empty".into());
        }
        if b.chars().count() > MAX_BODY_CHARS {
            return Err(format!("body must be at most {MAX_BODY_CHARS} characters"));
        }
        if b.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err("body must not contain control characters".into());
        }
        Ok(Body(b.to_owned()))
    }

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
