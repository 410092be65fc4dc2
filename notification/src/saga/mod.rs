//! The notification service's part of the saga, as one [`RedisHandler`]: what each consumed
//! event writes to Redis is planned here and applied by the runtime's
//! [`RedisIdempotent`](saga_messaging::redis_store::RedisIdempotent) in one atomic script
//! together with the event's inbox key. The service publishes nothing.
//!
//! - `customer.created`: the customer replica and one `welcome` ([`customer_created`]);
//! - `order.paid`: `order_paid` ("we received your payment");
//! - `order.confirmed`: `order_confirmed`, its items and total;
//! - `order.cancelled`: `order_cancelled`, the reason in words;
//! - `payment.refunded`: `payment_refunded`, with the amount;
//! - `stock.updated`: the SKU's latest numbers, never older ones ([`stock_updated`]);
//! - `low.stock`: one alert for operations, prepended to the capped list of alerts.
//!
//! Customer-facing notifications are written under a guard key per (order, kind) (per customer
//! for `welcome`), so a redelivered event, a replay or a second event of the same kind about
//! the same order creates nothing more. An order's notification waits for its customer
//! ([`customer_wait`]); [`Kicking`] wakes the delivery dispatcher after each applied event.
//! What the events' files share with the dispatch is in [`plan`].

mod customer_created;
pub mod customer_wait;
mod kicking;
mod plan;
mod stock_updated;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use saga_contracts::{Envelope, EventPayload, EventType};
use saga_messaging::redis_store::{RedisEffect, RedisHandler};
use saga_messaging::HandlerError;

pub use kicking::Kicking;
pub use plan::Plan;

use self::customer_wait::notify_once;
use crate::domain::Message;
use crate::store::{self, Keys, StoreError};

/// The events the service consumes, all in its one consumer group. An order event waiting for
/// its customer retries on its own partition's worker, so it never holds up the
/// `customer.created` it waits for.
pub const CONSUMES: &[EventType] = saga_contracts::services::NOTIFICATION.consumes;

/// The events the service publishes: none (it has no outbox).
pub const PUBLISHES: &[EventType] = saga_contracts::services::NOTIFICATION.publishes;

/// The service's saga handler: plans each consumed event's writes under the service's keys.
pub struct SagaHandler {
    /// The key names, under the configured prefix.
    keys: Keys,
}

impl SagaHandler {
    /// A handler writing under `keys`.
    pub fn new(keys: Keys) -> Self {
        SagaHandler { keys }
    }
}

#[async_trait]
impl RedisHandler for SagaHandler {
    async fn plan(&self, conn: &mut ConnectionManager, event: &Envelope) -> Plan {
        let keys = &self.keys;
        match &event.payload {
            EventPayload::CustomerCreated(c) => Ok(customer_created::handle(keys, c)),
            EventPayload::OrderPaid(e) => {
                notify_once(keys, conn, e.customer_id, e.order_id, |to| {
                    Message::order_paid(to, e)
                })
                .await
            }
            EventPayload::OrderConfirmed(e) => {
                notify_once(keys, conn, e.customer_id, e.order_id, |to| {
                    Message::order_confirmed(to, e)
                })
                .await
            }
            EventPayload::OrderCancelled(e) => {
                notify_once(keys, conn, e.customer_id, e.order_id, |to| {
                    Message::order_cancelled(to, e)
                })
                .await
            }
            EventPayload::PaymentRefunded(e) => {
                notify_once(keys, conn, e.customer_id, e.order_id, |to| {
                    Message::payment_refunded(to, e)
                })
                .await
            }
            EventPayload::StockUpdated(e) => stock_updated::handle(keys, conn, event, e).await,
            // Under a guard per event: a replay of the event adds no second alert.
            EventPayload::LowStock(e) => Ok(RedisEffect::new().once(
                keys.once_alert(event.event_id),
                store::alert_commands(keys, e, event.occurred_at),
            )),
            other => {
                tracing::warn!(event_type = %other.event_type(), "event not consumed by this service; ignored");
                Ok(RedisEffect::new())
            }
        }
    }
}

/// A store failure in the consumer: retried as the runtime classifies Redis's error (an
/// unreachable Redis is retried without limit and never dead-lettered).
impl From<StoreError> for HandlerError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Redis(e) => e.into(),
        }
    }
}
