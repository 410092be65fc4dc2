//! The outbox relay: publishes committed outbox records to Kafka, then marks them sent.
//!
//! A batch is handed to the producer at once (no round trip per record) and the acks are
//! awaited in order. Only the prefix of the batch acked before the first failure is marked
//! sent; the rest is published again on the next pass. Delivery is therefore at least once
//! and never reorders a key: a crash between publish and mark re-sends, it never skips.

use std::sync::Arc;
use std::time::Duration;

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
    pub event_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub published_at: DateTime<Utc>,
}

type Observer = Arc<dyn Fn(&[Published]) + Send + Sync>;

pub struct OutboxRelay<S: OutboxStore> {
    store: S,
    producer: FutureProducer,
    config: KafkaConfig,
    batch_size: usize,
    fallback_poll: Duration,
    observer: Option<Observer>,
}

impl<S: OutboxStore> OutboxRelay<S> {
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

    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// How long the relay sleeps when no commit notification arrives (a safety net only).
    pub fn fallback_poll(mut self, d: Duration) -> Self {
        self.fallback_poll = d;
        self
    }

    /// Called after each batch with the records the broker acknowledged.
    pub fn on_published(mut self, f: impl Fn(&[Published]) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(f));
        self
    }

    /// Runs until `shutdown`, then flushes the producer. Failures to read the outbox or to
    /// publish are retried with backoff, so it returns only on shutdown (as `Ok`); the
    /// `Result` lets a service spawn it among its other tasks.
    pub async fn run(mut self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut error_backoff = Duration::from_millis(100);
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            let mut more = false;
            match self.store.next_batch(self.batch_size).await {
                Ok(batch) if batch.is_empty() => {}
                Ok(batch) => {
                    let full = batch.len() == self.batch_size;
                    match self.publish(batch).await {
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
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "outbox relay: reading the outbox failed; retrying");
                    error_backoff = sleep_backoff(error_backoff, &shutdown).await;
                }
            }
            if more {
                continue;
            }
            tokio::select! {
                _ = self.store.wait(self.fallback_poll) => {}
                _ = shutdown.cancelled() => break,
            }
        }
        let producer = self.producer.clone();
        let _ = tokio::task::spawn_blocking(move || producer.flush(Duration::from_secs(10))).await;
        tracing::info!("outbox relay stopped");
        Ok(())
    }

    async fn publish(&mut self, batch: Vec<OutboxRecord<S::Id>>) -> anyhow::Result<()> {
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
            self.store.mark_sent(&sent).await?;
            for p in &published {
                let latency = (p.published_at - p.created_at).to_std().unwrap_or_default();
                metrics::OUTBOX_PUBLISH_LATENCY.observe(latency.as_secs_f64());
            }
            metrics::OUTBOX_PUBLISHED.inc_by(sent.len() as u64);
            if let Some(observer) = &self.observer {
                observer(&published);
            }
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
