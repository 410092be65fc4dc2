//! `customer.created`: the customer replica (what later messages are addressed with) and the
//! customer's one `welcome`.

use saga_contracts::events::CustomerCreated;
use saga_messaging::redis_store::RedisEffect;

use super::plan::always;
use crate::domain::Message;
use crate::store::{self, Keys, Notification};

/// Writes the replica (again, identically, on a replay) and the welcome under its guard.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %c.customer_id))]
pub fn handle(keys: &Keys, c: &CustomerCreated) -> RedisEffect {
    let welcome = Notification::new(c.customer_id, Message::welcome(c));
    always(store::customer_commands(keys, c)).once(
        keys.once_welcome(c.customer_id),
        store::create_commands(keys, &welcome),
    )
}
