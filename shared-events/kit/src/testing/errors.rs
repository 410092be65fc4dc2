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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::assert_error;

    fn error(status: u16, code: &str, message: &str) -> (u16, serde_json::Value) {
        (
            status,
            json!({ "error": { "code": code, "message": message } }),
        )
    }

    #[test]
    fn passes_on_the_documented_error_and_hands_it_back() {
        let response = error(409, "email_taken", "that email is taken");
        let e = assert_error(&response, 409, "email_taken", "POST /customers");
        assert_eq!(e["message"], "that email is taken");
    }

    #[test]
    #[should_panic(expected = "POST /x")]
    fn fails_on_another_status() {
        assert_error(
            &error(422, "email_taken", "that email is taken"),
            409,
            "email_taken",
            "POST /x",
        );
    }

    #[test]
    #[should_panic(expected = "POST /x")]
    fn fails_on_another_code() {
        assert_error(
            &error(409, "sku_exists", "that SKU exists"),
            409,
            "email_taken",
            "POST /x",
        );
    }

    #[test]
    #[should_panic(expected = "not a sentence")]
    fn fails_on_an_empty_or_missing_message() {
        assert_error(
            &(409, json!({ "error": { "code": "email_taken" } })),
            409,
            "email_taken",
            "POST /x",
        );
    }

    #[test]
    #[should_panic(expected = "POST /x")]
    fn fails_on_a_body_that_is_not_an_error() {
        assert_error(&(409, json!({ "id": 1 })), 409, "email_taken", "POST /x");
    }
}
