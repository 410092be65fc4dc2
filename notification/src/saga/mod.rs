//! What each consumed event does to Redis, planned here and applied by the runtime's
//! [`RedisIdempotent`](shared_events::redis_store::RedisIdempotent) in one atomic script
//! together with the event's inbox key.
//!
//! Customer-facing notifications are written under a guard key per (order, kind) (per customer
//! for `welcome`), so a redelivered event, a replay or a second event of the same kind about
//! the same order creates nothing more.

use std::sync::Arc;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use shared_events::redis_store::{RedisEffect, RedisHandler};
use shared_events::{Envelope, EventPayload, EventType, Handler, HandlerError, Outcome};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::domain::{Message, Recipient};
use crate::keys::Keys;
use crate::store::{self, Notification};

/// The events the service consumes, all in its one consumer group. An order event waiting for
/// its customer retries on its own partition's worker, so it never holds up the
/// `customer.created` it waits for.
pub const SUBSCRIPTIONS: &[EventType] = &[
    EventType::CustomerCreated,
    EventType::OrderPaid,
    EventType::OrderConfirmed,
    EventType::OrderCancelled,
    EventType::PaymentRefunded,
    EventType::StockUpdated,
    EventType::LowStock,
];

pub struct NotificationHandler {
    keys: Keys,
}

impl NotificationHandler {
    pub fn new(keys: Keys) -> Self {
        NotificationHandler { keys }
    }

    /// The guarded notification for an order event, once its customer is known.
    async fn about_order(
        &self,
        conn: &mut ConnectionManager,
        customer_id: Uuid,
        order_id: Uuid,
        message: impl FnOnce(&Recipient) -> Message,
    ) -> Result<RedisEffect, HandlerError> {
        let Some(to) = store::find_recipient(conn, &self.keys, customer_id).await? else {
            crate::metrics::CUSTOMER_NOT_YET_KNOWN.inc();
            return Err(HandlerError::transient(anyhow::anyhow!(
                "customer {customer_id} is not known yet (no customer.created seen)"
            )));
        };
        let message = message(&to);
        let guard = self.keys.once_per_order(order_id, message.kind);
        let notification = Notification::new(customer_id, message);
        Ok(RedisEffect::new().once(guard, store::create_commands(&self.keys, &notification)))
    }
}

fn with_commands(effect: RedisEffect, commands: Vec<store::Command>) -> RedisEffect {
    commands.into_iter().fold(effect, RedisEffect::command)
}

#[async_trait]
impl RedisHandler for NotificationHandler {
    async fn plan(
        &self,
        conn: &mut ConnectionManager,
        event: &Envelope,
    ) -> Result<RedisEffect, HandlerError> {
        let keys = &self.keys;
        match &event.payload {
            EventPayload::CustomerCreated(c) => {
                let welcome = Notification::new(c.customer_id, Message::welcome(c));
                let effect = with_commands(RedisEffect::new(), store::customer_commands(keys, c));
                Ok(effect.once(
                    keys.once_welcome(c.customer_id),
                    store::create_commands(keys, &welcome),
                ))
            }
            EventPayload::OrderPaid(e) => {
                self.about_order(conn, e.customer_id, e.order_id, |to| {
                    Message::order_paid(to, e)
                })
                .await
            }
            EventPayload::OrderConfirmed(e) => {
                self.about_order(conn, e.customer_id, e.order_id, |to| {
                    Message::order_confirmed(to, e)
                })
                .await
            }
            EventPayload::OrderCancelled(e) => {
                self.about_order(conn, e.customer_id, e.order_id, |to| {
                    Message::order_cancelled(to, e)
                })
                .await
            }
            EventPayload::PaymentRefunded(e) => {
                self.about_order(conn, e.customer_id, e.order_id, |to| {
                    Message::payment_refunded(to, e)
                })
                .await
            }
            EventPayload::StockUpdated(e) => {
                // Events of one SKU share a partition, so they arrive in order and this read
                // cannot race another write of the same SKU; the check only stops a replay of
                // older numbers (after their inbox keys expired) from going back in time.
                let at = event.occurred_at;
                let kept = store::latest_stock_at_us(conn, keys, &e.sku).await?;
                if kept.is_some_and(|kept| kept > at.timestamp_micros()) {
                    return Ok(RedisEffect::new());
                }
                Ok(with_commands(
                    RedisEffect::new(),
                    store::stock_commands(keys, e, at),
                ))
            }
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

/// Wakes the delivery dispatcher whenever an event was applied, so that a new notification
/// goes out at once rather than at the next poll.
pub struct Kicking<H> {
    inner: H,
    kick: Arc<Notify>,
}

impl<H> Kicking<H> {
    pub fn new(inner: H, kick: Arc<Notify>) -> Self {
        Kicking { inner, kick }
    }
}

#[async_trait]
impl<H: Handler> Handler for Kicking<H> {
    async fn handle(&self, event: &Envelope) -> Result<Outcome, HandlerError> {
        let outcome = self.inner.handle(event).await?;
        if outcome == Outcome::Applied {
            self.kick.notify_one();
        }
        Ok(outcome)
    }
}
