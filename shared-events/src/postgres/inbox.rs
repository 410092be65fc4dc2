//! The idempotent-consumer step for PostgreSQL: inbox record and effect in one transaction.

use async_trait::async_trait;
use sqlx::{PgConnection, PgPool};

use crate::consumer::{Handler, HandlerError, Outcome};
use crate::envelope::Envelope;

/// A handler whose effect runs inside a transaction the runtime opens and commits.
/// Events it emits go through [`super::enqueue`] on the same connection.
#[async_trait]
pub trait PgHandler: Send + Sync + 'static {
    async fn handle(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError>;
}

/// Wraps a [`PgHandler`] so that each event's effect happens once per consumer: the inbox row
/// `(consumer, event_id)` is inserted first in the transaction; if it exists the event is a
/// duplicate and nothing runs. Two instances racing on one event serialize on that row.
pub struct PgIdempotent<H> {
    pool: PgPool,
    consumer: String,
    inner: H,
}

impl<H: PgHandler> PgIdempotent<H> {
    pub fn new(pool: PgPool, consumer: impl Into<String>, inner: H) -> Self {
        PgIdempotent {
            pool,
            consumer: consumer.into(),
            inner,
        }
    }
}

#[async_trait]
impl<H: PgHandler> Handler for PgIdempotent<H> {
    async fn handle(&self, event: &Envelope) -> Result<Outcome, HandlerError> {
        let mut tx = self.pool.begin().await?;
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
            return Ok(Outcome::Duplicate);
        }
        self.inner.handle(&mut tx, event).await?;
        tx.commit().await?;
        Ok(Outcome::Applied)
    }
}
