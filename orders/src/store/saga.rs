//! The saga's transactional step: lock the order row, run the pure state machine, persist the
//! new state, the history and the decision's event — all in the caller's transaction, which
//! also holds the inbox record of the event that caused it. The deadline sweep uses the very
//! same step.

use std::time::Duration;

use chrono::{DateTime, Utc};
use saga_contracts::events::{OrderCancelled, OrderConfirmed};
use saga_contracts::{Envelope, EventType};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use super::read::{lines, money_of, state_from_row};
use crate::domain::{apply, Decision, SagaInput, SagaState};

/// What one step did to an order.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The state the order was in.
    pub from: SagaState,
    /// The state it is in now (the same when the input changed nothing).
    pub to: SagaState,
    /// The decision taken, when this step ended the saga.
    pub decision: Option<Decision>,
}

/// Applies `input` to order `order_id` under a row lock. `seen` is the saga event to record in
/// the history (none for the deadline); `cause` is the event the emitted one reacts to.
/// Returns `None` when there is no such order.
#[tracing::instrument(level = "debug", skip_all, fields(order_id = %order_id, event_id = ?cause.map(|c| c.event_id)))]
pub async fn advance(
    conn: &mut PgConnection,
    order_id: Uuid,
    input: &SagaInput,
    seen: Option<EventType>,
    cause: Option<&Envelope>,
) -> Result<Option<Step>, sqlx::Error> {
    let Some(row) = sqlx::query(
        "SELECT customer_id, status, stock_reserved, paid, reason, total \
         FROM orders WHERE id = $1 FOR UPDATE",
    )
    .bind(order_id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let customer_id: Uuid = row.try_get("customer_id")?;
    let from = state_from_row(&row)?;
    let (to, decision) = apply(&from, input);
    if let Some(seen) = seen {
        record_history(conn, order_id, seen, &to, None).await?;
    }
    if to != from {
        sqlx::query(
            "UPDATE orders SET status = $2, stock_reserved = stock_reserved OR $3, \
             paid = paid OR $4, reason = $5, updated_at = clock_timestamp() WHERE id = $1",
        )
        .bind(order_id)
        .bind(to.status().as_str())
        .bind(matches!(input, SagaInput::StockReserved))
        .bind(matches!(input, SagaInput::Paid))
        .bind(to.reason())
        .execute(&mut *conn)
        .await?;
    }
    if let Some(decision) = &decision {
        let event = match decision {
            Decision::Confirm => {
                let items = lines(conn, order_id).await?;
                let total = money_of(row.try_get("total")?)?;
                Envelope::new(
                    crate::SERVICE,
                    OrderConfirmed {
                        order_id,
                        customer_id,
                        items,
                        total,
                    },
                )
            }
            Decision::Cancel { reason } => Envelope::new(
                crate::SERVICE,
                OrderCancelled {
                    order_id,
                    customer_id,
                    reason: reason.clone(),
                },
            ),
        };
        let event = match cause {
            Some(cause) => event.caused_by(cause),
            None => event,
        };
        record_history(conn, order_id, event.event_type(), &to, None).await?;
        saga_messaging::postgres::enqueue(conn, &event).await?;
        tracing::info!(
            %order_id,
            status = %to.status(),
            reason = to.reason(),
            emitted = %event.event_id,
            "order {}", to.status().as_str().to_lowercase()
        );
    } else {
        tracing::debug!(%order_id, ?input, from = ?from, to = ?to, "saga step");
    }
    Ok(Some(Step { from, to, decision }))
}

/// Cancels up to `max` orders still pending `timeout` after they were placed, each in its own
/// transaction. `FOR UPDATE SKIP LOCKED` lets several instances sweep at once without waiting
/// on each other, and the step itself re-checks the state, so no order is cancelled twice.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn cancel_overdue(
    pool: &PgPool,
    timeout: Duration,
    max: usize,
) -> Result<usize, sqlx::Error> {
    let mut cancelled = 0;
    while cancelled < max {
        let mut tx = pool.begin().await?;
        let id: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM orders WHERE status = 'PENDING' \
             AND created_at < now() - make_interval(secs => $1) \
             ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED",
        )
        .bind(timeout.as_secs_f64())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            break;
        };
        advance(&mut tx, id, &SagaInput::DeadlinePassed, None, None).await?;
        tx.commit().await?;
        cancelled += 1;
    }
    Ok(cancelled)
}

/// Appends a saga event to an order's history, once per event type, with the order's state
/// right after the step (which the saga feed shows). `at` defaults to now. The caller holds the
/// order's row lock, so no other transaction inserts the same entry meanwhile: a plain insert
/// guarded by `NOT EXISTS` does, without the WAL record of `ON CONFLICT`'s confirmation.
#[tracing::instrument(level = "debug", skip_all, fields(order_id = %order_id, event_type = %event_type))]
async fn record_history(
    conn: &mut PgConnection,
    order_id: Uuid,
    event_type: EventType,
    state: &SagaState,
    at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO order_history (order_id, event_type, at, status, reason) \
         SELECT $1, $2, coalesce($3, clock_timestamp()), $4, $5 \
         WHERE NOT EXISTS \
             (SELECT 1 FROM order_history WHERE order_id = $1 AND event_type = $2)",
    )
    .bind(order_id)
    .bind(event_type.as_str())
    .bind(at)
    .bind(state.status().as_str())
    .bind(state.reason())
    .execute(conn)
    .await?;
    Ok(())
}
