//! `customer.created`: the customer joins the replica `POST /orders` checks customers against.
//! Publishes nothing.

use saga_contracts::events::CustomerCreated;
use saga_messaging::HandlerError;
use sqlx::PgConnection;

use crate::store::replicas;

/// Records the customer (a repeat is a no-op).
pub async fn handle(tx: &mut PgConnection, c: &CustomerCreated) -> Result<(), HandlerError> {
    Ok(replicas::upsert_customer(tx, c).await?)
}
