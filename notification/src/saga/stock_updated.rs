//! `stock.updated`: a SKU's latest numbers, for operations. An older event (by `occurred_at`)
//! never overwrites newer numbers.

use redis::aio::ConnectionManager;
use saga_contracts::events::StockUpdated;
use saga_contracts::Envelope;
use saga_messaging::redis_store::RedisEffect;

use super::plan::{always, Plan};
use crate::store::{self, Keys};

/// Replaces the SKU's numbers, unless those kept are newer.
#[tracing::instrument(level = "debug", skip_all, fields(sku = %e.sku))]
pub async fn handle(
    keys: &Keys,
    conn: &mut ConnectionManager,
    event: &Envelope,
    e: &StockUpdated,
) -> Plan {
    // Events of one SKU share a partition, so they arrive in order and this read cannot race
    // another write of the same SKU; the check only stops a replay of older numbers (after
    // their inbox keys expired) from going back in time.
    let at = event.occurred_at;
    let kept = store::latest_stock_at_us(conn, keys, &e.sku).await?;
    if kept.is_some_and(|kept| kept > at.timestamp_micros()) {
        return Ok(RedisEffect::new());
    }
    Ok(always(store::stock_commands(keys, e, at)))
}
