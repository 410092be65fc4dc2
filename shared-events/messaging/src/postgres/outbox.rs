//! Writing to the PostgreSQL outbox, and reading it for the relay.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use super::schema::{LOCK_CLASS_RELAY, NOTIFY_CHANNEL};
use crate::outbox::{OutboxRecord, OutboxStore};
use saga_contracts::envelope::Envelope;

/// Appends `event` to the outbox inside the caller's transaction. Nothing is published unless
/// that transaction commits.
pub async fn enqueue(conn: &mut PgConnection, event: &Envelope) -> Result<(), sqlx::Error> {
    enqueue_all(conn, std::slice::from_ref(event)).await
}

/// Appends several events in one round trip, in the given order.
pub async fn enqueue_all(conn: &mut PgConnection, events: &[Envelope]) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    OutboxBatch::of(events)
        .bind(sqlx::query(&format!("SELECT {}", OutboxBatch::call(1))))
        .execute(conn)
        .await?;
    Ok(())
}

/// Events as the five arrays `outbox_enqueue` takes, so that a statement of a service's own
/// can append them in the same round trip as its other writes (a single statement is atomic
/// on its own, so such a step needs no transaction around it).
pub struct OutboxBatch {
    /// The events' ids, their inbox keys downstream.
    ids: Vec<Uuid>,
    /// Their types, which name their topics.
    types: Vec<&'static str>,
    /// Their Kafka keys, which the enqueue locks so that one key's events keep their order.
    keys: Vec<String>,
    /// The envelopes as JSON.
    payloads: Vec<String>,
    /// Their W3C trace parents, if any.
    traces: Vec<Option<String>>,
}

impl OutboxBatch {
    /// The batch of `events`, in the order given.
    pub fn of(events: &[Envelope]) -> OutboxBatch {
        OutboxBatch {
            ids: events.iter().map(|e| e.event_id).collect(),
            types: events.iter().map(|e| e.event_type().as_str()).collect(),
            keys: events.iter().map(Envelope::key).collect(),
            payloads: events
                .iter()
                .map(|e| String::from_utf8(e.to_json()).expect("JSON is UTF-8"))
                .collect(),
            traces: events
                .iter()
                .map(|e| e.traceparent.map(|t| t.to_string()))
                .collect(),
        }
    }

    /// The SQL call for the five parameters from `$first` on, e.g.
    /// `outbox_enqueue($6, $7, $8, $9, $10)`.
    pub fn call(first: usize) -> String {
        let p: Vec<String> = (first..first + 5).map(|i| format!("${i}")).collect();
        format!("outbox_enqueue({})", p.join(", "))
    }

    /// Binds the five arrays, in [`call`](Self::call)'s order, as the next parameters.
    pub fn bind(
        self,
        query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments> {
        query
            .bind(self.ids)
            .bind(self.types)
            .bind(self.keys)
            .bind(self.payloads)
            .bind(self.traces)
    }
}

/// The relay's view of a PostgreSQL outbox.
///
/// One relay per database publishes at a time: it holds a session advisory lock on a connection
/// of its own (the lease) and reads through that connection, so if the connection dies the lease
/// passes to another instance. It wakes on `NOTIFY outbox`, sent when an enqueuing transaction
/// commits, with the relay's fallback poll as a safety net. Published rows are deleted once older
/// than the retention.
pub struct PgOutboxStore {
    pool: PgPool,
    lease: Option<PgConnection>,
    /// A standby's connection, kept for its next try at the lease: without it a standby
    /// would open (and close) a connection on every commit notification.
    candidate: Option<PgConnection>,
    /// A standby tries for the lease at most once per [`LEASE_RETRY`].
    next_try: Instant,
    listener: Option<PgListener>,
    retention: Duration,
    last_cleanup: Instant,
}

/// How often a standby relay tries to take the lease.
const LEASE_RETRY: Duration = Duration::from_secs(1);

impl PgOutboxStore {
    /// The outbox of `pool`'s database, published by whichever instance holds its relay lease.
    pub fn new(pool: PgPool) -> Self {
        PgOutboxStore {
            pool,
            lease: None,
            candidate: None,
            next_try: Instant::now(),
            listener: None,
            retention: Duration::from_secs(3600),
            last_cleanup: Instant::now(),
        }
    }

