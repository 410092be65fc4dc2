//! Orders as stored and as the API shows them: placing an order (row, lines, history and the
//! `order.created` outbox entry in one transaction, guarded by the idempotency key's unique
//! index), and reading one order or a customer's orders.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use shared_events::events::{OrderCreated, OrderLine};
use shared_events::postgres::OutboxBatch;
use shared_events::{Envelope, EventType, Money, TraceParent};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::domain::{NewOrder, PricedOrder, SagaState};

/// An order with its lines and the saga events it has seen.
#[derive(Debug, Clone, Serialize)]
pub struct Order {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub status: &'static str,
    pub reason: Option<String>,
    pub items: Vec<OrderLine>,
    pub total: Money,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub event_type: String,
    pub at: DateTime<Utc>,
}

/// What placing an order amounted to.
#[derive(Debug)]
pub enum Placed {
    Created(Order),
    /// The idempotency key had been used for this same request: the first order.
    Replayed(Order),
}

#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error("the idempotency key was already used for a different request")]
    KeyReused,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Stores a priced order as `PENDING` with its `order.created` event: the row, its lines, its
/// first history entry and the outbox entry, in one statement (atomic on its own, and one round
/// trip).
///
/// With an idempotency key, the insert is `ON CONFLICT DO NOTHING` on the key's unique index:
/// of two concurrent requests with one key exactly one inserts, and the other (which PostgreSQL
/// makes wait for the first to commit) inserts nothing, then finds the first order and returns
/// it — or [`PlaceError::KeyReused`] when its request differs.
pub async fn place(
    pool: &PgPool,
    request: &NewOrder,
    priced: PricedOrder,
    idempotency_key: Option<&str>,
    trace: Option<TraceParent>,
) -> Result<Placed, PlaceError> {
    let request_json = serde_json::to_value(request).expect("a request serializes");
    let id = Uuid::now_v7();
    let event = Envelope::new(
        crate::SERVICE,
        OrderCreated {
            order_id: id,
            customer_id: priced.customer_id,
            items: priced.lines.clone(),
            total: priced.total,
        },
    )
    .in_trace(trace);
    let skus: Vec<&str> = priced.lines.iter().map(|l| l.sku.as_str()).collect();
    let quantities: Vec<i32> = priced.lines.iter().map(|l| l.quantity as i32).collect();
    let prices: Vec<Decimal> = priced.lines.iter().map(|l| l.unit_price.amount()).collect();
    // Every part hangs off `placed`, so a conflict on the key writes nothing at all. The
    // history's first entry is the creation itself (`created_at`, status PENDING).
    let sql = format!(
        "WITH placed AS ( \
             INSERT INTO orders (id, customer_id, status, total, created_at, updated_at, \
                                 idempotency_key, request) \
             VALUES ($1, $2, 'PENDING', $3, now(), now(), $4, $5) \
             ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING \
             RETURNING id, created_at \
         ), lines AS ( \
             INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price) \
             SELECT placed.id, n, sku, quantity, unit_price \
             FROM placed, unnest($6::text[], $7::int[], $8::numeric[]) WITH ORDINALITY \
                  AS l(sku, quantity, unit_price, n) \
         ), history AS ( \
             INSERT INTO order_history (order_id, event_type, at, status) \
             SELECT id, $9, created_at, $10 FROM placed \
         ) \
         SELECT created_at, {} FROM placed",
        OutboxBatch::call(11)
    );
    let query = sqlx::query(&sql)
        .bind(id)
        .bind(priced.customer_id)
        .bind(priced.total.amount())
        .bind(idempotency_key)
        .bind(&request_json)
        .bind(&skus)
        .bind(&quantities)
        .bind(&prices)
        .bind(EventType::OrderCreated.as_str())
        .bind(SagaState::NEW.status());
    let row = OutboxBatch::of(std::slice::from_ref(&event))
        .bind(query)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else {
        let key = idempotency_key.expect("only the key's index can conflict");
        return replay(pool, key, &request_json).await;
    };
    let created_at: DateTime<Utc> = row.try_get("created_at")?;

    Ok(Placed::Created(Order {
        id,
        customer_id: priced.customer_id,
        status: SagaState::NEW.status(),
        reason: None,
        items: priced.lines,
        total: priced.total,
        created_at,
        updated_at: created_at,
        history: vec![HistoryEntry {
            event_type: EventType::OrderCreated.as_str().to_owned(),
            at: created_at,
        }],
    }))
}

/// The order a key was first used for, if `request` is the same request.
async fn replay(
    pool: &PgPool,
    key: &str,
    request: &serde_json::Value,
) -> Result<Placed, PlaceError> {
    let row: (Uuid, bool) =
        sqlx::query_as("SELECT id, request = $2 FROM orders WHERE idempotency_key = $1")
            .bind(key)
            .bind(request)
            .fetch_one(pool)
            .await?;
    match row {
        (id, true) => {
            let order = find(pool, id).await?.ok_or(sqlx::Error::RowNotFound)?;
            Ok(Placed::Replayed(order))
        }
        (_, false) => Err(PlaceError::KeyReused),
    }
}

