//! Listing orders: `GET /orders`'s pages ([`list`], [`position`]) and the counts of
//! `GET /orders/summary` ([`summary`]).

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::read::{complete, Order, ORDER_COLUMNS};
use super::StoreError;
use crate::domain::Status;

/// Which orders `GET /orders` lists: every filter is optional, and they combine.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Only this customer's orders (SPEC's `?customer_id=`).
    pub customer_id: Option<Uuid>,
    /// Only orders in this status.
    pub status: Option<Status>,
    /// Only orders placed before this one (newest first, so the next page of a listing
    /// starts after its last order).
    pub before: Option<(DateTime<Utc>, Uuid)>,
    /// At most this many; `None` lists them all.
    pub limit: Option<i64>,
}

/// Orders newest first, as `listing` selects them.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = ?listing.customer_id))]
pub async fn list(pool: &PgPool, listing: &Listing) -> Result<Vec<Order>, StoreError> {
    let mut query =
        sqlx::QueryBuilder::new(format!("SELECT {ORDER_COLUMNS} FROM orders WHERE true"));
    if let Some(customer_id) = listing.customer_id {
        query.push(" AND customer_id = ").push_bind(customer_id);
    }
    if let Some(status) = listing.status {
        query.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some((created_at, id)) = listing.before {
        query
            .push(" AND (created_at, id) < (")
            .push_bind(created_at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    query.push(" ORDER BY created_at DESC, id DESC");
    if let Some(limit) = listing.limit {
        query.push(" LIMIT ").push_bind(limit);
    }
    let rows = query.build().fetch_all(pool).await?;
    Ok(complete(pool, rows).await?)
}

/// Where order `id` stands in the newest-first listing: the key `before` takes.
#[tracing::instrument(level = "debug", skip_all, fields(order_id = %id))]
pub async fn position(
    pool: &PgPool,
    id: Uuid,
) -> Result<Option<(DateTime<Utc>, Uuid)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT created_at, id FROM orders WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?,
    )
}

/// How many orders are in each status, and how many reached a terminal one in the last
/// `window`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn summary(
    pool: &PgPool,
    window: std::time::Duration,
) -> Result<(Vec<(String, i64)>, i64), StoreError> {
    let counts: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, count(*) FROM orders GROUP BY status ORDER BY status")
            .fetch_all(pool)
            .await?;
    let recent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM orders WHERE status <> 'PENDING' \
         AND updated_at > now() - make_interval(secs => $1)",
    )
    .bind(window.as_secs_f64())
    .fetch_one(pool)
    .await?;
    Ok((counts, recent))
}
