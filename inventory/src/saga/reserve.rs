//! `order.created` → reserve every line of the order, or nothing ([`Command::Reserve`]).
//! Publishes `stock.reserved` (with `stock.updated`, and `low.stock` for a product that crosses
//! below its threshold) or `stock.rejected` (`out_of_stock`, `unknown_sku`); nothing for an
//! order already cancelled (a tombstone).

use saga_contracts::events::OrderCreated;
use saga_messaging::HandlerError;

use crate::domain::{Command, ReservationRequest};

/// The reservation the order asks for. SKUs that do not even parse are kept, to be rejected as
/// `unknown_sku`; an order with no lines, or a line of quantity 0, can never be reserved.
pub fn handle(order: &OrderCreated) -> Result<Command, HandlerError> {
    let lines = order.items.iter().map(|l| (l.sku.clone(), l.quantity));
    ReservationRequest::from_raw(order.order_id, lines)
        .map(Command::Reserve)
        .map_err(|e| HandlerError::permanent(anyhow::anyhow!("order {}: {e}", order.order_id)))
}
