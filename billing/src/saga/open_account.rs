//! `customer.created` → the customer's account opens with `balance = credit_limit`.

use saga_contracts::events::CustomerCreated;
use saga_contracts::Envelope;
use saga_messaging::HandlerError;
use sqlx::PgConnection;

use crate::store::accounts;

/// Opens the account `c` of `event` announces, unless it is open already.
#[tracing::instrument(level = "debug", skip_all, fields(event_id = %event.event_id, customer_id = %c.customer_id))]
pub(super) async fn handle(
    tx: &mut PgConnection,
    event: &Envelope,
    c: &CustomerCreated,
) -> Result<(), HandlerError> {
    if accounts::open(tx, c.customer_id, c.credit_limit).await? {
        tracing::info!(credit_limit = %c.credit_limit, "account opened");
    } else {
        tracing::info!("account already open; nothing to do");
    }
    Ok(())
}