/// Appends a saga event to an order's history, once per event type, with the order's state
/// right after the step (which the saga feed shows). `at` defaults to now.
pub async fn record_history(
    conn: &mut PgConnection,
    order_id: Uuid,
    event_type: EventType,
    state: &SagaState,
    at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO order_history (order_id, event_type, at, status, reason) \
         VALUES ($1, $2, coalesce($3, clock_timestamp()), $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(order_id)
    .bind(event_type.as_str())
    .bind(at)
    .bind(state.status())
    .bind(state.reason())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(pool: &PgPool, id: Uuid) -> Result<Option<Order>, sqlx::Error> {
    Ok(load(pool, "WHERE id = $1", id).await?.pop())
}

/// Which orders `GET /orders` lists: every filter is optional, and they combine.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Only this customer's orders (SPEC's `?customer_id=`).
    pub customer_id: Option<Uuid>,
    /// Only orders in this status.
    pub status: Option<&'static str>,
    /// Only orders placed before this one (newest first, so the next page of a listing
    /// starts after its last order).
    pub before: Option<(DateTime<Utc>, Uuid)>,
    /// At most this many; `None` lists them all.
    pub limit: Option<i64>,
}

/// Orders newest first, as `listing` selects them.
pub async fn list(pool: &PgPool, listing: &Listing) -> Result<Vec<Order>, sqlx::Error> {
    let mut query =
        sqlx::QueryBuilder::new(format!("SELECT {ORDER_COLUMNS} FROM orders WHERE true"));
    if let Some(customer_id) = listing.customer_id {
        query.push(" AND customer_id = ").push_bind(customer_id);
    }
    if let Some(status) = listing.status {
        query.push(" AND status = ").push_bind(status);
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
    complete(pool, rows).await
}

/// Where order `id` stands in the newest-first listing: the key `before` takes.
pub async fn position(
    pool: &PgPool,
    id: Uuid,
) -> Result<Option<(DateTime<Utc>, Uuid)>, sqlx::Error> {
    sqlx::query_as("SELECT created_at, id FROM orders WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// How many orders are in each status, and how many reached a terminal one in the last
/// `window`.
pub async fn summary(
    pool: &PgPool,
    window: std::time::Duration,
) -> Result<(Vec<(String, i64)>, i64), sqlx::Error> {
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

/// The lines of an order, in the order they were placed.
pub async fn lines(conn: &mut PgConnection, order_id: Uuid) -> Result<Vec<OrderLine>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT sku, quantity, unit_price FROM order_lines WHERE order_id = $1 ORDER BY line_no",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(line_from_row).collect()
}

fn line_from_row(row: &sqlx::postgres::PgRow) -> Result<OrderLine, sqlx::Error> {
    Ok(OrderLine {
        sku: row.try_get("sku")?,
        quantity: row.try_get::<i32, _>("quantity")? as u32,
        unit_price: money_of(row.try_get("unit_price")?)?,
    })
}

pub(crate) fn money_of(d: Decimal) -> Result<Money, sqlx::Error> {
    Money::new(d).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// The columns of `orders` that [`complete`] reads.
const ORDER_COLUMNS: &str =
    "id, customer_id, status, stock_reserved, paid, reason, total, created_at, updated_at";

/// Loads the orders selected by `filter` (bound to `$1`), with their lines and history.
async fn load(pool: &PgPool, filter: &str, param: Uuid) -> Result<Vec<Order>, sqlx::Error> {
    let rows = sqlx::query(&format!("SELECT {ORDER_COLUMNS} FROM orders {filter}"))
        .bind(param)
        .fetch_all(pool)
        .await?;
    complete(pool, rows).await
}

/// The orders of `rows` (of [`ORDER_COLUMNS`]) with their lines and history, in two more
/// queries whatever their number.
async fn complete(
    pool: &PgPool,
    rows: Vec<sqlx::postgres::PgRow>,
) -> Result<Vec<Order>, sqlx::Error> {
    let ids: Vec<Uuid> = rows
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
    let mut lines: HashMap<Uuid, Vec<OrderLine>> = HashMap::new();
    for row in sqlx::query(
        "SELECT order_id, sku, quantity, unit_price FROM order_lines \
         WHERE order_id = ANY($1) ORDER BY order_id, line_no",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?
    {
        lines
            .entry(row.try_get("order_id")?)
            .or_default()
            .push(line_from_row(&row)?);
    }
    let mut history: HashMap<Uuid, Vec<HistoryEntry>> = HashMap::new();
    for (order_id, event_type, at) in sqlx::query_as::<_, (Uuid, String, DateTime<Utc>)>(
        "SELECT order_id, event_type, at FROM order_history \
         WHERE order_id = ANY($1) ORDER BY order_id, at, seq",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?
    {
        history
            .entry(order_id)
            .or_default()
            .push(HistoryEntry { event_type, at });
    }
    rows.iter()
        .map(|row| {
            let id: Uuid = row.try_get("id")?;
            let state = state_from_row(row)?;
            Ok(Order {
                id,
                customer_id: row.try_get("customer_id")?,
                status: state.status(),
                reason: state.reason().map(str::to_owned),
                items: lines.remove(&id).unwrap_or_default(),
                total: money_of(row.try_get("total")?)?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
                history: history.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}

/// The saga state stored in an order row (columns status, stock_reserved, paid, reason).
pub fn state_from_row(row: &sqlx::postgres::PgRow) -> Result<SagaState, sqlx::Error> {
    let status: String = row.try_get("status")?;
    SagaState::from_columns(
        &status,
        row.try_get("stock_reserved")?,
        row.try_get("paid")?,
        row.try_get("reason")?,
    )
    .ok_or_else(|| sqlx::Error::Decode(format!("impossible saga state in row: {status}").into()))
}
