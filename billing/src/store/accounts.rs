//! Accounts: opening, deposits, and the debits and credits of charges and refunds.

use rust_decimal::Decimal;
use saga_contracts::Money;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::StoreError;
use crate::domain::{Balance, DepositAmount};

/// Opens the account with `balance = credit_limit`. Returns false if it was open already
/// (a second `customer.created` for one customer changes nothing).
#[tracing::instrument(level = "debug", skip_all, fields(%customer_id))]
pub async fn open(
    conn: &mut PgConnection,
    customer_id: Uuid,
    credit_limit: Money,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO accounts (customer_id, credit_limit, balance) VALUES ($1, $2, $2) \
         ON CONFLICT (customer_id) DO NOTHING",
    )
    .bind(customer_id)
    .bind(credit_limit.amount())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The most an account's balance can hold: the columns are NUMERIC(14, 2).
pub const MAX_BALANCE: &str = "999999999999.99";

/// Adds `amount` to the balance and to the deposits total, if the balance plus every
/// outstanding charge (what refunds may still give back) stays within [`MAX_BALANCE`]:
/// otherwise a refund could overflow the column and be lost.
///
/// The account row is locked first; the charges are summed by the next statement, whose
/// snapshot is taken after the lock, so a charge committed meanwhile is counted. (Charging and
/// refunding move money between the balance and the charges; only deposits raise the sum.)
#[tracing::instrument(level = "debug", skip_all, fields(%customer_id))]
pub async fn deposit(
    pool: &PgPool,
    customer_id: Uuid,
    amount: DepositAmount,
) -> Result<Balance, StoreError> {
    let mut tx = pool.begin().await?;
    if !lock(&mut tx, customer_id).await? {
        return Err(StoreError::NoAccount(customer_id));
    }
    let updated: Result<Option<Decimal>, sqlx::Error> = sqlx::query_scalar(
        "UPDATE accounts SET balance = balance + $1, deposits = deposits + $1 \
         WHERE customer_id = $2 \
           AND balance + $1 + (SELECT COALESCE(sum(amount), 0) FROM payments \
                               WHERE customer_id = $2 AND status = 'CHARGED') \
               <= $3::numeric \
         RETURNING balance",
    )
    .bind(amount.money().amount())
    .bind(customer_id)
    .bind(MAX_BALANCE)
    .fetch_optional(&mut *tx)
    .await;
    match updated {
        Ok(Some(balance)) => {
            tx.commit().await?;
            Ok(Balance::new(balance))
        }
        Ok(None) => Err(StoreError::LimitExceeded),
        // numeric_value_out_of_range: the deposits total reached the column's precision.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("22003") => {
            Err(StoreError::LimitExceeded)
        }
        Err(e) => Err(e.into()),
    }
}

/// Locks the account's row until the transaction ends; false if there is no account.
#[tracing::instrument(level = "debug", skip_all, fields(%customer_id))]
async fn lock(conn: &mut PgConnection, customer_id: Uuid) -> Result<bool, sqlx::Error> {
    let locked: Option<Decimal> =
        sqlx::query_scalar("SELECT balance FROM accounts WHERE customer_id = $1 FOR UPDATE")
            .bind(customer_id)
            .fetch_optional(conn)
            .await?;
    Ok(locked.is_some())
}

/// What charging an account came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Debit {
    /// The amount was taken from the balance.
    Charged,
    /// The balance does not cover the amount; nothing was taken.
    Insufficient,
    /// The customer has no account (yet).
    NoAccount,
}

/// Takes `amount` from the balance if it covers it, in one statement: the update is
/// conditional, so the balance cannot go below zero whatever runs concurrently, and it waits
/// for a concurrent update of the row and judges the row as that left it. When it takes
/// nothing, the account's existence tells "not enough" from "no account". (Locking the row
/// first with `SELECT … FOR UPDATE` cost a round trip and a WAL record of its own.)
#[tracing::instrument(level = "debug", skip_all, fields(%customer_id))]
pub async fn debit(
    conn: &mut PgConnection,
    customer_id: Uuid,
    amount: Money,
) -> Result<Debit, sqlx::Error> {
    let (charged, exists): (bool, bool) = sqlx::query_as(
        "WITH charged AS ( \
             UPDATE accounts SET balance = balance - $1 \
             WHERE customer_id = $2 AND balance >= $1 RETURNING 1 \
         ) SELECT EXISTS (SELECT 1 FROM charged), \
                  EXISTS (SELECT 1 FROM accounts WHERE customer_id = $2)",
    )
    .bind(amount.amount())
    .bind(customer_id)
    .fetch_one(conn)
    .await?;
    Ok(match (charged, exists) {
        (true, _) => Debit::Charged,
        (false, true) => Debit::Insufficient,
        (false, false) => Debit::NoAccount,
    })
}

/// Gives `amount` back (a refund). Returns false if the account does not exist.
#[tracing::instrument(level = "debug", skip_all, fields(%customer_id))]
pub async fn credit(
    conn: &mut PgConnection,
    customer_id: Uuid,
    amount: Money,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query("UPDATE accounts SET balance = balance + $1 WHERE customer_id = $2")
        .bind(amount.amount())
        .bind(customer_id)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(updated == 1)
}
