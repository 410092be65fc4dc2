//! The state of an order's payment, and why a payment failed.

/// One row per order. `CancelledBeforeCharge` is the tombstone left by an `order.cancelled`
/// seen before its `order.created`: the late `order.created` then charges nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    /// The order total was taken from the balance.
    Charged,
    /// A charge given back after the order was cancelled.
    Refunded,
    /// Nothing was taken; the row says why (a [`FailureReason`]).
    Failed,
    /// The tombstone: the order was cancelled before billing saw it.
    CancelledBeforeCharge,
}

impl PaymentStatus {
    /// The status as stored and shown (`CHARGED`...).
    pub fn as_str(&self) -> &'static str {
        match self {
            PaymentStatus::Charged => "CHARGED",
            PaymentStatus::Refunded => "REFUNDED",
            PaymentStatus::Failed => "FAILED",
            PaymentStatus::CancelledBeforeCharge => "CANCELLED_BEFORE_CHARGE",
        }
    }

    /// The status stored as `raw`, if it is one.
    pub fn parse(raw: &str) -> Option<PaymentStatus> {
        [
            PaymentStatus::Charged,
            PaymentStatus::Refunded,
            PaymentStatus::Failed,
            PaymentStatus::CancelledBeforeCharge,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// The stable reason codes of `payment.failed` (shared with every service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// The balance did not cover the order total.
    InsufficientFunds,
    /// No account opened for the customer within the wait.
    UnknownCustomer,
}

impl FailureReason {
    /// The code as `payment.failed` and the statement carry it.
    pub fn as_str(&self) -> &'static str {
        match self {
            FailureReason::InsufficientFunds => "insufficient_funds",
            FailureReason::UnknownCustomer => "unknown_customer",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for s in [
            PaymentStatus::Charged,
            PaymentStatus::Refunded,
            PaymentStatus::Failed,
            PaymentStatus::CancelledBeforeCharge,
        ] {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(PaymentStatus::parse("charged"), None);
    }
}
