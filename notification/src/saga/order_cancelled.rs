//! `order.cancelled`: the customer's `order_cancelled` notification, with the reason in words.

use redis::aio::ConnectionManager;
use saga_contracts::events::OrderCancelled;

use super::customer_wait::notify_once;
use super::Plan;
use crate::domain::Message;
use crate::store::Keys;

/// The notification, once per order, when the customer is known.
#[tracing::instrument(level = "debug", skip_all, fields(order_id = %e.order_id, customer_id = %e.customer_id))]
pub async fn handle(keys: &Keys, conn: &mut ConnectionManager, e: &OrderCancelled) -> Plan {
    notify_once(keys, conn, e.customer_id, e.order_id, |to| {
        Message::order_cancelled(to, e)
    })
    .await
}
