//! Reading orders: [`Order`] as the API shows it, one by id ([`find`]), and the row decoding
//! that listing ([`super::list`]) and the saga step ([`super::saga`]) share.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use saga_contracts::events::OrderLine;
use saga_contracts::{EventType, Money};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use uuid::Uuid;

use super::StoreError;
use crate::domain::{SagaState, Status};

/// An order with its lines and the saga events it has seen: the body of `GET /orders/{id}`,
/// of `POST /orders` and of each element of `GET /orders`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Order {
    /// The order's id (a UUIDv7, so ids sort by creation).
    pub id: Uuid,
    /// Who placed it.
    pub customer_id: Uuid,
    /// Where its saga stands.
    #[schema(inline)]
    pub status: Status,
    /// Set when CANCELLED: out_of_stock, unknown_sku, insufficient_funds, unknown_customer,
    /// timeout, ...
    #[schema(required)]
    pub reason: Option<String>,
    /// Its lines, priced from the catalogue replica when it was placed.
    pub items: Vec<OrderLine>,
    /// The sum of its lines.
    pub total: Money,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
    /// When its status last changed.
    pub updated_at: DateTime<Utc>,
    /// Each saga event the order has seen, once per type, oldest first.
    pub history: Vec<HistoryEntry>,
}

/// One saga event an order saw or emitted.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    /// The event's type (`stock.reserved`...).
    #[schema(schema_with = history_event_type)]
    pub event_type: String,
    /// When the orders service saw (or emitted) it.
    pub at: DateTime<Utc>,
}

/// The event types an order's history can hold: the saga's own and those it reacts to.
const HISTORY_EVENTS: [EventType; 7] = [
    EventType::OrderCreated,
    EventType::StockReserved,
    EventType::OrderPaid,
    EventType::StockRejected,
    EventType::PaymentFailed,
    EventType::OrderConfirmed,
    EventType::OrderCancelled,
];

/// `HistoryEntry::event_type`'s schema: a string, one of [`HISTORY_EVENTS`].
fn history_event_type() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(HISTORY_EVENTS.iter().map(|e| e.as_str())))
        .into()
}

/// The order `id`, if there is one.
#[tracing::instrument(level = "debug", skip_all, fields(order_id = %id))]
pub async fn find(pool: &PgPool, id: Uuid) -> Result<Option<Order>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"))
        .bind(id)
        .fetch_all(pool)
        .await?;
    Ok(complete(pool, rows).await?.pop())
}

/// The lines of an order, in the order they were placed.
#[tracing::instrument(level = "debug", skip_all, fields(order_id = %order_id))]
pub async fn lines(conn: &mut PgConnection, order_id: Uuid) -> Result<Vec<OrderLine>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT sku, quantity, unit_price FROM order_lines WHERE order_id = $1 ORDER BY line_no",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(line_from_row).collect()
}

fn line_from_row(row: &PgRow) -> Result<OrderLine, sqlx::Error> {
    Ok(OrderLine {
        sku: row.try_get("sku")?,
        quantity: row.try_get::<i32, _>("quantity")? as u32,
        unit_price: money_of(row.try_get("unit_price")?)?,
    })
}

/// A stored amount as [`Money`]; one out of its range is a decoding error.
pub(crate) fn money_of(d: Decimal) -> Result<Money, sqlx::Error> {
    Money::new(d).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// The columns of `orders` that [`complete`] reads.
pub(super) const ORDER_COLUMNS: &str =
    "id, customer_id, status, stock_reserved, paid, reason, total, created_at, updated_at";

/// The orders of `rows` (of [`ORDER_COLUMNS`]) with their lines and history, in two more
/// queries whatever their number.
pub(super) async fn complete(pool: &PgPool, rows: Vec<PgRow>) -> Result<Vec<Order>, sqlx::Error> {
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
pub fn state_from_row(row: &PgRow) -> Result<SagaState, sqlx::Error> {
    let status: String = row.try_get("status")?;
    SagaState::from_columns(
        &status,
        row.try_get("stock_reserved")?,
        row.try_get("paid")?,
        row.try_get("reason")?,
    )
    .ok_or_else(|| sqlx::Error::Decode(format!("impossible saga state in row: {status}").into()))
}
