//! The PostgreSQL rows of products and reservations: reading (and locking) them, writing them.
//! A reservation row is one book's ([`Book`]): `manual` is part of its key.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{
    Book, Line, Money, Product, ProductChange, ProductName, RejectReason, Rejection, Reservation,
    ReservationStatus, SagaRecord, Sku,
};
use crate::store::{corrupt, StoreError};

const PRODUCT_COLUMNS: &str =
    "sku, name, price, available, reserved, sold, low_stock_threshold, initial, restocked";

type ProductRow = (String, String, Decimal, i64, i64, i64, i64, i64, i64);

fn product_from_row(row: ProductRow) -> Result<Product, StoreError> {
    let (sku, name, price, available, reserved, sold, threshold, initial, restocked) = row;
    let count = |v: i64| u64::try_from(v).map_err(|_| corrupt("product", format!("{sku}: {v}")));
    Ok(Product {
        sku: Sku::parse(&sku).map_err(|e| corrupt("product", e))?,
        name: ProductName::parse(&name).map_err(|e| corrupt("product", e))?,
        price: Money::new(price).map_err(|e| corrupt("product", e))?,
        available: count(available)?,
        reserved: count(reserved)?,
        sold: count(sold)?,
        low_stock_threshold: count(threshold)?,
        initial: count(initial)?,
        restocked: count(restocked)?,
    })
}

/// A count as PostgreSQL stores it; the domain keeps every count far below `i64::MAX`.
fn db_count(v: u64) -> i64 {
    i64::try_from(v).expect("counts are bounded far below i64::MAX")
}

pub async fn product(conn: &mut PgConnection, sku: &Sku) -> Result<Option<Product>, StoreError> {
    let row: Option<ProductRow> = sqlx::query_as(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM products WHERE sku = $1"
    ))
    .bind(sku.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(product_from_row).transpose()
}

/// Reads and row-locks the products of `skus` until the transaction ends, in SKU order so that
/// two transactions locking overlapping sets never wait on each other in a cycle.
pub async fn lock_products(
    conn: &mut PgConnection,
    skus: &[Sku],
) -> Result<BTreeMap<Sku, Product>, StoreError> {
    if skus.is_empty() {
        return Ok(BTreeMap::new());
    }
    let names: Vec<&str> = skus.iter().map(Sku::as_str).collect();
    let rows: Vec<ProductRow> = sqlx::query_as(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM products WHERE sku = ANY($1) ORDER BY sku FOR UPDATE"
    ))
    .bind(&names)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| product_from_row(row).map(|p| (p.sku.clone(), p)))
        .collect()
}

/// Inserts a new product; `false` if its SKU is taken (the primary key decides, not a read).
pub async fn insert_product(conn: &mut PgConnection, p: &Product) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO products (sku, name, price, available, reserved, sold, \
         low_stock_threshold, initial, restocked) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (sku) DO NOTHING",
    )
    .bind(p.sku.as_str())
    .bind(p.name.as_str())
    .bind(p.price.amount())
    .bind(db_count(p.available))
    .bind(db_count(p.reserved))
    .bind(db_count(p.sold))
    .bind(db_count(p.low_stock_threshold))
    .bind(db_count(p.initial))
    .bind(db_count(p.restocked))
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// A reservation to write in its book: `existed` says whether the step read one there (under
/// the order's lock), so whether it is updated or inserted.
pub struct ReservationWrite<'a> {
    pub book: Book,
    pub reservation: &'a Reservation,
    pub existed: bool,
}

