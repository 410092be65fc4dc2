//! Billing's part of the order saga, as one [`PgHandler`], the [`SagaHandler`]: each event's
//! effect, its outgoing events (through the outbox) and its inbox record commit in one
//! transaction (the handler is wrapped in [`saga_messaging::postgres::PgIdempotent`]).
//!
//! - `customer.created` → [`open_account`]: opens the account; publishes nothing;
//! - `order.created` → [`charge`]: charges it; publishes `order.paid` or `payment.failed`
//!   (waiting a while for an account not open yet: [`account_wait`]);
//! - `order.cancelled` → [`refund`]: refunds a charge made; publishes `payment.refunded`.

pub mod account_wait;
mod charge;
mod open_account;
mod refund;

use std::time::Duration;

use async_trait::async_trait;
use saga_contracts::{Envelope, EventPayload, EventType};
use saga_messaging::postgres::PgHandler;
use saga_messaging::HandlerError;
use sqlx::PgConnection;

/// The events billing consumes, all in its one consumer group: an order waiting (retrying) for
/// its account retries on its own partition's worker, so the `customer.created` that opens the
/// account is never held up behind it.
pub const CONSUMES: &[EventType] = saga_contracts::services::BILLING.consumes;

/// The events billing publishes (through its outbox).
pub const PUBLISHES: &[EventType] = saga_contracts::services::BILLING.publishes;

/// Billing's handler of the events it consumes. It holds no pool: each event is handled on
/// the one connection the runtime lends it ([`PgHandler`]).
#[derive(Clone)]
pub struct SagaHandler {
    /// How long an order for an account not yet opened is retried before it fails.
    account_wait: Duration,
}

impl SagaHandler {
    /// `account_wait`: how long an order for an account not yet opened is retried before it
    /// fails with `unknown_customer`.
    pub fn new(account_wait: Duration) -> SagaHandler {
        SagaHandler { account_wait }
    }
}

#[async_trait]
impl PgHandler for SagaHandler {
    async fn handle(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        match &event.payload {
            EventPayload::CustomerCreated(c) => open_account::handle(tx, event, c).await,
            EventPayload::OrderCreated(o) => charge::handle(tx, event, o, self.account_wait).await,
            EventPayload::OrderCancelled(c) => refund::handle(tx, event, c).await,
            other => {
                tracing::warn!(event_type = %other.event_type(), "billing does not handle this event; ignored");
                Ok(())
            }
        }
    }

    /// An order that found no account starts its wait, on the connection of the attempt
    /// that was rolled back ([`account_wait`]).
    async fn after_rollback(
        &self,
        conn: &mut PgConnection,
        _event: &Envelope,
        error: &HandlerError,
    ) -> Result<(), sqlx::Error> {
        if let HandlerError::Transient(e) = error {
            if let Some(wait) = e.downcast_ref::<account_wait::AccountNotOpen>() {
                if wait.waited.is_none() {
                    account_wait::start(conn, wait.order_id).await?;
                }
            }
        }
        Ok(())
    }
}
