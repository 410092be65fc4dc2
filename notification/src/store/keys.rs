//! Every Redis key the service uses, in one place, each with the configured prefix.
//!
//! | key | type | holds |
//! |---|---|---|
//! | `customer:{cid}` | hash | the customer replica: id, name, email |
//! | `n:{id}` | hash | one notification (see [`super::Notification`]) |
//! | `customer:{cid}:notifications` | sorted set | notification ids scored by creation time (ms) |
//! | `once:{order_id}:{kind}`, `once:welcome:{cid}`, `once:alert:{event_id}` | string | the once-per-(order, kind) guard, and one per low-stock alert; they never expire |
//! | `deliveries` | sorted set | ids of notifications not yet delivered, by creation time |
//! | `claim:{id}` | string | a dispatcher's short lease on delivering one notification |
//! | `alerts` | list | low-stock alerts as JSON, newest first, capped |
//! | `stock:{sku}` | hash | the latest `stock.updated` numbers of a SKU |
//! | `skus` | set | the SKUs that have a `stock:{sku}` hash |
//! | `inbox:notification:{event_id}` | string | handled events (written by the runtime, [`saga_messaging::redis_store::inbox_key`]) |
//!
//! Every key starts with the prefix (`REDIS_KEY_PREFIX`, default `notification:`), and the
//! service's ACL user may touch no other key: a prefix must start with `notification:`.

use uuid::Uuid;

use crate::domain::Kind;

/// The key names under one prefix (`REDIS_KEY_PREFIX`), so that tests and deployments sharing
/// a Redis do not see each other's data.
#[derive(Debug, Clone)]
pub struct Keys {
    /// Prepended to every key, the inbox keys included.
    prefix: String,
}

impl Keys {
    /// The keys under `prefix` (empty: no prefix).
    pub fn new(prefix: impl Into<String>) -> Self {
        Keys {
            prefix: prefix.into(),
        }
    }

    /// The prefix every key starts with (a test deletes its keys by it).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The customer replica's hash.
    pub fn customer(&self, customer_id: Uuid) -> String {
        format!("{}customer:{customer_id}", self.prefix)
    }

    /// One notification's hash.
    pub fn notification(&self, id: impl std::fmt::Display) -> String {
        format!("{}n:{id}", self.prefix)
    }

    /// A customer's notification ids, scored by creation time.
    pub fn customer_notifications(&self, customer_id: Uuid) -> String {
        format!("{}customer:{customer_id}:notifications", self.prefix)
    }

    /// The guard of an order's notification of one kind: it is created once.
    pub fn once_per_order(&self, order_id: Uuid, kind: Kind) -> String {
        format!("{}once:{order_id}:{}", self.prefix, kind.as_str())
    }

    /// The guard of a customer's welcome: it is created once.
    pub fn once_welcome(&self, customer_id: Uuid) -> String {
        format!("{}once:welcome:{customer_id}", self.prefix)
    }

    /// The guard of one `low.stock` event's alert: a replay of it adds no second alert.
    pub fn once_alert(&self, event_id: Uuid) -> String {
        format!("{}once:alert:{event_id}", self.prefix)
    }

    /// The ids of notifications not yet delivered, scored by creation time.
    pub fn deliveries(&self) -> String {
        format!("{}deliveries", self.prefix)
    }

    /// A dispatcher's short lease on delivering one notification.
    pub fn claim(&self, id: Uuid) -> String {
        format!("{}claim:{id}", self.prefix)
    }

    /// The low-stock alerts, newest first.
    pub fn alerts(&self) -> String {
        format!("{}alerts", self.prefix)
    }

    /// A SKU's latest stock numbers.
    pub fn stock(&self, sku: &str) -> String {
        format!("{}stock:{sku}", self.prefix)
    }

    /// The SKUs that have stock numbers.
    pub fn stock_skus(&self) -> String {
        format!("{}skus", self.prefix)
    }

    /// The key that records that the consumer handled the event `event_id` (the runtime
    /// writes it).
    pub fn inbox(&self, event_id: Uuid) -> String {
        saga_messaging::redis_store::inbox_key(&self.prefix, crate::SERVICE, event_id)
    }
}
