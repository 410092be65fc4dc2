//! Assertions on SPEC §4's error body: `{"error": {"code": "snake_case", "message": "…"}}`.

use std::fmt::Display;

use serde_json::Value;

/// Asserts that `response` (status and body, as [`crate::testing::TestClient`] gives them) is
/// the error `code` with status `status`, with a message that is a sentence rather than empty.
/// `context` (the request, say) is shown if it is not. Returns the `error` object, for the
/// fields some errors add (the short SKUs of `insufficient_stock`).
pub fn assert_error<'a>(
    response: &'a (u16, Value),
    status: u16,
    code: &str,
    context: impl Display,
) -> &'a Value {
    let (got, body) = response;
    let error = &body["error"];
    assert_eq!(
        (*got, error["code"].as_str()),
        (status, Some(code)),
        "{context} -> {body}"
    );
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.len() > 5,
        "{context} -> the error's message is not a sentence: {body}"
    );
    error
}
