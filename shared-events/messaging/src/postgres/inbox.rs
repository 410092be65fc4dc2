//! The idempotent-consumer step for PostgreSQL: inbox record and effect in one transaction,
//! with a handler given per call ([`PgInbox`]) or once for every event ([`PgIdempotent`]).

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
pub trait PgHandler: Send + Sync {
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

/// The inbox of one consumer on a pool: applies an event's effect once per consumer, with the
/// [`PgHandler`] given for that call. The inbox row `(consumer, event_id)` is inserted first in
/// the transaction; if it exists the event is a duplicate and nothing runs. Two instances
/// racing on one event serialize on that row: the second waits for the first to commit, and
/// its insert then fails on the primary key (a duplicate). The insert is a plain one, guarded
/// by `NOT EXISTS`, rather than `ON CONFLICT DO NOTHING`: PostgreSQL writes a speculative
/// insert's confirmation as a WAL record of its own, one more per event. The handler's effect, the events it enqueues
/// (outbox) and the inbox row commit together or not at all.
///
/// The handler comes with each call, so it may carry what only that event's caller knows:
/// inventory's store passes the step of the command its saga made of the event. A service whose
/// handler is the same for every event gives it once to [`PgIdempotent`] instead.
pub struct PgInbox {
    /// Connections kept between transactions: one per event, so the pool's round trip on
    /// each release would be one in every handful.
    conns: Warm,
    /// The inbox's consumer column: the service's name.
    consumer: String,
}

impl PgInbox {
    /// The inbox of `consumer` (the service's name) on `pool`.
    pub fn new(pool: PgPool, consumer: impl Into<String>) -> Self {
        PgInbox {
            conns: Warm::new(pool),
            consumer: consumer.into(),
        }
    }

    /// Applies `event` with `handler`, once: [`Outcome::Duplicate`] without running it if the
    /// inbox holds the event already. When the handler fails, its transaction is rolled back
    /// and [`PgHandler::after_rollback`] runs on the same connection.
    pub async fn apply<H: PgHandler + ?Sized>(
        &self,
        handler: &H,
        event: &Envelope,
    ) -> Result<Outcome, HandlerError> {
        // On an error the loan is dropped: its connection goes back to the pool, which rolls
        // the transaction back and tests it.
        let mut loan = self.conns.take().await?;
        let mut tx = Connection::begin(&mut *loan.conn).await?;
        let inserted = sqlx::query(
            "INSERT INTO inbox (consumer, event_id, event_type) SELECT $1, $2, $3 \
             WHERE NOT EXISTS (SELECT 1 FROM inbox WHERE consumer = $1 AND event_id = $2)",
        )
        .bind(&self.consumer)
        .bind(event.event_id)
        .bind(event.event_type().as_str())
        .execute(&mut *tx)
        .await;
        // The row of another transaction that committed while this one waited on it: the
        // event is a duplicate all the same.
        let inserted = match inserted {
            Err(e) if is_unique_violation(&e) => 0,
            other => other?.rows_affected(),
        };
        if inserted == 0 {
            tx.rollback().await?;
            self.conns.give_back(loan);
            return Ok(Outcome::Duplicate);
        }
        if let Err(error) = handler.handle(&mut tx, event).await {
            // Rolled back here rather than by the pool, so that the handler's follow-up runs
            // on this connection; then the loan is dropped (see above). A connection that
            // cannot even roll back gets no follow-up: the next attempt fails again, and
            // records it then.
            if tx.rollback().await.is_ok() {
                handler
                    .after_rollback(&mut loan.conn, event, &error)
                    .await?;
            }
            return Err(error);
        }
        tx.commit().await?;
        self.conns.give_back(loan);
        Ok(Outcome::Applied)
    }

    /// Applies `events` with `handler` in one transaction: the inbox rows in one statement,
    /// then each new event's effect in order. Any failure rolls everything back and returns
    /// `None`; the caller then applies the events one by one ([`PgInbox::apply`]), where
    /// [`PgHandler::after_rollback`] runs.
    pub async fn apply_batch<H: PgHandler + ?Sized>(
        &self,
        handler: &H,
        events: &[Envelope],
    ) -> Option<Vec<Outcome>> {
        let result: Result<Vec<Outcome>, HandlerError> = async {
            let mut loan = self.conns.take().await?;
            let mut tx = Connection::begin(&mut *loan.conn).await?;
            let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
            let types: Vec<&str> = events.iter().map(|e| e.event_type().as_str()).collect();
            // `DISTINCT ON`: a second copy of one event within the batch is not inserted twice.
            // Another transaction's row for one of them fails the batch (a unique violation);
            // its events are then applied one by one, where that row is seen.
            let mut fresh: HashSet<Uuid> = sqlx::query_scalar(
                "INSERT INTO inbox (consumer, event_id, event_type) \
                 SELECT DISTINCT ON (id) $1, id, t \
                 FROM unnest($2::uuid[], $3::text[]) AS x(id, t) \
                 WHERE NOT EXISTS \
                     (SELECT 1 FROM inbox i WHERE i.consumer = $1 AND i.event_id = x.id) \
                 RETURNING event_id",
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
                    handler
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

/// Whether `error` is PostgreSQL's unique violation (SQLSTATE 23505).
fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.code().as_deref() == Some("23505"))
}

/// A [`PgHandler`] that is the same for every event, applied through a [`PgInbox`]: the
/// consumer runner's [`Handler`] for a service whose saga is one handler (billing, orders).
pub struct PgIdempotent<H> {
    /// Where each event is recorded, in the transaction of its effect.
    inbox: PgInbox,
    /// The effect of every event.
    inner: H,
}

impl<H: PgHandler> PgIdempotent<H> {
    /// `inner`, applied once per event for `consumer` (the service's name) on `pool`.
    pub fn new(pool: PgPool, consumer: impl Into<String>, inner: H) -> Self {
        PgIdempotent {
            inbox: PgInbox::new(pool, consumer),
            inner,
        }
    }
}

#[async_trait]
impl<H: PgHandler + 'static> Handler for PgIdempotent<H> {
    async fn handle(&self, event: &Envelope) -> Result<Outcome, HandlerError> {
        self.inbox.apply(&self.inner, event).await
    }

    /// One transaction for the whole batch ([`PgInbox::apply_batch`]).
    async fn handle_batch(&self, events: &[Envelope]) -> Option<Vec<Outcome>> {
        self.inbox.apply_batch(&self.inner, events).await
    }

    fn batches(&self) -> bool {
        true
    }
}
