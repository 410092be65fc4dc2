//! The state of an order's payment, and why a payment failed.

/// One row per order. `CancelledBeforeCharge` is the tombstone left by an `order.cancelled`
/// seen before its `order.created`: the late `order.created` then charges nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    Charged,
    Refunded,
    Failed,
    CancelledBeforeCharge,
}

impl PaymentStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            PaymentStatus::Charged => "CHARGED",
            PaymentStatus::Refunded => "REFUNDED",
            PaymentStatus::Failed => "FAILED",
            PaymentStatus::CancelledBeforeCharge => "CANCELLED_BEFORE_CHARGE",
        }
    }

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
    InsufficientFunds,
    UnknownCustomer,
}

impl FailureReason {
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
