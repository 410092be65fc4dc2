//! `low.stock`: one alert for operations, prepended to the capped list of alerts.

use saga_contracts::events::LowStock;
use saga_contracts::Envelope;
use saga_messaging::redis_store::RedisEffect;

use crate::store::{self, Keys};

/// The alert, under a guard per event: a replay of the event adds no second alert.
#[tracing::instrument(level = "debug", skip_all, fields(sku = %e.sku, event_id = %event.event_id))]
pub fn handle(keys: &Keys, event: &Envelope, e: &LowStock) -> RedisEffect {
    RedisEffect::new().once(
        keys.once_alert(event.event_id),
        store::alert_commands(keys, e, event.occurred_at),
    )
}
