//! Listing orders: `GET /orders`'s pages ([`list`], [`position`]), a customer's or everyone's,
//! never more than a page at a time.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::read::{complete, Order, ORDER_COLUMNS};
use super::StoreError;
use crate::domain::Status;

/// Which orders `GET /orders` lists: every filter is optional, and they combine.
#[derive(Debug, Clone)]
pub struct Listing {
    /// Only this customer's orders (SPEC's `?customer_id=`).
    pub customer_id: Option<Uuid>,
    /// Only orders in this status.
    pub status: Option<Status>,
    /// Only orders placed before this one (newest first, so the next page of a listing
    /// starts after its last order).
    pub before: Option<(DateTime<Utc>, Uuid)>,
    /// At most this many: every listing is a page.
    pub limit: i64,
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
    query
        .push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .push_bind(listing.limit);
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
