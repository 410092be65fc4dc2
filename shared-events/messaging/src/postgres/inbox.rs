//! The idempotent-consumer step for PostgreSQL: inbox record and effect in one transaction.

use std::collections::HashSet;

use async_trait::async_trait;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

use tracing::Instrument;

use super::warm::Warm;
use crate::consumer::{event_span, Handler, HandlerError, Outcome};
use saga_contracts::envelope::Envelope;

/// A handler whose effect runs inside a transaction the runtime opens and commits.
/// Events it emits go through [`super::enqueue`] on the same connection.
///
/// A handler gets one connection and must not ask the pool for another while it holds it:
/// with every partition's worker doing that at once, the pool runs dry, each waits for the
/// others, and HTTP requests wait out the acquire timeout (503). What must outlive an attempt
/// that fails (and so is rolled back) goes in [`PgHandler::after_rollback`] instead, which
/// runs on the same connection.
#[async_trait]
pub trait PgHandler: Send + Sync + 'static {
    /// Applies `event` inside the transaction on `tx`; an error rolls it back and is
    /// classified (retried or dead-lettered) as any handler's.
    async fn handle(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError>;

    /// Called when [`PgHandler::handle`] failed with `error` for `event`, once its transaction
    /// is rolled back, on the same connection and outside any transaction: for a record that
    /// the failed attempt must leave behind (a statement here commits on its own). By
    /// default, nothing. A failure here is returned instead of `error`.
    async fn after_rollback(
        &self,
        _conn: &mut PgConnection,
        _event: &Envelope,
        _error: &HandlerError,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

/// Wraps a [`PgHandler`] so that each event's effect happens once per consumer: the inbox row
/// `(consumer, event_id)` is inserted first in the transaction; if it exists the event is a
/// duplicate and nothing runs. Two instances racing on one event serialize on that row.
pub struct PgIdempotent<H> {
    /// Connections kept between transactions: one per event, so the pool's round trip on
    /// each release would be one in every handful.
    conns: Warm,
    /// The inbox's consumer column: the service's name.
    consumer: String,
    inner: H,
}

impl<H: PgHandler> PgIdempotent<H> {
    /// `inner`, applied once per event for `consumer` (the service's name) on `pool`.
    pub fn new(pool: PgPool, consumer: impl Into<String>, inner: H) -> Self {
        PgIdempotent {
            conns: Warm::new(pool),
            consumer: consumer.into(),
            inner,
        }
    }
}

#[async_trait]
impl<H: PgHandler> Handler for PgIdempotent<H> {
    async fn handle(&self, event: &Envelope) -> Result<Outcome, HandlerError> {
        // On an error the loan is dropped: its connection goes back to the pool, which rolls
        // the transaction back and tests it.
        let mut loan = self.conns.take().await?;
        let mut tx = Connection::begin(&mut *loan.conn).await?;
        let inserted = sqlx::query(
            "INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&self.consumer)
        .bind(event.event_id)
        .bind(event.event_type().as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            self.conns.give_back(loan);
            return Ok(Outcome::Duplicate);
        }
        if let Err(error) = self.inner.handle(&mut tx, event).await {
            // Rolled back here rather than by the pool, so that the handler's follow-up runs
            // on this connection; then the loan is dropped (see above). A connection that
            // cannot even roll back gets no follow-up: the next attempt fails again, and
            // records it then.
            if tx.rollback().await.is_ok() {
                self.inner
                    .after_rollback(&mut loan.conn, event, &error)
                    .await?;
            }
            return Err(error);
        }
        tx.commit().await?;
        self.conns.give_back(loan);
        Ok(Outcome::Applied)
    }

    /// One transaction for the whole batch: the inbox rows in one statement, then each new
    /// event's effect in order. Any failure rolls everything back and returns `None`; the
    /// runner then handles the events one by one, where [`PgHandler::after_rollback`] runs.
    async fn handle_batch(&self, events: &[Envelope]) -> Option<Vec<Outcome>> {
        let result: Result<Vec<Outcome>, HandlerError> = async {
            let mut loan = self.conns.take().await?;
            let mut tx = Connection::begin(&mut *loan.conn).await?;
            let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
            let types: Vec<&str> = events.iter().map(|e| e.event_type().as_str()).collect();
            let mut fresh: HashSet<Uuid> = sqlx::query_scalar(
                "INSERT INTO inbox (consumer, event_id, event_type) \
                 SELECT $1, id, t FROM unnest($2::uuid[], $3::text[]) AS x(id, t) \
                 ON CONFLICT DO NOTHING RETURNING event_id",
            )
            .bind(&self.consumer)
            .bind(&ids)
            .bind(&types)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
            let mut outcomes = Vec::with_capacity(events.len());
            for event in events {
                // `remove`: a second copy of one event within the batch is a duplicate too.
                if fresh.remove(&event.event_id) {
                    self.inner
                        .handle(&mut tx, event)
                        .instrument(event_span(event))
                        .await?;
                    outcomes.push(Outcome::Applied);
                } else {
                    outcomes.push(Outcome::Duplicate);
                }
            }
            tx.commit().await?;
            self.conns.give_back(loan);
            Ok(outcomes)
        }
        .await;
        result.ok()
    }
}
