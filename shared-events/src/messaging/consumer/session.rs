//! One consumer's life: create it, subscribe, dispatch messages to the partition workers until
//! shutdown, a fatal error or a dead worker, drain the workers, and commit on the way out. A
//! runner lives through one session, or several when librdkafka fails a consumer fatally.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::producer::FutureProducer;
use tokio_util::sync::CancellationToken;

use super::dispatch::Dispatch;
use super::error::ConsumerError;
use super::rebalance::{PartitionStops, RebalanceContext, SessionConsumer};
use super::runner::ConsumerRunner;
use super::worker::WorkerContext;

/// Why a consumer's session ended.
pub(super) enum SessionEnd {
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
pub(super) async fn run(
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
    let ctx = Arc::new(WorkerContext {
        consumer: consumer.clone(),
        producer: producer.clone(),
        config: runner.config.clone(),
        handler: runner.handler.clone(),
        retry: runner.retry,
        group_id: group_id.clone(),
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
    if matches!(end, SessionEnd::Shutdown) {
        match consumer.commit_consumer_state(CommitMode::Sync) {
            Ok(()) => {}
            Err(e) => tracing::debug!(error = %e, "final offset commit had nothing to do"),
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
pub(super) struct ErrorLog {
    /// When the last error was logged.
    last: Option<Instant>,
    /// Errors since then, not logged one by one.
    suppressed: u64,
}

impl ErrorLog {
    /// Logs `error`, unless one was logged less than a second ago: then only counts it.
    pub(super) fn record(&mut self, error: &rdkafka::error::KafkaError) {
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
