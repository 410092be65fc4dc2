//! The consumer runner: one consumer group per service, partitions processed concurrently,
//! each partition strictly in order, and an offset stored only after its message's effect (and
//! inbox record) committed or the message was dead-lettered.
//!
//! This file holds the set-up and the drain: the producer for dead letters, the restart loop
//! after a fatal consumer error, and the final flush. One consumer's life is in
//! [`super::session`].

use std::sync::Arc;
use std::time::Duration;

use rdkafka::producer::Producer;
use tokio_util::sync::CancellationToken;

use super::error::ConsumerError;
use super::session::{self, SessionEnd};
use super::{Handler, RetryPolicy};
use crate::contracts::events::EventType;
use crate::messaging::config::KafkaConfig;
use crate::messaging::metrics;
use crate::messaging::producer::build_producer;

/// Reads a service's subscriptions as one consumer group and hands each event to its
/// [`Handler`], with retries, dead-lettering, offset storage and graceful shutdown. The topics
/// must exist: a service creates them at start-up
/// ([`crate::kit::service::Startup::topics`]).
pub struct ConsumerRunner {
    /// The brokers, the topic namespace and the consumer settings; also names the group and
    /// the dead-letter topics.
    pub(super) config: KafkaConfig,
    /// The service whose consumer group this is: a restarted service resumes from the group's
    /// committed offsets.
    pub(super) service: String,
    /// The event types whose topics are read.
    pub(super) subscriptions: Vec<EventType>,
    /// Applies each event; shared by every partition's worker.
    pub(super) handler: Arc<dyn Handler>,
    /// How transient failures are retried before a message is dead-lettered.
    pub(super) retry: RetryPolicy,
}

impl ConsumerRunner {
    /// A runner for `service`'s consumer group, reading the topics of `subscriptions`.
    pub fn new(
        config: KafkaConfig,
        service: &str,
        subscriptions: &[EventType],
        handler: impl Handler,
    ) -> Self {
        ConsumerRunner {
            config,
            service: service.to_owned(),
            subscriptions: subscriptions.to_vec(),
            handler: Arc::new(handler),
            retry: RetryPolicy::default(),
        }
    }

    /// Retries transient failures by `retry` instead of [`RetryPolicy::default`].
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Runs until `shutdown`: then stops fetching, lets each worker finish the message in hand,
    /// commits the stored offsets and flushes the dead-letter producer.
    ///
    /// A consumer that librdkafka declares fatally failed (for example fenced: with static
    /// membership, a member that rejoined after a broker outage can be fenced by its own new
    /// session) can fetch nothing more. The runner then drains its workers and starts a new
    /// consumer in the same group, after a growing pause; the new one resumes from the committed
    /// offsets, and the inbox makes any message handled twice a no-op.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), ConsumerError> {
        let producer = build_producer(&self.config).map_err(ConsumerError::Producer)?;
        let mut pause = Duration::from_secs(1);
        while let SessionEnd::Fatal(reason) = session::run(&self, &producer, &shutdown).await? {
            tracing::error!(
                group = %self.config.group_id(&self.service),
                error = %reason,
                retry_in_ms = pause.as_millis() as u64,
                "the Kafka consumer failed fatally; starting a new one"
            );
            metrics::CONSUMER_RESTARTS.inc();
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.cancelled() => break,
            }
            pause = (pause * 2).min(Duration::from_secs(30));
        }
        let _ = tokio::task::spawn_blocking(move || producer.flush(Duration::from_secs(10))).await;
        tracing::info!(group = %self.config.group_id(&self.service), "consumer stopped");
        Ok(())
    }
}
