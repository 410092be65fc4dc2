//! The one event handler of the service: feeds the replicas and drives the saga. It runs inside
//! `PgIdempotent`, so each event's effect commits together with its inbox record.

use async_trait::async_trait;
use shared_events::postgres::PgHandler;
use shared_events::{Envelope, EventPayload, EventType, HandlerError};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::SagaInput;
use crate::store::{replicas, saga};

/// The topics the service consumes (SPEC §1).
pub const SUBSCRIPTIONS: &[EventType] = &[
    EventType::CustomerCreated,
    EventType::StockUpdated,
    EventType::StockReserved,
    EventType::StockRejected,
    EventType::OrderPaid,
    EventType::PaymentFailed,
];

pub struct OrdersHandler;

#[async_trait]
impl PgHandler for OrdersHandler {
    async fn handle(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        match &event.payload {
            EventPayload::CustomerCreated(c) => replicas::upsert_customer(tx, c).await?,
            EventPayload::StockUpdated(s) => replicas::upsert_product(tx, s).await?,
            EventPayload::StockReserved(e) => {
                step(tx, e.order_id, SagaInput::StockReserved, event).await?
            }
            EventPayload::OrderPaid(e) => step(tx, e.order_id, SagaInput::Paid, event).await?,
            EventPayload::StockRejected(e) => {
                let input = SagaInput::StockRejected {
                    reason: e.reason.clone(),
                };
                step(tx, e.order_id, input, event).await?
            }
            EventPayload::PaymentFailed(e) => {
                let input = SagaInput::PaymentFailed {
                    reason: e.reason.clone(),
                };
                step(tx, e.order_id, input, event).await?
            }
            other => tracing::debug!(event_type = %other.event_type(), "not an event orders uses"),
        }
        Ok(())
    }
}

/// One saga step. The order row is written before `order.created` is published, so an event
/// about an order this database lacks is about an order it will never have (say, a manual
/// `POST /stock/reserve`): it is logged and acknowledged, not retried.
async fn step(
    tx: &mut PgConnection,
    order_id: Uuid,
    input: SagaInput,
    event: &Envelope,
) -> Result<(), sqlx::Error> {
    let seen = Some(event.event_type());
    if saga::advance(tx, order_id, &input, seen, Some(event))
        .await?
        .is_none()
    {
        tracing::warn!(%order_id, event_type = %event.event_type(), "event about an unknown order; acknowledged");
    }
    Ok(())
}
