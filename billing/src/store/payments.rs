//! Payments: one row per order, ever. Inserting is the claim on an order; changing a row's
//! status happens under its row lock.

use saga_contracts::Money;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{FailureReason, PaymentStatus};

#[derive(Debug, Clone, PartialEq, Eq)]
/// An order's payment row, as the saga reads and writes it.
pub struct Payment {
    /// The order paid for: the row's key, so an order has one payment, ever.
    pub order_id: Uuid,
    /// Whose account was (or would have been) charged: a refund goes back there.
    pub customer_id: Uuid,
    /// The order total charged (zero for a tombstone).
    pub amount: Money,
    /// Where the payment stands.
    pub status: PaymentStatus,
}

/// The order's payment, locked for the rest of the transaction.
#[tracing::instrument(level = "debug", skip_all, fields(%order_id))]
pub async fn lock(conn: &mut PgConnection, order_id: Uuid) -> Result<Option<Payment>, sqlx::Error> {
    let row: Option<(Uuid, rust_decimal::Decimal, String)> = sqlx::query_as(
        "SELECT customer_id, amount, status FROM payments WHERE order_id = $1 FOR UPDATE",
    )
    .bind(order_id)
    .fetch_optional(conn)
    .await?;
    row.map(|(customer_id, amount, status)| {
        Ok(Payment {
            order_id,
            customer_id,
            amount: super::money(amount)?,
            status: PaymentStatus::parse(&status).ok_or_else(|| {
                sqlx::Error::Decode(format!("unknown payment status {status:?}").into())
            })?,
        })
    })
    .transpose()
}

/// Records the order's payment. Returns false if the order already has one (another
/// transaction claimed it meanwhile); the caller must then undo its effect.
///
/// A plain insert guarded by `NOT EXISTS`, not `ON CONFLICT DO NOTHING`, whose speculative
/// insert costs a WAL record more. A row another transaction commits meanwhile fails the
/// insert on the primary key, which is the same answer: false.
#[tracing::instrument(level = "debug", skip_all, fields(order_id = %payment.order_id))]
pub async fn insert(
    conn: &mut PgConnection,
    payment: &Payment,
    reason: Option<FailureReason>,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO payments (order_id, customer_id, amount, status, reason) \
         SELECT $1, $2, $3, $4, $5 \
         WHERE NOT EXISTS (SELECT 1 FROM payments WHERE order_id = $1)",
    )
    .bind(payment.order_id)
    .bind(payment.customer_id)
    .bind(payment.amount.amount())
    .bind(payment.status.as_str())
    .bind(reason.map(|r| r.as_str()))
    .execute(conn)
    .await;
    match inserted {
        Ok(done) => Ok(done.rows_affected() == 1),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23505") => Ok(false),
        Err(e) => Err(e),
    }
}

/// Moves a locked payment to `status`.
#[tracing::instrument(level = "debug", skip_all, fields(%order_id))]
pub async fn set_status(
    conn: &mut PgConnection,
    order_id: Uuid,
    status: PaymentStatus,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE payments SET status = $1, updated_at = now() WHERE order_id = $2")
        .bind(status.as_str())
        .bind(order_id)
        .execute(conn)
        .await?;
    Ok(())
}
