//! `order.cancelled` → give the order's reservation back ([`Command::Cancel`]). Publishes
//! `stock.released` and `stock.updated` for each product; a cancel seen before the order
//! leaves a tombstone (so the late `order.created` reserves nothing) and publishes nothing.

use saga_contracts::events::OrderCancelled;

use crate::domain::Command;

/// Release what the order holds.
pub fn handle(order: &OrderCancelled) -> Command {
    Command::Cancel(order.order_id)
}
