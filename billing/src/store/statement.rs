//! An account's statement for `GET /billing/{customer_id}`: its numbers and one entry per
//! order, read from one snapshot so the numbers and the entries agree.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use shared_events::Money;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::Balance;

#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    pub customer_id: Uuid,
    pub balance: Balance,
    pub credit_limit: Balance,
    pub deposits: Balance,
    pub payments: Vec<PaymentEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PaymentEntry {
    pub order_id: Uuid,
    pub amount: Money,
    /// `CHARGED`, `REFUNDED` or `FAILED` (tombstones are not payments and are not listed).
    pub status: String,
    /// Why the payment failed; null otherwise.
    pub reason: Option<String>,
    /// When the payment reached its current status.
    pub at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct PaymentRow {
    order_id: Uuid,
    amount: Decimal,
    status: String,
    reason: Option<String>,
    updated_at: DateTime<Utc>,
}

/// The statement, or `None` if billing has no account for the customer.
pub async fn find(pool: &PgPool, customer_id: Uuid) -> Result<Option<Statement>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let account: Option<(Decimal, Decimal, Decimal)> = sqlx::query_as(
        "SELECT balance, credit_limit, deposits FROM accounts WHERE customer_id = $1",
    )
    .bind(customer_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((balance, credit_limit, deposits)) = account else {
        return Ok(None);
    };
    let rows: Vec<PaymentRow> = sqlx::query_as(
        "SELECT order_id, amount, status, reason, updated_at FROM payments \
         WHERE customer_id = $1 AND status <> 'CANCELLED_BEFORE_CHARGE' \
         ORDER BY updated_at DESC, order_id DESC",
    )
    .bind(customer_id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let payments = rows
        .into_iter()
        .map(|row| {
            Ok(PaymentEntry {
                order_id: row.order_id,
                amount: super::money(row.amount)?,
                status: row.status,
                reason: row.reason,
                at: row.updated_at,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(Some(Statement {
        customer_id,
        balance: Balance::new(balance),
        credit_limit: Balance::new(credit_limit),
        deposits: Balance::new(deposits),
        payments,
    }))
}
