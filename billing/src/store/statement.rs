//! An account's statement for `GET /billing/{customer_id}`: its numbers and one entry per
//! order, read from one snapshot so the numbers and the entries agree.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use saga_contracts::Money;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::StoreError;
use crate::domain::Balance;
use crate::routes::schema;

/// A customer's account as `GET /billing/{customer_id}` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(
    as = Account,
    description = "balance = credit_limit + deposits - the amounts of CHARGED payments"
)]
pub struct Statement {
    /// Whose account this is.
    pub customer_id: Uuid,
    /// What the account can still be charged.
    pub balance: Balance,
    /// What the account opened with (from `customer.created`).
    pub credit_limit: Balance,
    /// The sum of every deposit made.
    pub deposits: Balance,
    /// One entry per order charged or failed, newest first.
    pub payments: Vec<PaymentEntry>,
}

/// One order's payment in a statement.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Payment)]
pub struct PaymentEntry {
    /// The order paid for.
    pub order_id: Uuid,
    /// The order total.
    pub amount: Money,
    /// `CHARGED`, `REFUNDED` or `FAILED` (tombstones are not payments and are not listed).
    #[schema(schema_with = schema::payment_status)]
    pub status: String,
    /// Why the payment failed; null otherwise.
    #[schema(schema_with = schema::failure_reason, required = true)]
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

/// The statement ([`StoreError::NoAccount`] if billing has no account for the customer).
#[tracing::instrument(level = "debug", skip_all, fields(%customer_id))]
pub async fn find(pool: &PgPool, customer_id: Uuid) -> Result<Statement, StoreError> {
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
    let (balance, credit_limit, deposits) = account.ok_or(StoreError::NoAccount(customer_id))?;
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
    Ok(Statement {
        customer_id,
        balance: Balance::new(balance),
        credit_limit: Balance::new(credit_limit),
        deposits: Balance::new(deposits),
        payments,
    })
}
