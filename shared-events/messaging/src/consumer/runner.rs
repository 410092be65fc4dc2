//! The consumer runner: one consumer group per service, partitions processed concurrently,
//! each partition strictly in order, and an offset stored only after its message's effect (and
//! inbox record) committed or the message was dead-lettered.
//!
//! The runner's set-up and drain (the producer for dead letters, its own or the service's,
//! the restart loop after a fatal consumer error, the final purge) and each consumer's life in
//! between: a session creates the consumer, subscribes, dispatches messages to the partition
//! workers until shutdown, a fatal error or a dead worker, drains the workers, and commits on
//! the way out.
//! A runner lives through one session, or several when librdkafka fails a consumer fatally.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::producer::{FutureProducer, Producer, PurgeConfig};
use tokio_util::sync::CancellationToken;

use super::dispatch::Dispatch;
use super::error::ConsumerError;
use super::group::Group;
use super::rebalance::{PartitionStops, RebalanceContext, SessionConsumer};
use super::{Handler, RetryPolicy, WorkerContext};
use crate::config::KafkaConfig;
use crate::metrics;
use crate::producer::build_producer;
use saga_contracts::events::EventType;

/// Reads a service's subscriptions as one consumer group and hands each event to its
/// [`Handler`], with retries, dead-lettering, offset storage and graceful shutdown. The topics
/// must exist: the operator provisions them ([`crate::provision`]), and a service checks for
/// them at start-up (`saga_kit::service::Startup::topics`).
pub struct ConsumerRunner {
    /// The brokers, the topic namespace and the consumer settings; also names the group and
    /// the dead-letter topics.
    config: KafkaConfig,
    /// The service whose consumer group this is: a restarted service resumes from the group's
    /// committed offsets.
    service: String,
    /// The event types whose topics are read.
    subscriptions: Vec<EventType>,
    /// Applies each event; shared by every partition's worker.
    handler: Arc<dyn Handler>,
    /// How transient failures are retried before a message is dead-lettered.
    retry: RetryPolicy,
    /// The producer of the service's other clients, when dead letters share it
    /// ([`ConsumerRunner::with_producer`]); otherwise the runner builds one of its own.
    shared_producer: Option<FutureProducer>,
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
            shared_producer: None,
        }
    }

    /// Retries transient failures by `retry` instead of [`RetryPolicy::default`].
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Publishes dead letters with `producer`, the one the service's outbox relay uses,
    /// instead of a producer of the runner's own: one librdkafka client (and its threads)
    /// fewer per service. The runner then leaves the producer to its owner at the end: the
    /// service flushes it once every task has stopped, so a dead letter still queued then is
    /// sent (it may duplicate one a later owner of its partition sends again, which the
    /// redrive's inbox makes harmless).
    pub fn with_producer(mut self, producer: FutureProducer) -> Self {
        self.shared_producer = Some(producer);
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
        let ended = match &self.shared_producer {
            Some(producer) => self.sessions(producer, &shutdown).await,
            None => self.with_own_producer(&shutdown).await,
        };
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

    /// Runs the sessions with a producer of the runner's own, purged at the end.
    async fn with_own_producer(&self, shutdown: &CancellationToken) -> Result<(), ConsumerError> {
        let producer = build_producer(&self.config).map_err(ConsumerError::Producer)?;
        let ended = self.sessions(&producer, shutdown).await;
        // Every dead letter whose message's offset was stored has been acknowledged; any
        // still queued belongs to a message cut off by the stop, which the partition's next
        // owner handles again. Flushing them would only wait on an unreachable broker, or
        // publish a letter that may not be needed: they are dropped.
        let _ = tokio::task::spawn_blocking(move || {
            producer.purge(PurgeConfig::default().queue().inflight());
            drop(producer);
        })
        .await;
        ended
    }

    /// Runs sessions until shutdown, a new one after each consumer that failed fatally.
    async fn sessions(
        &self,
        producer: &FutureProducer,
        shutdown: &CancellationToken,
    ) -> Result<(), ConsumerError> {
        let mut pause = Duration::from_secs(1);
        while let SessionEnd::Fatal(reason) = session(self, producer, shutdown).await? {
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

/// Why a consumer's session ended.
enum SessionEnd {
    /// The service is shutting down.
    Shutdown,
    /// librdkafka raised a fatal error (its code and reason): this consumer can do no more.
    Fatal(String),
}

/// How often held messages of paused partitions are offered to their workers again.
const RESUME_EVERY: Duration = Duration::from_millis(20);

/// One consumer's life: subscribe, dispatch to the partition workers until shutdown, a fatal
/// error or a dead worker, then drain the workers. A dead worker is an error: the runner stops
/// with it, so that the service stops rather than serve on without its consumer.
async fn session(
    runner: &ConsumerRunner,
    producer: &FutureProducer,
    shutdown: &CancellationToken,
) -> Result<SessionEnd, ConsumerError> {
    let group_id = runner.config.group_id(&runner.service);
    let stops = Arc::new(PartitionStops::default());
    let consumer: Arc<SessionConsumer> = Arc::new(
        runner
            .config
            .consumer_config(&group_id)
            .create_with_context(RebalanceContext::new(stops.clone()))
            .map_err(ConsumerError::Create)?,
    );
    let topics: Vec<String> = runner
        .subscriptions
        .iter()
        .map(|&t| runner.config.topic(t))
        .collect();
    let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topic_refs)
        .map_err(ConsumerError::Subscribe)?;
    tracing::info!(group = %group_id, topics = ?topics, "consumer started");

    // The workers stop with the service, or with this session when its consumer fails or a
    // worker dies; each also stops alone when its partition is revoked.
    let stop = shutdown.child_token();
    let (group, committer) = match runner.handler.batches() {
        true => {
            let (group, committer) = Group::start(runner.handler.clone());
            (Some(group), Some(committer))
        }
        false => (None, None),
    };
    let ctx = Arc::new(WorkerContext {
        consumer: consumer.clone(),
        producer: producer.clone(),
        config: runner.config.clone(),
        handler: runner.handler.clone(),
        retry: runner.retry,
        group_id: group_id.clone(),
        group,
    });
    let mut dispatch = Dispatch::new(ctx, stop.clone(), stops);

    // One timer for the whole session, ahead of `recv` in the select: a sleep made anew
    // on each pass would lose to `recv` for as long as any other partition delivers more
    // often than it fires, and a paused partition would never be resumed.
    let mut resume = tokio::time::interval(RESUME_EVERY);
    resume.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    let mut end = SessionEnd::Shutdown;
    let mut died = None;
    let mut errors = ErrorLog::default();
    loop {
        let message = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            dead = dispatch.next_death() => {
                tracing::error!(topic = %dead.topic, partition = dead.partition, panic = %dead.panic, "a partition worker died; stopping the consumer");
                died = Some(dead);
                stop.cancel();
                break;
            }
            _ = resume.tick(), if dispatch.holds_messages() => {
                dispatch.retry_paused();
                continue;
            }
            m = consumer.recv() => m,
        };
        match message {
            Ok(m) => dispatch.route(m.detach()),
            Err(e) => {
                if let Some((code, reason)) = consumer.client().fatal_error() {
                    end = SessionEnd::Fatal(format!("{code:?}: {reason}"));
                    stop.cancel();
                    break;
                }
                // librdkafka reports each failed connection attempt as an error event and
                // reconnects by itself. Take the next event at once: pausing here would
                // leave the events of an outage queued, and the consumer would read them
                // one pause at a time long after the broker was back.
                errors.record(&e);
            }
        }
    }

    // A worker that dies while the others drain (at shutdown, say) is reported too.
    let drained = dispatch.drain().await;
    let died = died.or(drained);
    if let Some(committer) = committer {
        committer.stop().await;
    }
    if matches!(end, SessionEnd::Shutdown) {
        // A synchronous commit waits on the broker: off the runtime's thread, which the
        // service's other tasks share (with one runtime thread, all of them).
        let committing = consumer.clone();
        let committed =
            tokio::task::spawn_blocking(move || committing.commit_consumer_state(CommitMode::Sync))
                .await;
        if let Ok(Err(e)) = committed {
            tracing::debug!(error = %e, "final offset commit had nothing to do");
        }
    }
    match died {
        Some(dead) => Err(ConsumerError::WorkerDied {
            topic: dead.topic,
            partition: dead.partition,
            panic: dead.panic,
        }),
        None => Ok(end),
    }
}

/// Logs consumer errors at most once a second, with the number of those in between: an outage
/// produces an error per connection attempt.
#[derive(Default)]
struct ErrorLog {
    /// When the last error was logged.
    last: Option<Instant>,
    /// Errors since then, not logged one by one.
    suppressed: u64,
}

impl ErrorLog {
    /// Logs `error`, unless one was logged less than a second ago: then only counts it.
    fn record(&mut self, error: &rdkafka::error::KafkaError) {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|at| now.duration_since(at) < Duration::from_secs(1))
        {
            self.suppressed += 1;
            return;
        }
        tracing::warn!(error = %error, suppressed = self.suppressed, "consumer error");
        self.last = Some(now);
        self.suppressed = 0;
    }
}
