//! The outbox relay: publishes committed outbox records to Kafka, then marks them sent.
//!
//! A batch is handed to the producer at once (no round trip per record) and the acks are
//! awaited in order. Only the prefix of the batch acked before the first failure is marked
//! sent; the rest is published again on the next pass. Delivery is therefore at least once
//! and never reorders a key: a crash between publish and mark re-sends, it never skips.
//!
//! Marking is deferred and batched. On MongoDB marking records sent records the relay's position
//! in the outbox's change stream, a write, so one commit (and fsync) per mark, and under light
//! load a batch is one or two records (docs/performance.md measures what deferring bought); on
//! PostgreSQL it is what lets the relay confirm the records' transactions to the replication
//! slot, which costs no write. The relay keeps the ids it published but has not
//! yet marked, leaves them out of the next reads, and marks them in one statement once they
//! fill a batch or [`MARK_AFTER`] has passed (and before it stops). A crash in between
//! publishes those records again, which the consumers' inboxes make harmless.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{OutboxRecord, OutboxStore};
use crate::config::KafkaConfig;
use crate::metrics;
use crate::producer::event_headers;

/// A record the broker acknowledged.
#[derive(Debug, Clone)]
pub struct Published {
    /// The event the record carries.
    pub event_id: Uuid,
    /// When the record was written to the outbox.
    pub created_at: DateTime<Utc>,
    /// When the broker's acknowledgement arrived.
    pub published_at: DateTime<Utc>,
}

/// Why an outbox relay could not be set up or run.
///
/// A running relay retries what fails (reading the outbox, publishing, marking sent), so
/// [`OutboxRelay::run`] itself returns `Ok` on shutdown; what can fail is building what it
/// needs.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The relay's Kafka producer could not be created (librdkafka rejected the
    /// configuration); the source is the producer's own error.
    #[error("building the outbox relay's Kafka producer")]
    Producer(#[source] Box<dyn std::error::Error + Send + Sync>),
}

type Observer = Arc<dyn Fn(&[Published]) + Send + Sync>;

/// How long a published record may wait to be marked sent.
pub const MARK_AFTER: Duration = Duration::from_millis(100);

/// Records published but not yet marked sent.
struct Unmarked<Id> {
    /// Their ids, in the order they were published.
    ids: Vec<Id>,
    /// What the observer is told once they are marked.
    published: Vec<Published>,
    /// When the oldest of them was acknowledged.
    since: Option<Instant>,
}

impl<Id> Unmarked<Id> {
    fn new() -> Self {
        Unmarked {
            ids: Vec::new(),
            published: Vec::new(),
            since: None,
        }
    }

    /// How long the relay may wait before these are due, if there are any.
    fn due_in(&self) -> Option<Duration> {
        self.since.map(|at| MARK_AFTER.saturating_sub(at.elapsed()))
    }
}

/// Publishes the records of one outbox (`S`) to Kafka; see the module documentation.
pub struct OutboxRelay<S: OutboxStore> {
    store: S,
    producer: FutureProducer,
    config: KafkaConfig,
    batch_size: usize,
    fallback_poll: Duration,
    observer: Option<Observer>,
}

impl<S: OutboxStore> OutboxRelay<S> {
    /// A relay of `store` publishing with `producer` to the topics of `config`'s namespace, in
    /// batches of 500, polling every 250 ms when no commit notification arrives.
    pub fn new(store: S, producer: FutureProducer, config: KafkaConfig) -> Self {
        OutboxRelay {
            store,
            producer,
            config,
            batch_size: 500,
            fallback_poll: Duration::from_millis(250),
            observer: None,
        }
    }

    /// How many records one read (and one publish) takes at most; at least 1.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// How long the relay sleeps when no commit notification arrives (a safety net only).
    pub fn fallback_poll(mut self, d: Duration) -> Self {
        self.fallback_poll = d;
        self
    }

