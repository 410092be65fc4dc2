//! `stock.reserved`: inventory holds every line of the order. Publishes `order.confirmed` when
//! the order is paid already; otherwise the order now waits for its payment. One caused by no
//! event (a manual reservation under the order's id) is ignored.

use saga_contracts::events::StockReserved;
use saga_contracts::Envelope;
use saga_messaging::HandlerError;
use sqlx::PgConnection;

use crate::domain::SagaInput;

/// The reservation's saga step.
pub async fn handle(
    tx: &mut PgConnection,
    event: &Envelope,
    reserved: &StockReserved,
) -> Result<(), HandlerError> {
    if !super::answers_an_order(event, reserved.order_id) {
        return Ok(());
    }
    super::step(tx, event, reserved.order_id, SagaInput::StockReserved).await
}
