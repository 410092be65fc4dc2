//! The local replicas other services' events keep: customers (`customer.created`) and the
//! catalogue with its current prices (`stock.updated`). `POST /orders` validates and prices
//! against them, so the orders service never calls another service.

use std::collections::HashMap;

use saga_contracts::events::{CustomerCreated, StockUpdated};
use saga_contracts::Money;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::read::money_of;
use super::StoreError;

/// Records a customer. A customer never changes, so a repeat is a no-op.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %c.customer_id))]
pub async fn upsert_customer(
    conn: &mut PgConnection,
    c: &CustomerCreated,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO customers (id, name, email) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
    )
    .bind(c.customer_id)
    .bind(&c.name)
    .bind(&c.email)
    .execute(conn)
    .await?;
    Ok(())
}

/// Keeps the latest name and price of a SKU. The events of one SKU share a Kafka key, so they
/// arrive in the order inventory committed them: the last one applied is the newest.
///
/// Most `stock.updated` events change a known SKU's stock, not its name or price, and then
/// nothing is written; `updated_at` is when the name or the price last changed. A new SKU is
/// inserted. (`INSERT … ON CONFLICT DO UPDATE` wrote two WAL records for every event of a known
/// SKU: the conflicting row's lock, then its update.) An insert racing another instance's for
/// the same new SKU fails on the primary key, and the event is retried.
#[tracing::instrument(level = "debug", skip_all, fields(sku = %s.sku))]
pub async fn upsert_product(conn: &mut PgConnection, s: &StockUpdated) -> Result<(), sqlx::Error> {
    // The `EXISTS` reads the statement's snapshot: the row as it was before the update.
    let known: bool = sqlx::query_scalar(
        "WITH changed AS ( \
             UPDATE products SET name = $2, price = $3, updated_at = now() \
             WHERE sku = $1 AND (name, price) IS DISTINCT FROM ($2::text, $3::numeric) \
             RETURNING 1 \
         ) SELECT EXISTS (SELECT 1 FROM products WHERE sku = $1)",
    )
    .bind(&s.sku)
    .bind(&s.name)
    .bind(s.price.amount())
    .fetch_one(&mut *conn)
    .await?;
    if !known {
        sqlx::query("INSERT INTO products (sku, name, price) VALUES ($1, $2, $3)")
            .bind(&s.sku)
            .bind(&s.name)
            .bind(s.price.amount())
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Whether `customer.created` has told orders of customer `id`.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %id))]
pub async fn customer_exists(pool: &PgPool, id: Uuid) -> Result<bool, StoreError> {
    let known = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM customers WHERE id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await?;
    Ok(known)
}

/// The current unit price of each of `skus` the catalogue knows.
#[tracing::instrument(level = "debug", skip_all, fields(skus = skus.len()))]
pub async fn prices(pool: &PgPool, skus: &[String]) -> Result<HashMap<String, Money>, StoreError> {
    let rows: Vec<(String, rust_decimal::Decimal)> =
        sqlx::query_as("SELECT sku, price FROM products WHERE sku = ANY($1)")
            .bind(skus)
            .fetch_all(pool)
            .await?;
    rows.into_iter()
        .map(|(sku, price)| Ok((sku, money_of(price)?)))
        .collect()
}
