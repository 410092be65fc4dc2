//! The bounded wait for an account that is not open yet.
//!
//! `order.created` and `customer.created` travel on different topics, so an order can reach
//! billing before its customer's account opens. Such an order is retried with the runner's
//! backoff; the wait is measured from the moment billing first saw the order (kept in
//! `account_waits`), so a backlog after downtime does not fail orders that billing has not
//! waited for at all. Once billing has waited `account_wait`, the order fails with
//! `unknown_customer`.
//!
//! The attempt that finds no account fails ([`AccountNotOpen`]), so its transaction is rolled
//! back; the wait's start must outlive it. It is written by [`start`] after the rollback, on
//! the attempt's own connection ([`super::SagaHandler`]'s `after_rollback`), never on a second
//! connection asked of the pool while the first one holds the transaction open: with a few
//! such orders on as many partitions at once, each worker would hold one connection and wait
//! for another, the pool would run dry, and HTTP would answer 503 until the acquire timeout.
//! Reading the wait ([`waited`]) happens inside the transaction, on its connection.
//!
//! The runner's retry budget must outlast that wait, or the order would be dead-lettered
//! instead of failed: [`retry_policy`] sizes it.

use std::time::Duration;

use saga_messaging::RetryPolicy;
use sqlx::PgConnection;
use uuid::Uuid;

/// An order whose customer has no account yet, after `waited` of the `account_wait` billing
/// allows: a transient failure, retried by the runner.
#[derive(Debug, thiserror::Error)]
#[error(
    "no account for customer {customer_id} yet (waited {:.1}s of {}s)",
    waited.unwrap_or_default().as_secs_f64(),
    account_wait.as_secs_f64()
)]
pub struct AccountNotOpen {
    /// The order that waits.
    pub order_id: Uuid,
    /// The customer whose account is missing.
    pub customer_id: Uuid,
    /// How long billing has waited, `None` if this is the first attempt: the wait starts
    /// once this attempt is rolled back ([`start`]).
    pub waited: Option<Duration>,
    /// How long billing waits in all.
    pub account_wait: Duration,
}

/// How long billing has been waiting for the account of `order_id`'s customer, or `None` if
/// the wait has not started (read in the handler's transaction).
#[tracing::instrument(level = "debug", skip_all, fields(%order_id))]
pub async fn waited(
    conn: &mut PgConnection,
    order_id: Uuid,
) -> Result<Option<Duration>, sqlx::Error> {
    let secs: Option<f64> = sqlx::query_scalar(
        "SELECT greatest(extract(epoch FROM clock_timestamp() - first_seen), 0)::float8 \
         FROM account_waits WHERE order_id = $1",
    )
    .bind(order_id)
    .fetch_optional(conn)
    .await?;
    Ok(secs.map(Duration::from_secs_f64))
}

/// Starts the wait for `order_id` now, unless it has started already: on a connection
/// outside any transaction, after the attempt that found no account was rolled back.
#[tracing::instrument(level = "debug", skip_all, fields(%order_id))]
pub async fn start(conn: &mut PgConnection, order_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO account_waits (order_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(order_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets the wait of a settled order (inside the settling transaction).
#[tracing::instrument(level = "debug", skip_all, fields(%order_id))]
pub async fn clear(conn: &mut PgConnection, order_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM account_waits WHERE order_id = $1")
        .bind(order_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Slack between the end of the wait and the end of the retry budget.
const MARGIN: Duration = Duration::from_secs(3);

/// The runner's default policy, with enough attempts that a waiting order is retried for
/// longer than `account_wait` however the runner's jitter falls.
pub fn retry_policy(account_wait: Duration) -> RetryPolicy {
    RetryPolicy::default().retrying_for_at_least(account_wait + MARGIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_budget_outlasts_the_wait() {
        for secs in [0, 2, 20, 60, 300] {
            let wait = Duration::from_secs(secs);
            let p = retry_policy(wait);
            assert!(p.shortest_retry_span() >= wait + MARGIN, "{secs}s: {p:?}");
            assert!(p.max_attempts >= RetryPolicy::default().max_attempts);
        }
    }
}
