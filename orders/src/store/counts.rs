//! The counts of `GET /orders/summary`: how many orders are in each status, and how many
//! reached a terminal one in the last minute.
//!
//! They are read from two small tables, never from `orders`: `order_status_counts` (the three
//! counts, split over 16 slots) and `order_completions` (per second), which triggers keep in
//! step with `orders` in the transaction of every change of status, at its commit
//! (`migrations/0003_order_counts.sql`, `migrations/0004_order_status_counts.sql`).
//! Every console polls the summary every 2 s; with the counters each poll sums a few dozen
//! rows whatever the number of orders, where a `GROUP BY` over `orders` read them all. Kept in
//! the same transaction, the counts are exactly those of the committed orders, on every
//! instance, with no cache to go stale.

use sqlx::PgPool;

use super::StoreError;

/// How many orders are in each status, and how many
/// became CONFIRMED or CANCELLED within the last `window`, counted per whole second (the
/// part of the oldest second that falls in the window is left out).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn summary(
    pool: &PgPool,
    window: std::time::Duration,
) -> Result<(Vec<(String, i64)>, i64), StoreError> {
    let (pending, confirmed, cancelled): (i64, i64, i64) = sqlx::query_as(
        "SELECT coalesce(sum(pending), 0)::bigint, coalesce(sum(confirmed), 0)::bigint, \
                coalesce(sum(cancelled), 0)::bigint \
         FROM order_status_counts",
    )
    .fetch_one(pool)
    .await?;
    let counts = vec![
        ("PENDING".to_owned(), pending),
        ("CONFIRMED".to_owned(), confirmed),
        ("CANCELLED".to_owned(), cancelled),
    ];
    let recent: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(n), 0)::bigint FROM order_completions \
         WHERE at_second > now() - make_interval(secs => $1)",
    )
    .bind(window.as_secs_f64())
    .fetch_one(pool)
    .await?;
    Ok((counts, recent))
}
