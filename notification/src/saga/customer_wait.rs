//! An order's notification waits for its customer: it is addressed by name, from the replica
//! `customer.created` writes, and an order event can arrive first (another topic, another
//! partition). Until then the event fails as transient, and the runtime retries it with
//! backoff on its own partition's worker (dead-lettering it after its attempts).

use redis::aio::ConnectionManager;
use saga_messaging::redis_store::RedisEffect;
use saga_messaging::HandlerError;
use uuid::Uuid;

use super::plan::Plan;
use crate::domain::{Message, Recipient};
use crate::store::{self, Keys, Notification};

/// The notification `message` writes for `customer_id`, stored once per `order_id` and kind;
/// a transient error while the customer is not known yet.
#[tracing::instrument(level = "debug", skip_all, fields(%order_id, %customer_id))]
pub async fn notify_once(
    keys: &Keys,
    conn: &mut ConnectionManager,
    customer_id: Uuid,
    order_id: Uuid,
    message: impl FnOnce(&Recipient) -> Message,
) -> Plan {
    let Some(to) = store::find_recipient(conn, keys, customer_id).await? else {
        crate::metrics::CUSTOMER_NOT_YET_KNOWN.inc();
        return Err(HandlerError::transient(anyhow::anyhow!(
            "customer {customer_id} is not known yet (no customer.created seen)"
        )));
    };
    let message = message(&to);
    let guard = keys.once_per_order(order_id, message.kind);
    let notification = Notification::new(customer_id, message);
    Ok(RedisEffect::new().once(guard, store::create_commands(keys, &notification)))
}
