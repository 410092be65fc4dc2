//! The response bodies of the five APIs (SPEC §4), as the suites and the checker read them.
//! Each derives `Serialize` too, for the before/after snapshots of `checker::public_state`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A customer (`POST /customers`, `GET /customers/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// Its id: what its orders, account and notifications are keyed by.
    pub id: Uuid,
    /// The name it was created with.
    pub name: String,
    /// The email it was created with (unique: a second customer with it is refused).
    pub email: String,
    /// Its starting balance, which billing opens its account with.
    pub credit_limit: Decimal,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    /// What was ordered: the stock the saga reserves.
    pub sku: String,
    /// How many units.
    pub quantity: u32,
    /// The price per unit when the order was placed: the total is the sum of these.
    pub unit_price: Decimal,
}

/// One step of an order's saga, as its history records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The event that moved the order (`order.confirmed`, `stock.reserved`, ...).
    pub event_type: String,
    /// When the orders service applied it.
    pub at: DateTime<Utc>,
}

/// An order (`POST /orders`, `GET /orders/{id}`, `GET /orders?customer_id=`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Its id: what its payment and notifications name.
    pub id: Uuid,
    /// Whose order it is: whose account pays for it.
    pub customer_id: Uuid,
    /// `PENDING`, `CONFIRMED` or `CANCELLED` (SPEC §5.1: every order ends in one of the last two).
    pub status: String,
    /// Why it was cancelled, if it was.
    #[serde(default)]
    pub reason: Option<String>,
    /// What was ordered.
    pub items: Vec<OrderLine>,
    /// What its payment must come to (SPEC §5.5).
    pub total: Decimal,
    /// When it was placed: the start of its saga's latency.
    pub created_at: DateTime<Utc>,
    /// When it was last updated, if it was.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// The saga's steps: when it reached its terminal state.
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
}

impl Order {
    pub fn is_terminal(&self) -> bool {
        self.status == "CONFIRMED" || self.status == "CANCELLED"
    }

    /// When the order reached its terminal state, from its history.
    pub fn terminal_at(&self) -> Option<DateTime<Utc>> {
        self.history
            .iter()
            .find(|h| h.event_type == "order.confirmed" || h.event_type == "order.cancelled")
            .map(|h| h.at)
    }
}

/// A SKU's stock (`POST /stock`, `GET /stock/{sku}`, restocks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// The SKU.
    pub sku: String,
    /// Its display name.
    pub name: String,
    /// Its price per unit: the unit price of the order lines placed now.
    pub price: Decimal,
    /// Units free to reserve.
    pub available: i64,
    /// Units held by sagas under way (SPEC §5.2: none at quiescence).
    pub reserved: i64,
    /// Units of confirmed orders (SPEC §5.3).
    pub sold: i64,
    /// Below this many available units, a stock alert is raised.
    pub low_stock_threshold: i64,
}

/// One payment of an account: at most one per order (SPEC §5.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    /// The order it pays for.
    pub order_id: Uuid,
    /// How much: the order's total.
    pub amount: Decimal,
    /// `CHARGED`, `REFUNDED` or `FAILED`.
    pub status: String,
    /// Why it failed, if it did.
    #[serde(default)]
    pub reason: Option<String>,
    /// When billing recorded it.
    pub at: DateTime<Utc>,
}

/// A customer's account (`GET /billing/{customer_id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// Whose account it is.
    pub customer_id: Uuid,
    /// What is left to spend (SPEC §5.4).
    pub balance: Decimal,
    /// Its payments, one per order that reached billing.
    #[serde(default)]
    pub payments: Vec<Payment>,
}

/// A notification sent to a customer (`GET /notifications?customer_id=`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Its id.
    pub id: Uuid,
    /// To whom it was sent.
    pub customer_id: Uuid,
    /// `welcome`, `order_confirmed`, `order_cancelled`, `payment_refunded`, ...
    pub kind: String,
    /// Its subject line.
    pub subject: String,
    /// Its text.
    pub body: String,
    /// The order it is about, if any (one per order and kind, SPEC §4).
    #[serde(default)]
    pub order_id: Option<Uuid>,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
}
