//! Inventory's part in the order saga: the events it consumes, what each asks of the store,
//! and what it publishes. The consumer runner (group `inventory`) delivers every event to
//! [`SagaHandler`], which makes of it the store [`Command`] it stands for ([`command`]) and
//! hands both to the store ([`InventoryStore::apply`]). The store applies the command once per
//! event, in one transaction with the event's inbox record and the events it emits (outbox),
//! deciding with [`crate::domain::decide`] on the stock it reads and locks in that transaction.
//!
//! - `order.created` → [`Command::Reserve`]: every line or nothing; `stock.reserved` or
//!   `stock.rejected` (`out_of_stock`, `unknown_sku`), and `stock.updated` (with `low.stock` for
//!   a product that crosses below its threshold) for the products reserved; nothing for an
//!   order already cancelled (a tombstone);
//! - `order.confirmed` → [`Command::Confirm`]: the reservation becomes a sale; `stock.updated`
//!   for each product sold; nothing for an order not reserved here;
//! - `order.cancelled` → [`Command::Cancel`]: the reservation is given back, `stock.released`
//!   and `stock.updated`; before any reservation, a tombstone (so the late `order.created`
//!   reserves nothing), which publishes nothing.
//!
//! HTTP changes (`POST /stock`, restock) publish `stock.updated` and `low.stock` too.

use std::sync::Arc;

use async_trait::async_trait;
use saga_contracts::{Envelope, EventPayload, EventType};
use saga_messaging::{Handler, HandlerError, Outcome};

use crate::domain::{Command, ReservationRequest};
use crate::store::InventoryStore;

/// The events inventory consumes, all in its one consumer group.
pub const CONSUMES: &[EventType] = saga_contracts::services::INVENTORY.consumes;

/// The events inventory publishes (through its store's outbox).
pub const PUBLISHES: &[EventType] = saga_contracts::services::INVENTORY.publishes;

/// The consumer runner's handler: every event, as its command, goes to the store's idempotent
/// step.
pub struct SagaHandler {
    /// Where each event's step runs, once per event id.
    store: Arc<dyn InventoryStore>,
}

impl SagaHandler {
    /// The handler of the events of [`CONSUMES`], applied to `store`.
    pub fn new(store: Arc<dyn InventoryStore>) -> Self {
        SagaHandler { store }
    }
}

#[async_trait]
impl Handler for SagaHandler {
    async fn handle(&self, event: &Envelope) -> Result<Outcome, HandlerError> {
        let command = command(event)?;
        self.store.apply(event, command).await
    }

    /// The store's batch, if it batches; an event with no command (which the one-by-one path
    /// dead-letters) makes it `None`.
    async fn handle_batch(&self, events: &[Envelope]) -> Option<Vec<Outcome>> {
        let steps = events
            .iter()
            .map(|e| command(e).ok().map(|c| (e.clone(), c)))
            .collect::<Option<Vec<_>>>()?;
        self.store.apply_batch(steps).await
    }

    fn batches(&self) -> bool {
        self.store.batches()
    }
}

/// The store command an incoming event stands for: one arm per event of [`CONSUMES`]. An
/// event that can never be applied (one inventory does not consume, an order with no lines
/// or a line of quantity 0) is a permanent error: it goes to the dead-letter topic.
pub fn command(event: &Envelope) -> Result<Command, HandlerError> {
    match &event.payload {
        EventPayload::OrderCreated(order) => {
            // SKUs that do not even parse are kept, to be rejected as `unknown_sku`.
            let lines = order.items.iter().map(|l| (l.sku.clone(), l.quantity));
            ReservationRequest::from_raw(order.order_id, lines)
                .map(Command::Reserve)
                .map_err(|e| {
                    HandlerError::permanent(anyhow::anyhow!("order {}: {e}", order.order_id))
                })
        }
        EventPayload::OrderConfirmed(order) => Ok(Command::Confirm(order.order_id)),
        EventPayload::OrderCancelled(order) => Ok(Command::Cancel(order.order_id)),
        other => Err(HandlerError::permanent(anyhow::anyhow!(
            "inventory does not consume {}",
            other.event_type()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use saga_contracts::events::{CustomerCreated, OrderCancelled, OrderCreated, OrderLine};
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
        let Command::Reserve(r) = command(&created).unwrap() else {
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
        assert_eq!(command(&cancelled).unwrap(), Command::Cancel(order_id));
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
        assert!(matches!(command(&other), Err(HandlerError::Permanent(_))));
        let empty = Envelope::new(
            "orders",
            OrderCreated {
                order_id: Uuid::now_v7(),
                customer_id: Uuid::now_v7(),
                items: vec![],
                total: "0".parse().unwrap(),
            },
        );
        assert!(matches!(command(&empty), Err(HandlerError::Permanent(_))));
    }
}
