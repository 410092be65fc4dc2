//! `order.paid`: billing charged the order. Publishes `order.confirmed` when the stock is
//! reserved already; otherwise the order now waits for its reservation.

use saga_contracts::events::OrderPaid;
use saga_contracts::Envelope;
use saga_messaging::HandlerError;
use sqlx::PgConnection;

use crate::domain::SagaInput;

/// The payment's saga step.
pub async fn handle(
    tx: &mut PgConnection,
    event: &Envelope,
    paid: &OrderPaid,
) -> Result<(), HandlerError> {
    super::step(tx, event, paid.order_id, SagaInput::Paid).await
}
