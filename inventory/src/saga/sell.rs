//! `order.confirmed` → the order's reservation becomes a sale ([`Command::Confirm`]).
//! Publishes `stock.updated` for each product sold; nothing for an order not reserved here.

use saga_contracts::events::OrderConfirmed;

use crate::domain::Command;

/// Sell what the order holds.
pub fn handle(order: &OrderConfirmed) -> Command {
    Command::Confirm(order.order_id)
}
