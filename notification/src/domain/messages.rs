//! The message each customer-facing event becomes: its kind, subject and body.

use saga_contracts::events::{
    CustomerCreated, OrderCancelled, OrderConfirmed, OrderPaid, PaymentRefunded,
};
use uuid::Uuid;

use super::{reason_in_words, Kind};

/// Who a message is written to, from the customer replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// What a message calls them.
    pub name: String,
    /// Where the notifier sends it.
    pub email: String,
}

/// A notification's content, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// What it is about.
    pub kind: Kind,
    /// Its subject line.
    pub subject: String,
    /// Its text.
    pub body: String,
    /// The order it is about, if any.
    pub order_id: Option<Uuid>,
}

impl Message {
    /// The welcome a new customer gets.
    pub fn welcome(c: &CustomerCreated) -> Message {
        Message {
            kind: Kind::Welcome,
            subject: format!("Welcome, {}!", c.name),
            body: format!(
                "Hi {}, your account is ready. We will write to {} about your orders.",
                c.name, c.email
            ),
            order_id: None,
        }
    }

    /// The payment of an order was taken.
    pub fn order_paid(to: &Recipient, e: &OrderPaid) -> Message {
        Message {
            kind: Kind::OrderPaid,
            subject: "We received your payment".into(),
            body: format!(
                "Hi {}, we charged {} to your account for order {}. We will let you know \
                 as soon as the order is confirmed.",
                to.name, e.amount, e.order_id
            ),
            order_id: Some(e.order_id),
        }
    }

    /// An order is confirmed: its item count and total.
    pub fn order_confirmed(to: &Recipient, e: &OrderConfirmed) -> Message {
        let items: u64 = e.items.iter().map(|l| u64::from(l.quantity)).sum();
        Message {
            kind: Kind::OrderConfirmed,
            subject: "Your order is confirmed".into(),
            body: format!(
                "Hi {}, your order {} is confirmed: {} item{}, {} in total. Thank you!",
                to.name,
                e.order_id,
                items,
                if items == 1 { "" } else { "s" },
                e.total
            ),
            order_id: Some(e.order_id),
        }
    }

    /// An order was cancelled, and why, in words.
    pub fn order_cancelled(to: &Recipient, e: &OrderCancelled) -> Message {
        Message {
            kind: Kind::OrderCancelled,
            subject: "Your order was cancelled".into(),
            body: format!(
                "Hi {}, we are sorry: we had to cancel your order {} because {}. \
                 Any payment taken for it will be refunded.",
                to.name,
                e.order_id,
                reason_in_words(&e.reason)
            ),
            order_id: Some(e.order_id),
        }
    }

    /// An order's payment was refunded.
    pub fn payment_refunded(to: &Recipient, e: &PaymentRefunded) -> Message {
        Message {
            kind: Kind::PaymentRefunded,
            subject: "Your payment was refunded".into(),
            body: format!(
                "Hi {}, we refunded {} to your account for the cancelled order {}.",
                to.name, e.amount, e.order_id
            ),
            order_id: Some(e.order_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancellation_explains_the_reason_in_words() {
        let to = Recipient {
            name: "Ada".into(),
            email: "ada@example.com".into(),
        };
        let order_id = Uuid::now_v7();
        let m = Message::order_cancelled(
            &to,
            &OrderCancelled {
                order_id,
                customer_id: Uuid::now_v7(),
                reason: "insufficient_funds".into(),
            },
        );
        assert_eq!(m.kind, Kind::OrderCancelled);
        assert_eq!(m.order_id, Some(order_id));
        assert!(m.body.contains("because your account balance was too low"));
        assert!(!m.body.contains("insufficient_funds"));
    }
}