/// A step's writes in one statement: every product's numbers (each guarded by the numbers it
/// had, which turns a lost update into an error), and the reservation if it changed, in its
/// book. One round trip instead of one per product plus one. The caller holds the order's lock
/// and the products' row locks.
///
/// The reservation is updated if the step read it, and inserted if not: under the order's lock
/// nothing else writes it meanwhile. (`INSERT … ON CONFLICT DO UPDATE` cost a WAL record more
/// either way: the speculative insert's confirmation, or the conflicting row's lock.)
pub async fn write_step(
    conn: &mut PgConnection,
    changes: &[ProductChange],
    reservation: Option<ReservationWrite<'_>>,
) -> Result<(), StoreError> {
    if changes.is_empty() && reservation.is_none() {
        return Ok(());
    }
    fn after(c: &ProductChange) -> &Product {
        &c.after
    }
    fn before(c: &ProductChange) -> &Product {
        &c.before
    }
    let column = |f: fn(&Product) -> u64, side: fn(&ProductChange) -> &Product| -> Vec<i64> {
        changes.iter().map(|c| db_count(f(side(c)))).collect()
    };
    let skus: Vec<&str> = changes.iter().map(|c| c.after.sku.as_str()).collect();
    let existed = reservation.as_ref().is_some_and(|w| w.existed);
    let r = reservation.map(|w| ReservationColumns::of(w.book, w.reservation));
    let (updated, reservations): (i64, i64) = sqlx::query_as(
        "WITH change AS ( \
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], \
                                  $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], \
                                  $9::bigint[]) \
                 AS c(sku, available, reserved, sold, restocked, \
                      was_available, was_reserved, was_sold, was_restocked) \
         ), updated AS ( \
             UPDATE products p SET available = c.available, reserved = c.reserved, \
                    sold = c.sold, restocked = c.restocked, updated_at = now() \
             FROM change c \
             WHERE p.sku = c.sku AND p.available = c.was_available \
               AND p.reserved = c.was_reserved AND p.sold = c.was_sold \
               AND p.restocked = c.was_restocked \
             RETURNING 1 \
         ), inserted AS ( \
             INSERT INTO reservations (order_id, manual, status, items, reason, short_skus) \
             SELECT $10, $15, $11, $12, $13, $14 WHERE $10 IS NOT NULL AND NOT $16 \
             RETURNING 1 \
         ), rewritten AS ( \
             UPDATE reservations SET status = $11, items = $12, reason = $13, \
                    short_skus = $14, updated_at = now() \
             WHERE $16 AND order_id = $10 AND manual = $15 \
             RETURNING 1 \
         ) \
         SELECT (SELECT count(*) FROM updated), \
                (SELECT count(*) FROM inserted) + (SELECT count(*) FROM rewritten)",
    )
    .bind(&skus)
    .bind(column(|p| p.available, after))
    .bind(column(|p| p.reserved, after))
    .bind(column(|p| p.sold, after))
    .bind(column(|p| p.restocked, after))
    .bind(column(|p| p.available, before))
    .bind(column(|p| p.reserved, before))
    .bind(column(|p| p.sold, before))
    .bind(column(|p| p.restocked, before))
    .bind(r.as_ref().map(|r| r.order_id))
    .bind(r.as_ref().map(|r| r.status))
    .bind(r.as_ref().map(|r| Json(&r.items)))
    .bind(r.as_ref().and_then(|r| r.reason))
    .bind(r.as_ref().map(|r| r.short_skus.clone()))
    .bind(r.as_ref().map(|r| r.manual))
    .bind(existed)
    .fetch_one(conn)
    .await?;
    let expected = i64::from(r.is_some());
    if reservations != expected {
        return Err(StoreError::Backend(anyhow::anyhow!(
            "wrote {reservations} reservation rows of order {:?}, not {expected}",
            r.as_ref().map(|r| r.order_id)
        )));
    }
    if updated != changes.len() as i64 {
        return Err(StoreError::Backend(anyhow::anyhow!(
            "the stock of {} of {:?} changed under a lock",
            changes.len() as i64 - updated,
            skus
        )));
    }
    Ok(())
}

/// A reservation as the columns of its row.
struct ReservationColumns {
    order_id: Uuid,
    manual: bool,
    status: &'static str,
    items: Vec<LineRow>,
    reason: Option<&'static str>,
    short_skus: Vec<String>,
}

impl ReservationColumns {
    fn of(book: Book, r: &Reservation) -> ReservationColumns {
        let (reason, short_skus) = match &r.rejection {
            Some(rej) => (Some(rej.reason.as_str()), rej.short_skus.clone()),
            None => (None, Vec::new()),
        };
        ReservationColumns {
            order_id: r.order_id,
            manual: is_manual(book),
            status: r.status.as_str(),
            items: r
                .lines
                .iter()
                .map(|l| LineRow {
                    sku: l.sku.to_string(),
                    quantity: l.quantity,
                })
                .collect(),
            reason,
            short_skus,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct LineRow {
    sku: String,
    quantity: u32,
}

type ReservationRow = (
    Uuid,
    String,
    Json<Vec<LineRow>>,
    Option<String>,
    Vec<String>,
);

/// The `manual` column of a book's rows.
fn is_manual(book: Book) -> bool {
    book == Book::Manual
}

/// Whether the saga's book has a row for the order id.
pub async fn saga_record(
    conn: &mut PgConnection,
    order_id: Uuid,
) -> Result<SagaRecord, StoreError> {
    let found: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM reservations WHERE order_id = $1 AND NOT manual)",
    )
    .bind(order_id)
    .fetch_one(conn)
    .await?;
    Ok(if found {
        SagaRecord::Present
    } else {
        SagaRecord::Absent
    })
}

/// The order's reservation in `book`.
pub async fn reservation(
    conn: &mut PgConnection,
    order_id: Uuid,
    book: Book,
) -> Result<Option<Reservation>, StoreError> {
    let row: Option<ReservationRow> = sqlx::query_as(
        "SELECT order_id, status, items, reason, short_skus FROM reservations \
         WHERE order_id = $1 AND manual = $2",
    )
    .bind(order_id)
    .bind(is_manual(book))
    .fetch_optional(conn)
    .await?;
    let Some((order_id, status, Json(items), reason, short_skus)) = row else {
        return Ok(None);
    };
    let bad = |detail: String| corrupt("reservation", format!("{order_id}: {detail}"));
    let status = ReservationStatus::parse(&status).ok_or_else(|| bad(status.clone()))?;
    let lines = items
        .into_iter()
        .map(|l| {
            Ok(Line {
                sku: Sku::parse(&l.sku).map_err(&bad)?,
                quantity: l.quantity,
            })
        })
        .collect::<Result<Vec<_>, anyhow::Error>>()?;
    let rejection = match reason {
        Some(reason) => Some(Rejection {
            reason: RejectReason::parse(&reason).ok_or_else(|| bad(reason.clone()))?,
            short_skus,
        }),
        None => None,
    };
    Ok(Some(Reservation {
        order_id,
        status,
        lines,
        rejection,
    }))
}