    /// How long published rows are kept for inspection before they are deleted.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    async fn ensure_listener(&mut self) -> Result<(), sqlx::Error> {
        if self.listener.is_none() {
            let mut listener = PgListener::connect_with(&self.pool).await?;
            listener.listen(NOTIFY_CHANNEL).await?;
            self.listener = Some(listener);
        }
        Ok(())
    }

    /// Takes the lease if it is free, trying at most once per [`LEASE_RETRY`] on one kept
    /// connection. The connection is detached from the pool so that closing it (on error or
    /// drop) releases the lock.
    async fn ensure_lease(&mut self) -> Result<bool, sqlx::Error> {
        if self.lease.is_some() {
            return Ok(true);
        }
        if Instant::now() < self.next_try {
            return Ok(false);
        }
        self.next_try = Instant::now() + LEASE_RETRY;
        let mut conn = match self.candidate.take() {
            Some(conn) => conn,
            None => self.pool.acquire().await?.detach(),
        };
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, 0)")
            .bind(LOCK_CLASS_RELAY)
            .fetch_one(&mut conn)
            .await?;
        if got {
            tracing::info!("outbox relay: lease acquired");
            self.lease = Some(conn);
        } else {
            self.candidate = Some(conn);
        }
        Ok(got)
    }

    async fn cleanup(&mut self) -> Result<(), sqlx::Error> {
        if self.last_cleanup.elapsed() < Duration::from_secs(60) {
            return Ok(());
        }
        self.last_cleanup = Instant::now();
        let conn = self.lease.as_mut().expect("cleanup runs under the lease");
        let retention_secs = self.retention.as_secs_f64();
        sqlx::query(
            "DELETE FROM outbox WHERE sent_at IS NOT NULL \
             AND sent_at < now() - make_interval(secs => $1)",
        )
        .bind(retention_secs)
        .execute(conn)
        .await?;
        Ok(())
    }
}

#[async_trait]
impl OutboxStore for PgOutboxStore {
    type Id = i64;

    async fn next_batch(
        &mut self,
        limit: usize,
        published: &[i64],
    ) -> anyhow::Result<Vec<OutboxRecord<i64>>> {
        // Listen before reading, so a commit between the read and the wait is not missed.
        self.ensure_listener().await?;
        if !self.ensure_lease().await? {
            return Ok(Vec::new());
        }
        let result = async {
            self.cleanup().await?;
            let conn = self.lease.as_mut().expect("lease held");
            sqlx::query(
                "SELECT id, event_id, event_type, kafka_key, payload, traceparent, created_at \
                 FROM outbox WHERE sent_at IS NULL AND id <> ALL($2) ORDER BY id LIMIT $1",
            )
            .bind(limit as i64)
            .bind(published)
            .fetch_all(conn)
            .await
        }
        .await;
        let rows = match result {
            Ok(rows) => rows,
            Err(e) => {
                self.lease = None;
                return Err(e.into());
            }
        };
        rows.into_iter()
            .map(|row| {
                let payload: String = row.try_get("payload")?;
                Ok(OutboxRecord {
                    id: row.try_get("id")?,
                    event_id: row.try_get("event_id")?,
                    event_type: row.try_get("event_type")?,
                    key: row.try_get("kafka_key")?,
                    payload: payload.into_bytes(),
                    traceparent: row.try_get("traceparent")?,
                    created_at: row.try_get::<DateTime<Utc>, _>("created_at")?,
                })
            })
            .collect()
    }

    async fn mark_sent(&mut self, ids: &[i64]) -> anyhow::Result<()> {
        let Some(conn) = self.lease.as_mut() else {
            anyhow::bail!("the outbox lease was lost");
        };
        let result =
            sqlx::query("UPDATE outbox SET sent_at = clock_timestamp() WHERE id = ANY($1)")
                .bind(ids)
                .execute(conn)
                .await;
        if let Err(e) = result {
            self.lease = None;
            return Err(e.into());
        }
        Ok(())
    }

    async fn wait(&mut self, fallback: Duration) {
        match self.listener.as_mut() {
            Some(listener) => match tokio::time::timeout(fallback, listener.recv()).await {
                Ok(Ok(_)) | Err(_) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "outbox relay: LISTEN connection lost");
                    self.listener = None;
                }
            },
            None => tokio::time::sleep(fallback).await,
        }
    }
}
