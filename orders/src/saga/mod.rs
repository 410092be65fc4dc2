//! Orders' part of the order saga, as one [`PgHandler`]: each event's effect, the event it
//! decides (through the outbox) and its inbox record commit in one transaction (the handler is
//! wrapped in [`saga_messaging::postgres::PgIdempotent`]). One arm per event:
//!
//! - `customer.created`: the customer joins the replica `POST /orders` checks customers
//!   against (a repeat is a no-op); publishes nothing;
//! - `stock.updated`: the SKU's latest name and price in the catalogue replica, which prices
//!   every new order; publishes nothing;
//! - `stock.reserved`: inventory holds every line of the order; `order.confirmed` if the order
//!   is paid already, otherwise the order now waits for its payment;
//! - `order.paid`: billing charged the order; `order.confirmed` if the stock is reserved
//!   already, otherwise the order now waits for its reservation;
//! - `stock.rejected`: inventory could not reserve the order; `order.cancelled` with
//!   inventory's reason (`stock_rejected` if it gave none), unless the saga has already ended;
//! - `payment.failed`: billing could not charge the order; `order.cancelled` with billing's
//!   reason (`payment_failed` if it gave none), unless the saga has already ended;
//! - and no event, [`deadline`]: `order.cancelled` (`timeout`) for an order pending too long.
//!
//! The four saga events go through one step ([`crate::store::saga::advance`]), which runs the
//! state machine of [`crate::domain`] under the order's row lock.
//!
//! Inventory's answer to an order is caused by that order's `order.created` (its
//! `causation_id`). A `stock.reserved` or `stock.rejected` caused by no event comes from a
//! manual `POST /stock/reserve` under the order's id, which is no answer to the order (SPEC §7):
//! [`answers_an_order`] tells them apart, and such an event is acknowledged and ignored.

pub mod deadline;

use async_trait::async_trait;
use saga_contracts::{Envelope, EventPayload, EventType};
use saga_messaging::postgres::PgHandler;
use saga_messaging::HandlerError;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::SagaInput;
use crate::store::{replicas, saga};

/// The events orders consumes (SPEC §1), all in its one consumer group.
pub const CONSUMES: &[EventType] = saga_contracts::services::ORDERS.consumes;

/// The events orders publishes: the saga's start and its two ends.
pub const PUBLISHES: &[EventType] = saga_contracts::services::ORDERS.publishes;

/// The service's one event handler: feeds the replicas and drives the saga.
#[derive(Debug, Clone, Copy, Default)]
pub struct SagaHandler;

#[async_trait]
impl PgHandler for SagaHandler {
    async fn handle(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        match &event.payload {
            EventPayload::CustomerCreated(c) => Ok(replicas::upsert_customer(tx, c).await?),
            EventPayload::StockUpdated(s) => Ok(replicas::upsert_product(tx, s).await?),
            EventPayload::StockReserved(r) => {
                if !answers_an_order(event, r.order_id) {
                    return Ok(());
                }
                step(tx, event, r.order_id, SagaInput::StockReserved).await
            }
            EventPayload::OrderPaid(p) => step(tx, event, p.order_id, SagaInput::Paid).await,
            EventPayload::StockRejected(r) => {
                if !answers_an_order(event, r.order_id) {
                    return Ok(());
                }
                let input = SagaInput::StockRejected {
                    reason: r.reason.clone(),
                };
                step(tx, event, r.order_id, input).await
            }
            EventPayload::PaymentFailed(f) => {
                let input = SagaInput::PaymentFailed {
                    reason: f.reason.clone(),
                };
                step(tx, event, f.order_id, input).await
            }
            other => {
                tracing::debug!(event_type = %other.event_type(), "not an event orders uses; ignored");
                Ok(())
            }
        }
    }
}

/// Whether inventory's `stock.reserved` or `stock.rejected` answers an order: caused by an
/// event (the order's `order.created`; only inventory publishes these topics, and it records a
/// cause for the saga's answers alone). One caused by no event is a manual reservation's: it is
/// logged and acknowledged, and decides nothing.
fn answers_an_order(event: &Envelope, order_id: Uuid) -> bool {
    if event.causation_id.is_some() {
        return true;
    }
    tracing::info!(
        %order_id,
        event_type = %event.event_type(),
        "stock answer caused by no order event (a manual reservation); ignored"
    );
    false
}

/// One saga step for `event`, about order `order_id`. The order row is written before
/// `order.created` is published, so an event about an order this database lacks is about an
/// order it will never have: it is logged and acknowledged, not retried.
async fn step(
    tx: &mut PgConnection,
    event: &Envelope,
    order_id: Uuid,
    input: SagaInput,
) -> Result<(), HandlerError> {
    let seen = Some(event.event_type());
    if saga::advance(tx, order_id, &input, seen, Some(event))
        .await?
        .is_none()
    {
        tracing::warn!(%order_id, event_type = %event.event_type(), "event about an unknown order; acknowledged");
    }
    Ok(())
}
