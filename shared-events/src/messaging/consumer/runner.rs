//! The consumer runner: one consumer group per service, partitions processed concurrently,
//! each partition strictly in order, and an offset stored only after its message's effect (and
//! inbox record) committed or the message was dead-lettered.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::FutureExt;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message, OwnedMessage};
use rdkafka::producer::{FutureProducer, Producer};
use rdkafka::TopicPartitionList;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::dlq::{self, DeadLetter, DlqReason};
use super::{Handler, HandlerError, RetryPolicy};
use crate::contracts::envelope::{DecodeError, Envelope};
use crate::contracts::events::EventType;
use crate::messaging::config::KafkaConfig;
use crate::messaging::metrics;
use crate::messaging::producer::{build_producer, HEADER_TRACEPARENT};
use crate::messaging::topics::ensure_topics;

pub struct ConsumerRunner {
    config: KafkaConfig,
    service: String,
    subscriptions: Vec<EventType>,
    handler: Arc<dyn Handler>,
    retry: RetryPolicy,
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
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        ensure_topics(&self.config, &self.subscriptions).await?;
        let producer = build_producer(&self.config)?;
        let mut pause = Duration::from_secs(1);
        while let SessionEnd::Fatal(reason) = self.session(&producer, &shutdown).await? {
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

    /// One consumer's life: subscribe, dispatch to the partition workers until shutdown or a
    /// fatal error, then drain the workers.
    async fn session(
        &self,
        producer: &FutureProducer,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<SessionEnd> {
        let group_id = self.config.group_id(&self.service);
        let consumer: Arc<StreamConsumer> = Arc::new(
            self.config
                .consumer_config(&group_id)
                .create()
                .context("creating the Kafka consumer")?,
        );
        let topics: Vec<String> = self
            .subscriptions
            .iter()
            .map(|&t| self.config.topic(t))
            .collect();
        let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&topic_refs)
            .context("subscribing to topics")?;
        tracing::info!(group = %group_id, topics = ?topics, "consumer started");

        // The workers stop with the service, or with this session when its consumer fails.
        let stop = shutdown.child_token();
        let ctx = Arc::new(WorkerContext {
            consumer: consumer.clone(),
            producer: producer.clone(),
            config: self.config.clone(),
            handler: self.handler.clone(),
            retry: self.retry,
            group_id: group_id.clone(),
            shutdown: stop.clone(),
        });
        // One worker per partition, started on its first message: a partition whose message
        // is being retried holds up only itself, never a partition it may be waiting on.
        let mut workers: HashMap<(String, i32), mpsc::Sender<OwnedMessage>> = HashMap::new();
        let mut handles = Vec::new();

        // A partition whose queue is full is paused at the broker, its one message in hand kept
        // here, and resumed once the queue has room: the other partitions keep flowing.
        let mut paused: Vec<OwnedMessage> = Vec::new();

        // One timer for the whole session, ahead of `recv` in the select: a sleep made anew
        // on each pass would lose to `recv` for as long as any other partition delivers more
        // often than it fires, and a paused partition would never be resumed.
        let mut resume = tokio::time::interval(RESUME_EVERY);
        resume.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        let mut end = SessionEnd::Shutdown;
        let mut errors = ErrorLog::default();
        loop {
            let message = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                _ = resume.tick(), if !paused.is_empty() => {
                    paused = retry_paused(&consumer, &workers, std::mem::take(&mut paused));
                    continue;
                }
                m = consumer.recv() => m,
            };
            match message {
                Ok(m) => {
                    let owned = m.detach();
                    let slot = (owned.topic().to_owned(), owned.partition());
                    let sender = workers.entry(slot).or_insert_with(|| {
                        let (tx, rx) = mpsc::channel::<OwnedMessage>(WORKER_QUEUE);
                        handles.push(tokio::spawn(worker(ctx.clone(), rx)));
                        tx
                    });
                    match sender.try_send(owned) {
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Full(owned)) => {
                            let tpl = one_partition(owned.topic(), owned.partition());
                            if let Err(e) = consumer.pause(&tpl) {
                                tracing::warn!(error = %e, "pausing a partition failed");
                            }
                            paused.push(owned);
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => break,
                    }
                }
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

        drop(workers);
        for h in handles {
            let _ = h.await;
        }
        if matches!(end, SessionEnd::Shutdown) {
            match consumer.commit_consumer_state(CommitMode::Sync) {
                Ok(()) => {}
                Err(e) => tracing::debug!(error = %e, "final offset commit had nothing to do"),
            }
        }
        Ok(end)
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

/// Why a consumer's session ended.
enum SessionEnd {
    /// The service is shutting down.
    Shutdown,
    /// librdkafka raised a fatal error (its code and reason): this consumer can do no more.
    Fatal(String),
}

/// Messages queued per partition ahead of its worker.
const WORKER_QUEUE: usize = 256;

/// How often held messages of paused partitions are offered to their workers again.
const RESUME_EVERY: Duration = Duration::from_millis(20);

fn one_partition(topic: &str, partition: i32) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, partition);
    tpl
}

/// Hands held messages to their workers where there is room now, resuming their partitions.
/// Returns the ones still waiting.
fn retry_paused(
    consumer: &StreamConsumer,
    workers: &HashMap<(String, i32), mpsc::Sender<OwnedMessage>>,
    held: Vec<OwnedMessage>,
) -> Vec<OwnedMessage> {
    let mut still = Vec::new();
    for message in held {
        let slot = (message.topic().to_owned(), message.partition());
        let Some(sender) = workers.get(&slot) else {
            continue;
        };
        match sender.try_send(message) {
            Ok(()) => {
                if let Err(e) = consumer.resume(&one_partition(&slot.0, slot.1)) {
                    tracing::warn!(error = %e, topic = %slot.0, partition = slot.1, "resume failed");
                }
            }
            Err(mpsc::error::TrySendError::Full(message)) => still.push(message),
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
    still
}

struct WorkerContext {
    consumer: Arc<StreamConsumer>,
    producer: FutureProducer,
    config: KafkaConfig,
    handler: Arc<dyn Handler>,
    retry: RetryPolicy,
    group_id: String,
    shutdown: CancellationToken,
}

/// Most messages a worker applies as one batch. Only messages already queued are taken, so
/// batching never waits: under light load a batch is one message.
const MAX_BATCH: usize = 64;

async fn worker(ctx: Arc<WorkerContext>, mut rx: mpsc::Receiver<OwnedMessage>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        if ctx.shutdown.is_cancelled() {
            // Unstarted messages are left for the next owner of the partition.
            break;
        }
        batch.clear();
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        let done = process_batch(&ctx, &batch).await;
        for message in &batch[..done] {
            // `rd_kafka_offset_store` records `offset + 1`: the next message to read.
            if let Err(e) =
                ctx.consumer
                    .store_offset(message.topic(), message.partition(), message.offset())
            {
                // The partition was revoked meanwhile; its next owner re-reads this message.
                tracing::debug!(error = %e, "could not store offset");
            }
        }
        if done < batch.len() {
            break;
        }
    }
}

/// Handles a batch, atomically if the handler can; otherwise, or if that fails, message by
/// message. Returns how many messages, from the start, are done with.
async fn process_batch(ctx: &WorkerContext, batch: &[OwnedMessage]) -> usize {
    if batch.len() > 1 {
        let events: Option<Vec<(EventType, Envelope)>> = batch
            .iter()
            .map(|m| {
                let expected = ctx.config.event_type_of(m.topic())?;
                decode(m, expected).ok().map(|e| (expected, e))
            })
            .collect();
        if let Some(typed) = events {
            let (types, events): (Vec<EventType>, Vec<Envelope>) = typed.into_iter().unzip();
            let started = Instant::now();
            let outcomes = AssertUnwindSafe(ctx.handler.handle_batch(&events))
                .catch_unwind()
                .await
                .unwrap_or(None);
            if let Some(outcomes) = outcomes {
                let each = started.elapsed().as_secs_f64() / events.len() as f64;
                for (t, outcome) in types.iter().zip(&outcomes) {
                    metrics::HANDLE_SECONDS
                        .with_label_values(&[t.as_str()])
                        .observe(each);
                    metrics::EVENTS_HANDLED
                        .with_label_values(&[t.as_str(), outcome.as_str()])
                        .inc();
                }
                tracing::debug!(events = events.len(), "batch handled");
                return batch.len();
            }
        }
    }
    for (i, message) in batch.iter().enumerate() {
        if !process(ctx, message).await {
            return i;
        }
    }
    batch.len()
}

/// Handles one message. Returns true when it is done with (applied, duplicate or
/// dead-lettered) and its offset may be stored; false when shutdown interrupted it.
async fn process(ctx: &WorkerContext, message: &OwnedMessage) -> bool {
    let topic = message.topic();
    let Some(expected) = ctx.config.event_type_of(topic) else {
        tracing::error!(topic, "message from a topic this runner does not know");
        return true;
    };
    let event = match decode(message, expected) {
        Ok(event) => event,
        Err(e) => {
            tracing::warn!(topic, offset = message.offset(), error = %e, "undecodable message; dead-lettering");
            return dead_letter(
                ctx,
                message,
                expected,
                DlqReason::Undecodable,
                e.to_string(),
                0,
            )
            .await;
        }
    };
    let span = super::event_span(&event);
    span.record("partition", message.partition());
    span.record("offset", message.offset());
    let mut attempt = 0;
    loop {
        attempt += 1;
        let started = Instant::now();
        let result = AssertUnwindSafe(ctx.handler.handle(&event).instrument(span.clone()))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                let text = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "handler panicked".into());
                Err(HandlerError::Permanent(anyhow::anyhow!(
                    "handler panicked: {text}"
                )))
            });
        metrics::HANDLE_SECONDS
            .with_label_values(&[expected.as_str()])
            .observe(started.elapsed().as_secs_f64());
        let (reason, error) = match result.map_err(HandlerError::reclassified) {
            Ok(outcome) => {
                metrics::EVENTS_HANDLED
                    .with_label_values(&[expected.as_str(), outcome.as_str()])
                    .inc();
                span.in_scope(|| tracing::debug!(outcome = outcome.as_str(), "event handled"));
                return true;
            }
            Err(HandlerError::Permanent(e)) => (DlqReason::Permanent, e),
            Err(HandlerError::Unavailable(e)) => {
                // A dependency is down: nothing is wrong with the event. Wait for it as long
                // as it takes; the backoff stays at the policy's cap.
                let pause = ctx.retry.backoff(attempt);
                metrics::UNAVAILABLE_RETRIES
                    .with_label_values(&[expected.as_str()])
                    .inc();
                if attempt == 1 || pause >= ctx.retry.max_backoff.mul_f64(0.8) {
                    span.in_scope(|| {
                        tracing::warn!(attempt, error = %format!("{e:#}"), retry_in_ms = pause.as_millis() as u64, "a dependency is unavailable; retrying until it is back")
                    });
                }
                tokio::select! {
                    _ = tokio::time::sleep(pause) => continue,
                    _ = ctx.shutdown.cancelled() => return false,
                }
            }
            Err(HandlerError::Transient(e)) if attempt >= ctx.retry.max_attempts => {
                (DlqReason::RetriesExhausted, e)
            }
            Err(HandlerError::Transient(e)) => {
                let pause = ctx.retry.backoff(attempt);
                span.in_scope(|| {
                    tracing::info!(attempt, error = %format!("{e:#}"), retry_in_ms = pause.as_millis() as u64, "transient failure; retrying")
                });
                tokio::select! {
                    _ = tokio::time::sleep(pause) => continue,
                    _ = ctx.shutdown.cancelled() => return false,
                }
            }
        };
        let error = format!("{error:#}");
        span.in_scope(|| tracing::error!(attempt, error = %error, reason = reason.as_str(), "dead-lettering event"));
        return dead_letter(ctx, message, expected, reason, error, attempt).await;
    }
}

fn decode(message: &OwnedMessage, expected: EventType) -> Result<Envelope, DecodeError> {
    let body = message.payload().unwrap_or_default();
    let mut event = Envelope::decode(body)?;
    if event.event_type() != expected {
        return Err(DecodeError::UnknownEventType(format!(
            "{} (on topic {})",
            event.event_type(),
            message.topic()
        )));
    }
    event.traceparent = message.headers().and_then(|headers| {
        headers
            .iter()
            .find(|h| h.key == HEADER_TRACEPARENT)
            .and_then(|h| h.value)
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.parse().ok())
    });
    Ok(event)
}

async fn dead_letter(
    ctx: &WorkerContext,
    message: &OwnedMessage,
    event_type: EventType,
    reason: DlqReason,
    error: String,
    attempts: u32,
) -> bool {
    metrics::EVENTS_DEAD_LETTERED
        .with_label_values(&[event_type.as_str(), reason.as_str()])
        .inc();
    let letter = DeadLetter {
        message,
        dlq_topic: ctx.config.dlq_topic(event_type),
        reason,
        error,
        attempts,
        group_id: &ctx.group_id,
    };
    dlq::publish(&ctx.producer, letter, &ctx.shutdown).await
}
