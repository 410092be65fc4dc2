//! `payment.failed`: billing could not charge the order. Publishes `order.cancelled` with
//! billing's reason (`payment_failed` if it gave none), unless the saga has already ended.

use saga_contracts::events::PaymentFailed;
use saga_contracts::Envelope;
use saga_messaging::HandlerError;
use sqlx::PgConnection;

use crate::domain::SagaInput;

/// The failed payment's saga step.
pub async fn handle(
    tx: &mut PgConnection,
    event: &Envelope,
    failed: &PaymentFailed,
) -> Result<(), HandlerError> {
    let reason = failed.reason.clone();
    let input = SagaInput::PaymentFailed { reason };
    super::step(tx, event, failed.order_id, input).await
}
