//! Every event of the saga: its type name (which is also its topic), its payload and its key.
//!
//! The table in `events!` is the single place an event type is declared. The payload structs
//! below are the `data` of the envelope; their JSON shape is pinned by golden files
//! (`tests/golden/*.json`), so a change to a payload fails a test until it is made on purpose.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::money::Money;

macro_rules! events {
    ($( $variant:ident => $name:literal, key: $key:ident; )*) => {
        /// The type of an event; its name is also the name of the topic that carries it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(missing_docs)] // each variant is named after its payload struct, documented below
        pub enum EventType { $( $variant, )* }

        impl EventType {
            /// Every event type, in the order of the table.
            pub const ALL: &'static [EventType] = &[ $( EventType::$variant, )* ];

            /// The dotted name, e.g. `order.created`.
            pub fn as_str(&self) -> &'static str {
                match self { $( EventType::$variant => $name, )* }
            }

            /// The event type named `name` (its dotted name), if there is one.
            pub fn parse(name: &str) -> Option<EventType> {
                match name { $( $name => Some(EventType::$variant), )* _ => None }
            }
        }

        /// A typed event payload: the envelope's `data`.
        #[derive(Debug, Clone, PartialEq)]
        #[allow(missing_docs)] // each variant is its payload struct, documented below
        pub enum EventPayload { $( $variant($variant), )* }

        impl EventPayload {
            /// The type of this payload.
            pub fn event_type(&self) -> EventType {
                match self { $( EventPayload::$variant(_) => EventType::$variant, )* }
            }

            /// The Kafka key: the order id for saga events, the customer id for
            /// `customer.created`, the SKU for stock numbers and alerts.
            pub fn key(&self) -> String {
                match self { $( EventPayload::$variant(p) => p.$key.to_string(), )* }
            }

            /// The payload as the envelope's `data` JSON.
            pub fn to_data(&self) -> serde_json::Value {
                let value = match self { $( EventPayload::$variant(p) => serde_json::to_value(p), )* };
                value.expect("event payloads always serialize")
            }

            /// The payload of `event_type` read from an envelope's `data`.
            pub fn from_data(
                event_type: EventType,
                data: serde_json::Value,
            ) -> Result<EventPayload, serde_json::Error> {
                Ok(match event_type {
                    $( EventType::$variant => EventPayload::$variant(serde_json::from_value(data)?), )*
                })
            }
        }

        $(
            impl From<$variant> for EventPayload {
                fn from(p: $variant) -> EventPayload { EventPayload::$variant(p) }
            }
        )*
    };
}

events! {
    CustomerCreated => "customer.created", key: customer_id;
    OrderCreated => "order.created", key: order_id;
    OrderPaid => "order.paid", key: order_id;
    PaymentFailed => "payment.failed", key: order_id;
    PaymentRefunded => "payment.refunded", key: order_id;
    StockUpdated => "stock.updated", key: sku;
    LowStock => "low.stock", key: sku;
    StockReserved => "stock.reserved", key: order_id;
    StockRejected => "stock.rejected", key: order_id;
    StockReleased => "stock.released", key: order_id;
    OrderConfirmed => "order.confirmed", key: order_id;
    OrderCancelled => "order.cancelled", key: order_id;
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A customer was registered; billing opens an account with `credit_limit` as its balance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerCreated {
    /// The customer the event is about.
    pub customer_id: Uuid,
    /// The customer's name, as registered.
    pub name: String,
    /// Where notifications go.
    pub email: String,
    /// The balance billing opens the account with.
    pub credit_limit: Money,
}

/// One priced line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The product.
    pub sku: String,
    /// How many units, 1 or more.
    pub quantity: u32,
    /// The price of one, from the catalogue when the order was placed.
    pub unit_price: Money,
}

/// An order was placed (status `PENDING`); inventory and billing both react to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderCreated {
    /// The order the event is about (the key of every saga event).
    pub order_id: Uuid,
    /// The customer the event is about.
    pub customer_id: Uuid,
    /// The priced lines.
    pub items: Vec<OrderLine>,
    /// The sum of the lines.
    pub total: Money,
}

/// Billing charged the order's total to the customer's account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderPaid {
    /// The order the event is about (the key of every saga event).
    pub order_id: Uuid,
    /// The customer the event is about.
    pub customer_id: Uuid,
    /// What was charged: the order total.
    pub amount: Money,
}

/// Billing could not charge the order; `reason` is a stable code such as `insufficient_funds`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentFailed {
    /// The order the event is about (the key of every saga event).
    pub order_id: Uuid,
    /// The customer the event is about.
    pub customer_id: Uuid,
    /// What could not be charged: the order total.
    pub amount: Money,
    /// Why: `insufficient_funds` or `unknown_customer`.
    pub reason: String,
}

/// Billing gave back a charge because the order was cancelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentRefunded {
    /// The order the event is about (the key of every saga event).
    pub order_id: Uuid,
    /// The customer the event is about.
    pub customer_id: Uuid,
    /// What was given back.
    pub amount: Money,
}

/// A product's current numbers; emitted on every change, and the orders service prices from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockUpdated {
    /// The product.
    pub sku: String,
    /// The product's name.
    pub name: String,
    /// The unit price orders prices new orders at.
    pub price: Money,
    /// Units that can be reserved.
    pub available: u64,
    /// Units held for orders not yet confirmed.
    pub reserved: u64,
    /// Units of confirmed orders.
    pub sold: u64,
    /// Below this many available units, `low.stock` is emitted (0: never).
    pub low_stock_threshold: u64,
}

/// A product's available stock crossed below its threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LowStock {
    /// The product.
    pub sku: String,
    /// The product's name.
    pub name: String,
    /// Units that can be reserved.
    pub available: u64,
    /// Below this many available units, `low.stock` is emitted (0: never).
    pub low_stock_threshold: u64,
}

/// A SKU and a quantity, as reserved or released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLine {
    /// The product.
    pub sku: String,
    /// How many units.
    pub quantity: u32,
}

/// Inventory reserved every line of the order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockReserved {
    /// The order the event is about (the key of every saga event).
    pub order_id: Uuid,
    /// The lines, one per SKU.
    pub items: Vec<StockLine>,
}

/// Inventory reserved nothing; `short_skus` lists the lines it could not cover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockRejected {
    /// The order the event is about (the key of every saga event).
    pub order_id: Uuid,
    /// Why: `out_of_stock` (some line short) or `unknown_sku` (some line names no product).
    pub reason: String,
    /// The SKUs that caused the rejection: those with too little available stock, or for
    /// `unknown_sku` those no product has; sorted, each once.
    pub short_skus: Vec<String>,
}

/// Inventory gave a cancelled order's reservation back to available stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockReleased {
    /// The order the event is about (the key of every saga event).
    pub order_id: Uuid,
    /// The lines, one per SKU.
    pub items: Vec<StockLine>,
}

/// Stock and payment both succeeded; the order is final.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderConfirmed {
    /// The order the event is about (the key of every saga event).
    pub order_id: Uuid,
    /// The customer the event is about.
    pub customer_id: Uuid,
    /// The priced lines.
    pub items: Vec<OrderLine>,
    /// The sum of the lines.
    pub total: Money,
}

/// The order failed; inventory and billing compensate what they did for it.
/// `reason` is a stable code: `out_of_stock`, `insufficient_funds`, `unknown_customer`,
/// `timeout`, …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderCancelled {
    /// The order the event is about (the key of every saga event).
    pub order_id: Uuid,
    /// The customer the event is about.
    pub customer_id: Uuid,
    /// Why, as a stable code.
    pub reason: String,
}
