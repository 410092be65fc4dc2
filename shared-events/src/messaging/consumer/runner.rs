//! The consumer runner: one consumer group per service, partitions processed concurrently,
//! each partition strictly in order, and an offset stored only after its message's effect (and
//! inbox record) committed or the message was dead-lettered.
//!
//! This file holds the set-up and the drain: the producer for dead letters, the restart loop
//! after a fatal consumer error, and the final flush. One consumer's life is in
//! [`super::session`].

use std::sync::Arc;
use std::time::Duration;

use rdkafka::producer::{FutureProducer, Producer, PurgeConfig};
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

    /// Runs until `shutdown`: then stops fetching, lets each worker finish the message in hand
    /// (a handler call or dead letter under way gets a few seconds' grace, so a hung store or
    /// an unreachable broker cannot hold shutdown up), commits the stored offsets and drops
    /// the dead letters still unsent (their messages' offsets are not stored).
    ///
    /// A partition revoked in a rebalance stops the same way: its worker finishes the message
    /// in hand and drops the rest of its queue, which the partition's new owner reads again.
    ///
    /// A partition worker that dies (a panic outside the handler call) stops the runner with
    /// [`ConsumerError::WorkerDied`], once the others have drained: the service must not run
    /// on without it.
    ///
    /// A consumer that librdkafka declares fatally failed (for example fenced: with static
    /// membership, a member that rejoined after a broker outage can be fenced by its own new
    /// session) can fetch nothing more. The runner then drains its workers and starts a new
    /// consumer in the same group, after a growing pause; the new one resumes from the committed
    /// offsets, and the inbox makes any message handled twice a no-op.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), ConsumerError> {
        let producer = build_producer(&self.config).map_err(ConsumerError::Producer)?;
        let ended = self.sessions(&producer, &shutdown).await;
        // Every dead letter whose message's offset was stored has been acknowledged; any
        // still queued belongs to a message cut off by the stop, which the partition's next
        // owner handles again. Flushing them would only wait on an unreachable broker, or
        // publish a letter that may not be needed: they are dropped.
        let _ = tokio::task::spawn_blocking(move || {
            producer.purge(PurgeConfig::default().queue().inflight());
            drop(producer);
        })
        .await;
        match &ended {
            Ok(()) => {
                tracing::info!(group = %self.config.group_id(&self.service), "consumer stopped")
            }
            Err(e) => {
                tracing::error!(group = %self.config.group_id(&self.service), error = %e, "consumer stopped")
            }
        }
        ended
    }

    /// Runs sessions until shutdown, a new one after each consumer that failed fatally.
    async fn sessions(
        &self,
        producer: &FutureProducer,
        shutdown: &CancellationToken,
    ) -> Result<(), ConsumerError> {
        let mut pause = Duration::from_secs(1);
        while let SessionEnd::Fatal(reason) = session::run(self, producer, shutdown).await? {
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
        Ok(())
    }
}
