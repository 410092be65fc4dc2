//! Billing's part of the order saga, as one [`PgHandler`]: each event's effect, its outgoing
//! events (through the outbox) and its inbox record commit in one transaction (the handler is
//! wrapped in [`shared_events::postgres::PgIdempotent`]).
//!
//! - `customer.created` opens the account ([`open_account`]);
//! - `order.created` charges it: `order.paid` or `payment.failed` ([`charge`]);
//! - `order.cancelled` refunds a charge made: `payment.refunded` ([`refund`]).

pub mod account_wait;
mod charge;
mod open_account;
mod refund;

use std::time::Duration;

use async_trait::async_trait;
use shared_events::postgres::PgHandler;
use shared_events::{Envelope, EventPayload, EventType, HandlerError};
use sqlx::{PgConnection, PgPool};

/// The events billing consumes, all in its one consumer group: an order waiting (retrying) for
/// its account retries on its own partition's worker, so the `customer.created` that opens the
/// account is never held up behind it.
pub const SUBSCRIPTIONS: &[EventType] = &[
    EventType::CustomerCreated,
    EventType::OrderCreated,
    EventType::OrderCancelled,
];
/// The events billing emits.
pub const EMITTED: &[EventType] = &[
    EventType::OrderPaid,
    EventType::PaymentFailed,
    EventType::PaymentRefunded,
];

#[derive(Clone)]
pub struct Billing {
    pool: PgPool,
    account_wait: Duration,
}

impl Billing {
    /// `account_wait`: how long an order for an account not yet opened is retried before it
    /// fails with `unknown_customer`.
    pub fn new(pool: PgPool, account_wait: Duration) -> Billing {
        Billing { pool, account_wait }
    }
}

#[async_trait]
impl PgHandler for Billing {
    async fn handle(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        match &event.payload {
            EventPayload::CustomerCreated(c) => open_account::handle(tx, c).await,
            EventPayload::OrderCreated(o) => charge::handle(self, tx, event, o).await,
            EventPayload::OrderCancelled(c) => refund::handle(tx, event, c).await,
            other => {
                tracing::warn!(event_type = %other.event_type(), "billing does not handle this event; ignored");
                Ok(())
            }
        }
    }
}
