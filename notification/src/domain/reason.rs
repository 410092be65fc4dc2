//! An `order.cancelled` reason code in words a customer understands.

/// Completes the sentence "We had to cancel your order because …".
pub fn reason_in_words(code: &str) -> &'static str {
    match code {
        "out_of_stock" => "some items are out of stock",
        "insufficient_funds" => "your account balance was too low",
        "unknown_customer" => "we could not find your customer account",
        "timeout" => "it could not be completed in time",
        "unknown_sku" => "it contained a product we do not sell",
        _ => "of a problem we could not resolve",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_have_their_own_words_and_others_a_generic_sentence() {
        assert_eq!(
            reason_in_words("out_of_stock"),
            "some items are out of stock"
        );
        assert_eq!(
            reason_in_words("insufficient_funds"),
            "your account balance was too low"
        );
        assert_eq!(
            reason_in_words("timeout"),
            "it could not be completed in time"
        );
        for code in ["unknown_customer", "unknown_sku", "something_new", ""] {
            assert!(!reason_in_words(code).contains('_'), "{code}");
        }
        assert_eq!(
            reason_in_words("something_new"),
            "of a problem we could not resolve"
        );
    }
}
