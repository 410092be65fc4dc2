//! `stock.updated`: the product's name and price in the catalogue replica, which prices every
//! new order. Publishes nothing.

use saga_contracts::events::StockUpdated;
use saga_messaging::HandlerError;
use sqlx::PgConnection;

use crate::store::replicas;

/// Keeps the SKU's latest name and price.
pub async fn handle(tx: &mut PgConnection, s: &StockUpdated) -> Result<(), HandlerError> {
    Ok(replicas::upsert_product(tx, s).await?)
}
