//! What a notification is about; its snake_case name is the `kind` of the API.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Welcome,
    OrderPaid,
    OrderConfirmed,
    OrderCancelled,
    PaymentRefunded,
    Manual,
}

impl Kind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Welcome => "welcome",
            Kind::OrderPaid => "order_paid",
            Kind::OrderConfirmed => "order_confirmed",
            Kind::OrderCancelled => "order_cancelled",
            Kind::PaymentRefunded => "payment_refunded",
            Kind::Manual => "manual",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
