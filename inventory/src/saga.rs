//! Inventory's part in the order saga: which events it consumes and what each one asks of
//! the store. The consumer runner (group `inventory`) delivers them to [`SagaHandler`], which
//! hands each to the store's atomic, idempotent step.

use std::sync::Arc;

use async_trait::async_trait;
use shared_events::{Envelope, EventPayload, EventType, Handler, HandlerError, Outcome};

use crate::domain::{Command, ReservationRequest};
use crate::store::{InventoryStore, StoreError};

/// The topics inventory consumes.
pub const CONSUMES: &[EventType] = &[
    EventType::OrderCreated,
    EventType::OrderConfirmed,
    EventType::OrderCancelled,
];

/// The topics inventory produces.
pub const PRODUCES: &[EventType] = &[
    EventType::StockUpdated,
    EventType::LowStock,
    EventType::StockReserved,
    EventType::StockRejected,
    EventType::StockReleased,
];

/// The command an incoming event stands for. An event that can never be applied (one inventory
/// does not consume, an order line of quantity 0, an order with no lines) is a permanent error:
/// it goes to the dead-letter topic.
pub fn command_for(event: &Envelope) -> Result<Command, HandlerError> {
    match &event.payload {
        EventPayload::OrderCreated(order) => ReservationRequest::from_raw(
            order.order_id,
            order.items.iter().map(|l| (l.sku.clone(), l.quantity)),
        )
        .map(Command::Reserve)
        .map_err(|e| HandlerError::permanent(anyhow::anyhow!("order {}: {e}", order.order_id))),
        EventPayload::OrderConfirmed(order) => Ok(Command::Confirm(order.order_id)),
        EventPayload::OrderCancelled(order) => Ok(Command::Cancel(order.order_id)),
        other => Err(HandlerError::permanent(anyhow::anyhow!(
            "inventory does not consume {}",
            other.event_type()
        ))),
    }
}

/// A store failure inside a saga step: the store being unreachable or busy may pass; stored
/// data that contradicts itself will not.
pub fn handler_error(e: StoreError) -> HandlerError {
    match e {
        StoreError::Backend(e) => HandlerError::transient(e),
        other => HandlerError::Permanent(other.into()),
    }
}

/// The consumer runner's handler: every event goes to the store's idempotent step.
pub struct SagaHandler {
    store: Arc<dyn InventoryStore>,
}

impl SagaHandler {
    pub fn new(store: Arc<dyn InventoryStore>) -> Self {
        SagaHandler { store }
    }
}

#[async_trait]
impl Handler for SagaHandler {
    async fn handle(&self, event: &Envelope) -> Result<Outcome, HandlerError> {
        self.store.handle_event(event).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_events::events::{CustomerCreated, OrderCancelled, OrderCreated, OrderLine};
    use uuid::Uuid;

    #[test]
    fn order_events_map_to_commands() {
        let order_id = Uuid::now_v7();
        let created = Envelope::new(
            "orders",
            OrderCreated {
                order_id,
                customer_id: Uuid::now_v7(),
                items: vec![OrderLine {
                    sku: "a".into(),
                    quantity: 2,
                    unit_price: "1.00".parse().unwrap(),
                }],
                total: "2.00".parse().unwrap(),
            },
        );
        let Command::Reserve(r) = command_for(&created).unwrap() else {
            panic!("not a reserve")
        };
        assert_eq!((r.order_id, r.lines.len()), (order_id, 1));
        let cancelled = Envelope::new(
            "orders",
            OrderCancelled {
                order_id,
                customer_id: Uuid::now_v7(),
                reason: "timeout".into(),
            },
        );
        assert_eq!(command_for(&cancelled).unwrap(), Command::Cancel(order_id));
    }

    #[test]
    fn unusable_events_are_permanent_errors() {
        let other = Envelope::new(
            "customer",
            CustomerCreated {
                customer_id: Uuid::now_v7(),
                name: "A".into(),
                email: "a@b.co".into(),
                credit_limit: "1".parse().unwrap(),
            },
        );
        assert!(matches!(
            command_for(&other),
            Err(HandlerError::Permanent(_))
        ));
        let empty = Envelope::new(
            "orders",
            OrderCreated {
                order_id: Uuid::now_v7(),
                customer_id: Uuid::now_v7(),
                items: vec![],
                total: "0".parse().unwrap(),
            },
        );
        assert!(matches!(
            command_for(&empty),
            Err(HandlerError::Permanent(_))
        ));
    }
}
