//! `order.created` → charge the order total: `order.paid` if the balance covers it, else
//! `payment.failed` (`insufficient_funds`). One payment per order, ever: an order that already
//! has a payment row (charged, failed, or the tombstone of an early cancel) is left alone.
//!
//! An order whose account is not open yet is retried (a transient error; the runner backs off)
//! until billing has waited `account_wait` for it, then fails with `unknown_customer`
//! ([`account_wait`], which also says where the wait's start is written).

use std::time::Duration;

use anyhow::anyhow;
use saga_contracts::events::{OrderCreated, OrderPaid, PaymentFailed};
use saga_contracts::Envelope;
use saga_messaging::HandlerError;
use sqlx::PgConnection;

use super::account_wait;
use crate::domain::{FailureReason, PaymentStatus};
use crate::store::accounts::{self, Debit};
use crate::store::payments::{self, Payment};

/// Charges the order `o` of `event` (see the module's doc), failing it with `unknown_customer`
/// once billing has waited `allowed` for its account.
#[tracing::instrument(level = "debug", skip_all, fields(event_id = %event.event_id, order_id = %o.order_id, customer_id = %o.customer_id))]
pub(super) async fn handle(
    tx: &mut PgConnection,
    event: &Envelope,
    o: &OrderCreated,
    allowed: Duration,
) -> Result<(), HandlerError> {
    if let Some(existing) = payments::lock(tx, o.order_id).await? {
        tracing::info!(
            status = existing.status.as_str(),
            "order already settled; nothing charged"
        );
        account_wait::clear(tx, o.order_id).await?;
        return Ok(());
    }
    let outcome = match accounts::debit(tx, o.customer_id, o.total).await? {
        Debit::Charged => Ok(()),
        Debit::Insufficient => Err(FailureReason::InsufficientFunds),
        Debit::NoAccount => {
            let waited = account_wait::waited(tx, o.order_id).await?;
            if waited.unwrap_or_default() < allowed {
                return Err(HandlerError::transient(account_wait::AccountNotOpen {
                    order_id: o.order_id,
                    customer_id: o.customer_id,
                    waited,
                    account_wait: allowed,
                }));
            }
            Err(FailureReason::UnknownCustomer)
        }
    };
    let payment = Payment {
        order_id: o.order_id,
        customer_id: o.customer_id,
        amount: o.total,
        status: match outcome {
            Ok(()) => PaymentStatus::Charged,
            Err(_) => PaymentStatus::Failed,
        },
    };
    if !payments::insert(tx, &payment, outcome.err()).await? {
        // Another transaction settled (or tombstoned) this order meanwhile: roll back this
        // one, debit included; the retry finds that row and does nothing.
        return Err(HandlerError::transient(anyhow!(
            "order {} was settled concurrently",
            o.order_id
        )));
    }
    account_wait::clear(tx, o.order_id).await?;
    let reply = match outcome {
        Ok(()) => {
            tracing::info!(amount = %o.total, "order charged");
            Envelope::new(
                crate::SERVICE,
                OrderPaid {
                    order_id: o.order_id,
                    customer_id: o.customer_id,
                    amount: o.total,
                },
            )
        }
        Err(reason) => {
            tracing::info!(amount = %o.total, reason = reason.as_str(), "payment failed");
            Envelope::new(
                crate::SERVICE,
                PaymentFailed {
                    order_id: o.order_id,
                    customer_id: o.customer_id,
                    amount: o.total,
                    reason: reason.as_str().to_owned(),
                },
            )
        }
    };
    saga_messaging::postgres::enqueue(tx, &reply.caused_by(event)).await?;
    Ok(())
}
