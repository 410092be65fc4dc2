//! `stock.rejected`: inventory could not reserve the order. Publishes `order.cancelled` with
//! inventory's reason (`stock_rejected` if it gave none), unless the saga has already ended.
//! One caused by no event (a manual reservation refused under the order's id) is ignored.

use saga_contracts::events::StockRejected;
use saga_contracts::Envelope;
use saga_messaging::HandlerError;
use sqlx::PgConnection;

use crate::domain::SagaInput;

/// The rejection's saga step.
pub async fn handle(
    tx: &mut PgConnection,
    event: &Envelope,
    rejected: &StockRejected,
) -> Result<(), HandlerError> {
    if !super::answers_an_order(event, rejected.order_id) {
        return Ok(());
    }
    let reason = rejected.reason.clone();
    let input = SagaInput::StockRejected { reason };
    super::step(tx, event, rejected.order_id, input).await
}
