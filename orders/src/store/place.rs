//! Placing an order: the row, its lines, its first history entry and the `order.created`
//! outbox entry in one statement, guarded by the idempotency key's unique index.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use saga_contracts::events::OrderCreated;
use saga_contracts::{Envelope, EventType, TraceParent};
use saga_messaging::postgres::OutboxBatch;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::read::{find, HistoryEntry, Order};
use super::StoreError;
use crate::domain::{NewOrder, PricedOrder, SagaState};

/// What placing an order amounted to.
#[derive(Debug)]
pub enum Placed {
    /// A new order, `PENDING`, its `order.created` in the outbox.
    Created(Order),
    /// The idempotency key had been used for this same request: the first order.
    Replayed(Order),
}

/// Stores a priced order as `PENDING` with its `order.created` event: the row, its lines, its
/// first history entry and the outbox entry, in one statement (atomic on its own, and one round
/// trip).
///
/// With an idempotency key, the insert is `ON CONFLICT DO NOTHING` on the key's unique index:
/// of two concurrent requests with one key exactly one inserts, and the other (which PostgreSQL
/// makes wait for the first to commit) inserts nothing, then finds the first order and returns
/// it — or [`StoreError::KeyReused`] when its request differs. Without a key nothing can
/// conflict (the id is new), and the insert is a plain one: a speculative insert costs a WAL
/// record more, its confirmation.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %request.customer_id, order_id = tracing::field::Empty))]
pub async fn place(
    pool: &PgPool,
    request: &NewOrder,
    priced: PricedOrder,
    idempotency_key: Option<&str>,
    trace: Option<TraceParent>,
) -> Result<Placed, StoreError> {
    let request_json = serde_json::to_value(request).expect("a request serializes");
    let id = Uuid::now_v7();
    tracing::Span::current().record("order_id", tracing::field::display(id));
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
             VALUES ($1, $2, 'PENDING', $3, now(), now(), $4, $5) {} \
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
        if idempotency_key.is_some() {
            "ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
        } else {
            ""
        },
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
        .bind(SagaState::NEW.status().as_str());
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
) -> Result<Placed, StoreError> {
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
        (_, false) => Err(StoreError::KeyReused),
    }
}
