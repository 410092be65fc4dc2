//! The worker of one partition: takes its messages in order, in batches of those already
//! queued, and stores each message's offset only once the message is done with.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures::FutureExt;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::producer::FutureProducer;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::attempt::{self, MessageEnd};
use super::{Handler, RetryPolicy};
use crate::contracts::envelope::Envelope;
use crate::contracts::events::EventType;
use crate::messaging::config::KafkaConfig;
use crate::messaging::metrics;

/// What every partition worker of a session shares.
pub(super) struct WorkerContext {
    /// The session's consumer, where a worker stores the offsets of the messages it is done
    /// with; the dispatcher pauses and resumes partitions on it too.
    pub(super) consumer: Arc<StreamConsumer>,
    /// Publishes dead letters. The runner's, shared by its sessions, so letters still in
    /// flight when a consumer fails are flushed at the end.
    pub(super) producer: FutureProducer,
    /// Maps a message's topic to the event type expected on it, and names its dead-letter
    /// topic.
    pub(super) config: KafkaConfig,
    /// Applies the events.
    pub(super) handler: Arc<dyn Handler>,
    /// How transient failures are retried before dead-lettering.
    pub(super) retry: RetryPolicy,
    /// The consumer group, recorded in each dead letter's headers so an operator knows who
    /// gave up on it.
    pub(super) group_id: String,
    /// Cancelled when the service shuts down or the session's consumer failed: retries and
    /// dead-letter publishing stop waiting, and the interrupted message's offset is not
    /// stored.
    pub(super) shutdown: CancellationToken,
}

/// Most messages a worker applies as one batch. Only messages already queued are taken, so
/// batching never waits: under light load a batch is one message.
const MAX_BATCH: usize = 64;

/// How handling a batch ended.
enum BatchEnd {
    /// Every message of the batch is done with.
    Done,
    /// Shutdown interrupted the message after the first `done`, which are done with.
    Interrupted {
        /// How many messages, from the start, are done with.
        done: usize,
    },
}

/// A partition's worker: handles its messages in order until its queue is closed or shutdown
/// interrupts it.
pub(super) async fn run(ctx: Arc<WorkerContext>, mut rx: mpsc::Receiver<OwnedMessage>) {
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
        let end = process_batch(&ctx, &batch).await;
        let done = match end {
            BatchEnd::Done => batch.len(),
            BatchEnd::Interrupted { done } => done,
        };
        store_offsets(&ctx.consumer, &batch[..done]);
        if let BatchEnd::Interrupted { .. } = end {
            break;
        }
    }
}

/// Stores the offsets of `messages`, which are done with: the next commit includes them.
fn store_offsets(consumer: &StreamConsumer, messages: &[OwnedMessage]) {
    for message in messages {
        // `rd_kafka_offset_store` records `offset + 1`: the next message to read.
        if let Err(e) =
            consumer.store_offset(message.topic(), message.partition(), message.offset())
        {
            // The partition was revoked meanwhile; its next owner re-reads this message.
            tracing::debug!(error = %e, "could not store offset");
        }
    }
}

/// Handles a batch, atomically if the handler can; otherwise, or if that fails, message by
/// message.
async fn process_batch(ctx: &WorkerContext, batch: &[OwnedMessage]) -> BatchEnd {
    if batch.len() > 1 && applied_as_one(ctx, batch).await {
        return BatchEnd::Done;
    }
    for (i, message) in batch.iter().enumerate() {
        if let MessageEnd::Interrupted = attempt::process(ctx, message).await {
            return BatchEnd::Interrupted { done: i };
        }
    }
    BatchEnd::Done
}

/// Offers the whole batch to [`Handler::handle_batch`]. True when it was applied as one;
/// false when some message does not decode, or the handler does not batch, failed or panicked
/// (nothing changed then).
async fn applied_as_one(ctx: &WorkerContext, batch: &[OwnedMessage]) -> bool {
    let events: Option<Vec<(EventType, Envelope)>> = batch
        .iter()
        .map(|m| {
            let expected = ctx.config.event_type_of(m.topic())?;
            attempt::decode(m, expected).ok().map(|e| (expected, e))
        })
        .collect();
    let Some(typed) = events else {
        return false;
    };
    let (types, events): (Vec<EventType>, Vec<Envelope>) = typed.into_iter().unzip();
    let started = Instant::now();
    let outcomes = AssertUnwindSafe(ctx.handler.handle_batch(&events))
        .catch_unwind()
        .await
        .unwrap_or(None);
    let Some(outcomes) = outcomes else {
        return false;
    };
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
    true
}