    /// Called with records the broker acknowledged, once they are marked sent (so after up to
    /// [`MARK_AFTER`]; each [`Published`] carries its own acknowledgement time).
    pub fn on_published(mut self, f: impl Fn(&[Published]) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(f));
        self
    }

    /// Runs until `shutdown`, then flushes the producer. Failures to read the outbox or to
    /// publish are retried with backoff, so it returns only on shutdown (as `Ok`); the
    /// `Result` lets a service spawn it among its other tasks.
    pub async fn run(mut self, shutdown: CancellationToken) -> Result<(), RelayError> {
        let mut error_backoff = Duration::from_millis(100);
        let mut unmarked = Unmarked::new();
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            if unmarked.ids.len() >= self.batch_size || unmarked.due_in() == Some(Duration::ZERO) {
                self.mark(&mut unmarked).await;
            }
            let mut more = false;
            match self.store.next_batch(self.batch_size, &unmarked.ids).await {
                Ok(mut batch) => {
                    if !unmarked.ids.is_empty() {
                        // A store may return them anyway; they are out already.
                        let out: HashSet<&S::Id> = unmarked.ids.iter().collect();
                        batch.retain(|r| !out.contains(&r.id));
                    }
                    if batch.is_empty() {
                        // Nothing new.
                    } else {
                        let full = batch.len() == self.batch_size;
                        match self.publish(batch, &mut unmarked).await {
                            Ok(()) => {
                                more = full;
                                error_backoff = Duration::from_millis(100);
                            }
                            Err(e) => {
                                tracing::warn!(error = %format!("{e:#}"), "outbox relay: publish failed; retrying");
                                error_backoff = sleep_backoff(error_backoff, &shutdown).await;
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "outbox relay: reading the outbox failed; retrying");
                    error_backoff = sleep_backoff(error_backoff, &shutdown).await;
                }
            }
            if more {
                continue;
            }
            let wait = match unmarked.due_in() {
                Some(due) => due.min(self.fallback_poll),
                None => self.fallback_poll,
            };
            tokio::select! {
                _ = self.store.wait(wait) => {}
                _ = shutdown.cancelled() => break,
            }
        }
        self.mark(&mut unmarked).await;
        let producer = self.producer.clone();
        let _ = tokio::task::spawn_blocking(move || producer.flush(Duration::from_secs(10))).await;
        tracing::info!("outbox relay stopped");
        Ok(())
    }

    /// Marks `unmarked` sent and tells the observer. If that fails (the lease or the slot
    /// passed to another instance, or the store is down), they are forgotten: whoever holds
    /// the outbox then publishes them again, and the consumers' inboxes drop the copies.
    async fn mark(&mut self, unmarked: &mut Unmarked<S::Id>) {
        if unmarked.ids.is_empty() {
            return;
        }
        let published = std::mem::take(&mut unmarked.published);
        let ids = std::mem::take(&mut unmarked.ids);
        unmarked.since = None;
        match self.store.mark_sent(&ids).await {
            Ok(()) => {
                if let Some(observer) = &self.observer {
                    observer(&published);
                }
            }
            Err(e) => tracing::warn!(
                error = %format!("{e:#}"),
                records = ids.len(),
                "outbox relay: marking records sent failed; they will be published again"
            ),
        }
    }

    /// Publishes `batch`, adding what the broker acknowledged to `unmarked`.
    async fn publish(
        &mut self,
        batch: Vec<OutboxRecord<S::Id>>,
        unmarked: &mut Unmarked<S::Id>,
    ) -> anyhow::Result<()> {
        let topics: Vec<String> = batch
            .iter()
            .map(|r| format!("{}{}", self.config.topic_prefix, r.event_type))
            .collect();
        // Hand the whole batch to the producer before awaiting any ack.
        let mut deliveries = Vec::with_capacity(batch.len());
        for (record, topic) in batch.iter().zip(&topics) {
            let kafka_record = FutureRecord::to(topic)
                .key(&record.key)
                .payload(&record.payload)
                .headers(event_headers(
                    &record.event_type,
                    record.traceparent.as_deref(),
                ));
            match self.producer.send_result(kafka_record) {
                Ok(delivery) => deliveries.push(delivery),
                Err((e, _)) => {
                    tracing::warn!(error = %e, "outbox relay: producer queue refused a record");
                    break;
                }
            }
        }
        let mut sent = Vec::with_capacity(deliveries.len());
        let mut published = Vec::with_capacity(deliveries.len());
        let mut failure = None;
        for (record, delivery) in batch.iter().zip(deliveries) {
            match delivery.await {
                Ok(Ok(_)) => {
                    sent.push(record.id.clone());
                    published.push(Published {
                        event_id: record.event_id,
                        created_at: record.created_at,
                        published_at: Utc::now(),
                    });
                }
                Ok(Err((e, _))) => {
                    failure = Some(anyhow::anyhow!(
                        "delivery of {} failed: {e}",
                        record.event_id
                    ));
                    break;
                }
                Err(_) => {
                    failure = Some(anyhow::anyhow!("the producer dropped {}", record.event_id));
                    break;
                }
            }
        }
        if sent.len() < batch.len() && failure.is_none() {
            failure = Some(anyhow::anyhow!("the producer queue is full"));
        }
        if !sent.is_empty() {
            for p in &published {
                let latency = (p.published_at - p.created_at).to_std().unwrap_or_default();
                metrics::OUTBOX_PUBLISH_LATENCY.observe(latency.as_secs_f64());
            }
            metrics::OUTBOX_PUBLISHED.inc_by(sent.len() as u64);
            unmarked.since.get_or_insert_with(Instant::now);
            unmarked.ids.extend(sent);
            unmarked.published.extend(published);
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

async fn sleep_backoff(current: Duration, shutdown: &CancellationToken) -> Duration {
    tokio::select! {
        _ = tokio::time::sleep(current) => {}
        _ = shutdown.cancelled() => {}
    }
    (current * 2).min(Duration::from_secs(5))
}
