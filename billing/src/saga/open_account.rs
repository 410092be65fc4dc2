//! `customer.created` → the customer's account opens with `balance = credit_limit`.

use shared_events::events::CustomerCreated;
use shared_events::HandlerError;
use sqlx::PgConnection;

use crate::store::accounts;

pub(super) async fn handle(tx: &mut PgConnection, c: &CustomerCreated) -> Result<(), HandlerError> {
    if accounts::open(tx, c.customer_id, c.credit_limit).await? {
        tracing::info!(customer_id = %c.customer_id, credit_limit = %c.credit_limit, "account opened");
    } else {
        tracing::info!(customer_id = %c.customer_id, "account already open; nothing to do");
    }
    Ok(())
}
