//! `order.cancelled` → refund a charge made (`payment.refunded`, balance restored), exactly
//! once: the payment row is locked and moves CHARGED → REFUNDED a single time. A cancel for a
//! failed or already refunded payment does nothing. A cancel seen before its `order.created`
//! leaves a tombstone, so the late `order.created` charges nothing.

use anyhow::anyhow;
use saga_contracts::events::{OrderCancelled, PaymentRefunded};
use saga_contracts::{Envelope, Money};
use saga_messaging::HandlerError;
use sqlx::PgConnection;

use crate::domain::PaymentStatus;
use crate::store::accounts;
use crate::store::payments::{self, Payment};

/// Refunds the order `c` of `event` cancels, or leaves its tombstone (see the module's doc).
#[tracing::instrument(level = "debug", skip_all, fields(event_id = %event.event_id, order_id = %c.order_id, customer_id = %c.customer_id))]
pub(super) async fn handle(
    tx: &mut PgConnection,
    event: &Envelope,
    c: &OrderCancelled,
) -> Result<(), HandlerError> {
    let Some(payment) = payments::lock(tx, c.order_id).await? else {
        let tombstone = Payment {
            order_id: c.order_id,
            customer_id: c.customer_id,
            amount: Money::ZERO,
            status: PaymentStatus::CancelledBeforeCharge,
        };
        if !payments::insert(tx, &tombstone, None).await? {
            return Err(HandlerError::transient(anyhow!(
                "order {} was settled concurrently",
                c.order_id
            )));
        }
        tracing::info!("cancel before any charge; tombstone left");
        return Ok(());
    };
    if payment.status != PaymentStatus::Charged {
        tracing::info!(status = payment.status.as_str(), "nothing to refund");
        return Ok(());
    }
    if !accounts::credit(tx, payment.customer_id, payment.amount).await? {
        return Err(HandlerError::permanent(anyhow!(
            "order {} was charged to customer {}, who has no account",
            c.order_id,
            payment.customer_id
        )));
    }
    payments::set_status(tx, c.order_id, PaymentStatus::Refunded).await?;
    tracing::info!(amount = %payment.amount, "charge refunded");
    let refunded = Envelope::new(
        crate::SERVICE,
        PaymentRefunded {
            order_id: c.order_id,
            customer_id: payment.customer_id,
            amount: payment.amount,
        },
    )
    .caused_by(event);
    saga_messaging::postgres::enqueue(tx, &refunded).await?;
    Ok(())
}
