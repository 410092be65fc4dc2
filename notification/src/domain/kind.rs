//! What a notification is about; its snake_case name is the `kind` of the API.

use serde::Serialize;

/// What a notification is about. An order has at most one notification of each order kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// To a new customer, once (`customer.created`).
    Welcome,
    /// The order's payment was taken (`order.paid`).
    OrderPaid,
    /// The order is confirmed (`order.confirmed`).
    OrderConfirmed,
    /// The order was cancelled, with the reason in words (`order.cancelled`).
    OrderCancelled,
    /// The order's payment was refunded (`payment.refunded`).
    PaymentRefunded,
    /// Sent by hand through `POST /notify`.
    Manual,
}

impl Kind {
    /// The API's name of the kind, as stored.
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
