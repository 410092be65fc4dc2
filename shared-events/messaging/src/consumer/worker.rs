//! The worker of one partition: takes its messages in order, in batches of those already
//! queued, and stores each message's offset only once the message is done with. Each worker
//! has its own stop token, cancelled by shutdown, a failed consumer, or the revocation of its
//! partition.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures::FutureExt;
use rdkafka::consumer::Consumer;
use rdkafka::message::{Message, OwnedMessage};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::attempt;
use super::grace::{within_grace, GRACE};
use super::group::Verdict;
use super::rebalance::SessionConsumer;
use super::{MessageEnd, Outcome, WorkerContext};
use crate::metrics;
use saga_contracts::envelope::Envelope;
use saga_contracts::events::EventType;

/// Most messages a worker applies as one batch. Only messages already queued are taken, so
/// batching never waits: under light load a batch is one message.
const MAX_BATCH: usize = 64;

/// How handling a batch ended.
enum BatchEnd {
    /// Every message of the batch is done with, and its offset stored.
    Done,
    /// The worker was told to stop: the messages done with have their offsets stored, the
    /// others are left for the partition's next owner.
    Interrupted,
}

/// A partition's worker: handles its messages in order until its queue is closed or `stop`
/// (cancelled by shutdown, a failed consumer, or the partition's revocation) ends it. Told to
/// stop, it finishes the message in hand (within the grace) and drops the rest of its queue,
/// their offsets unstored.
pub(super) async fn run(
    ctx: Arc<WorkerContext>,
    stop: CancellationToken,
    mut rx: mpsc::Receiver<OwnedMessage>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let first = tokio::select! {
            biased;
            // Unstarted messages are left for the next owner of the partition.
            _ = stop.cancelled() => break,
            first = rx.recv() => match first {
                Some(first) => first,
                None => break,
            },
        };
        batch.clear();
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        if let BatchEnd::Interrupted = process_batch(&ctx, &stop, &batch).await {
            break;
        }
    }
}

/// Stores the offsets of `messages`, which are done with: the next commit includes them.
fn store_offsets(consumer: &SessionConsumer, messages: &[OwnedMessage]) {
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

/// Handles a batch, atomically if the handler can: with the batches of other partitions
/// ([`super::group`]), else on its own; otherwise, or if that fails, message by message,
/// storing each one's offset as soon as it is done with: a revocation in the middle of the
/// batch then leaves only the message in hand to the next owner.
async fn process_batch(
    ctx: &WorkerContext,
    stop: &CancellationToken,
    batch: &[OwnedMessage],
) -> BatchEnd {
    let decoded = decode_all(ctx, batch);
    let mut as_one = batch.len() > 1;
    if let (Some(group), Some((types, events))) = (&ctx.group, &decoded) {
        let started = Instant::now();
        let verdict = within_grace(stop, GRACE, group.apply(events.clone(), stop)).await;
        match verdict {
            None => return BatchEnd::Interrupted,
            Some(Verdict::Applied(outcomes)) => {
                record(types, &outcomes, started);
                store_offsets(&ctx.consumer, batch);
                return BatchEnd::Done;
            }
            Some(Verdict::Alone) => {}
            // The batch failed alone: as one, it would again.
            Some(Verdict::Failed { shared: false }) => as_one = false,
            Some(Verdict::Failed { shared: true }) => {}
        }
    }
    if let (true, Some((types, events))) = (as_one, &decoded) {
        match applied_as_one(ctx, stop, types, events).await {
            Some(true) => {
                store_offsets(&ctx.consumer, batch);
                return BatchEnd::Done;
            }
            Some(false) => {}
            None => return BatchEnd::Interrupted,
        }
    }
    for message in batch {
        if stop.is_cancelled() {
            return BatchEnd::Interrupted;
        }
        match attempt::process(ctx, stop, message).await {
            MessageEnd::Done => store_offsets(&ctx.consumer, std::slice::from_ref(message)),
            MessageEnd::Interrupted => return BatchEnd::Interrupted,
        }
    }
    BatchEnd::Done
}

/// The batch's events and their types, if the handler batches and every message decodes (a
/// message that does not is left to [`attempt::process`], which dead-letters it).
fn decode_all(
    ctx: &WorkerContext,
    batch: &[OwnedMessage],
) -> Option<(Vec<EventType>, Vec<Envelope>)> {
    if !ctx.handler.batches() {
        return None;
    }
    let typed: Vec<(EventType, Envelope)> = batch
        .iter()
        .map(|m| {
            let expected = ctx.config.event_type_of(m.topic())?;
            attempt::decode(m, expected).ok().map(|e| (expected, e))
        })
        .collect::<Option<_>>()?;
    Some(typed.into_iter().unzip())
}

/// Offers the whole batch to [`Handler::handle_batch`](super::Handler::handle_batch). True
/// when it was applied as one; false when the handler failed or panicked (nothing changed
/// then); `None` when the worker was told to stop and the call did not end within the grace.
async fn applied_as_one(
    ctx: &WorkerContext,
    stop: &CancellationToken,
    types: &[EventType],
    events: &[Envelope],
) -> Option<bool> {
    let started = Instant::now();
    let call = AssertUnwindSafe(ctx.handler.handle_batch(events)).catch_unwind();
    let Some(outcomes) = within_grace(stop, GRACE, call).await?.unwrap_or(None) else {
        return Some(false);
    };
    record(types, &outcomes, started);
    tracing::debug!(events = events.len(), "batch handled");
    Some(true)
}

/// Counts the events of a batch applied as one, sharing the time since `started` out evenly.
fn record(types: &[EventType], outcomes: &[Outcome], started: Instant) {
    let each = started.elapsed().as_secs_f64() / types.len().max(1) as f64;
    for (t, outcome) in types.iter().zip(outcomes) {
        metrics::HANDLE_SECONDS
            .with_label_values(&[t.as_str()])
            .observe(each);
        metrics::EVENTS_HANDLED
            .with_label_values(&[t.as_str(), outcome.as_str()])
            .inc();
    }
}
