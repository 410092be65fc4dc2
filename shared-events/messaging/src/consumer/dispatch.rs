//! Routing: each message goes to its partition's worker, started on the partition's first
//! message. A partition whose worker's queue is full is paused at the broker, its one message
//! in hand held here, and resumed once the queue has room: the other partitions keep flowing.
//!
//! A revoked partition's worker is stopped by the rebalance callback (see
//! [`super::rebalance`]); the dispatch then drops the message it holds for that partition and
//! starts a fresh worker if the partition comes back. A worker that dies (its task panicked)
//! is reported by [`Dispatch::next_death`], and the session ends with it.

use std::collections::HashMap;
use std::sync::Arc;

use rdkafka::consumer::Consumer;
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::TopicPartitionList;
use tokio::sync::mpsc;
use tokio::task::{Id, JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

use super::attempt::panic_text;
use super::rebalance::{PartitionStops, SessionConsumer, Slot};
use super::worker;
use super::WorkerContext;

/// Messages queued per partition ahead of its worker.
const WORKER_QUEUE: usize = 256;

/// A partition's current worker, as the dispatch sees it.
struct Worker {
    /// Its queue.
    tx: mpsc::Sender<OwnedMessage>,
    /// Its stop token: cancelled by the partition's revocation, or with the session's.
    stop: CancellationToken,
}

/// A message held while its partition is paused, and the worker it is meant for.
struct Held {
    /// The message that found its worker's queue full.
    message: OwnedMessage,
    /// That worker's stop token: once it is cancelled (the partition revoked), the message is
    /// dropped, its offset unstored.
    stop: CancellationToken,
}

/// A partition worker whose task ended other than by being told to stop: it panicked.
#[derive(Debug)]
pub(super) struct DeadWorker {
    /// The topic of its partition.
    pub(super) topic: String,
    /// Its partition.
    pub(super) partition: i32,
    /// What it died of: the panic's message.
    pub(super) panic: String,
}

/// The partition workers of one session and the messages held for paused partitions.
pub(super) struct Dispatch {
    /// What every worker shares; a worker started later gets it too.
    ctx: Arc<WorkerContext>,
    /// The session's stop token: each worker's token is a child of it.
    stop: CancellationToken,
    /// The workers' stop tokens, shared with the rebalance callback that cancels them.
    stops: Arc<PartitionStops>,
    /// One worker per partition, started on its first message: a partition whose message
    /// is being retried holds up only itself, never a partition it may be waiting on.
    workers: HashMap<Slot, Worker>,
    /// The workers' tasks: those still running, and stopped ones not yet reaped.
    tasks: JoinSet<()>,
    /// The partition each task serves, by task id, to name a worker that died.
    slots: HashMap<Id, Slot>,
    /// One message per paused partition, the one that found its queue full: it goes first
    /// when the partition resumes, so the partition's order is kept.
    paused: Vec<Held>,
}

impl Dispatch {
    /// No workers yet: each starts with its partition's first message, stopped by `stop` (the
    /// session's) or by its partition's revocation through `stops`.
    pub(super) fn new(
        ctx: Arc<WorkerContext>,
        stop: CancellationToken,
        stops: Arc<PartitionStops>,
    ) -> Self {
        Dispatch {
            ctx,
            stop,
            stops,
            workers: HashMap::new(),
            tasks: JoinSet::new(),
            slots: HashMap::new(),
            paused: Vec::new(),
        }
    }

    /// Whether some partition is paused with a message held, so resuming is worth trying.
    pub(super) fn holds_messages(&self) -> bool {
        !self.paused.is_empty()
    }

    /// Queues `message` for its partition's worker, starting the worker if need be (or
    /// anew, if the partition was revoked since); pauses the partition and holds the message
    /// if the queue is full.
    pub(super) fn route(&mut self, message: OwnedMessage) {
        let slot = (message.topic().to_owned(), message.partition());
        if self
            .workers
            .get(&slot)
            .is_some_and(|w| w.stop.is_cancelled())
        {
            // Revoked, and assigned again: the old worker drops what it has queued (fetched
            // before the revocation); this message comes from the committed offset.
            self.workers.remove(&slot);
        }
        let worker = match self.workers.entry(slot) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let slot = e.key().clone();
                let (tx, rx) = mpsc::channel::<OwnedMessage>(WORKER_QUEUE);
                let stop = self.stop.child_token();
                self.stops.register(slot.clone(), stop.clone());
                let task = self
                    .tasks
                    .spawn(worker::run(self.ctx.clone(), stop.clone(), rx));
                self.slots.insert(task.id(), slot);
                e.insert(Worker { tx, stop })
            }
        };
        match worker.tx.try_send(message) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(message)) => {
                let tpl = one_partition(message.topic(), message.partition());
                if let Err(e) = self.ctx.consumer.pause(&tpl) {
                    tracing::warn!(error = %e, "pausing a partition failed");
                }
                self.paused.push(Held {
                    message,
                    stop: worker.stop.clone(),
                });
            }
            Err(mpsc::error::TrySendError::Closed(message)) => {
                // Its worker is gone: stopped with the session (which is ending), or dead,
                // which `next_death` reports. Unstored, the message is read again by the
                // partition's next owner.
                tracing::debug!(
                    topic = message.topic(),
                    partition = message.partition(),
                    "the partition's worker has ended; message left unhandled"
                );
            }
        }
    }

    /// Hands held messages to their workers where there is room now, resuming their
    /// partitions; the others stay held. A message held for a revoked partition is dropped,
    /// and the partition resumed, so that it is fetched again if it comes back.
    pub(super) fn retry_paused(&mut self) {
        let mut still = Vec::new();
        for held in std::mem::take(&mut self.paused) {
            let (topic, partition) = (held.message.topic(), held.message.partition());
            if held.stop.is_cancelled() {
                resume(&self.ctx.consumer, topic, partition);
                continue;
            }
            let slot = (topic.to_owned(), partition);
            let Some(worker) = self.workers.get(&slot) else {
                continue;
            };
            match worker.tx.try_send(held.message) {
                Ok(()) => resume(&self.ctx.consumer, &slot.0, slot.1),
                Err(mpsc::error::TrySendError::Full(message)) => still.push(Held {
                    message,
                    stop: held.stop,
                }),
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        self.paused = still;
    }

    /// Waits for a worker to die (its task to panic) and names it; never returns while the
    /// workers live. A worker that ended because it was told to stop is reaped quietly.
    /// Cancel-safe: it can lose a `select!`.
    pub(super) async fn next_death(&mut self) -> DeadWorker {
        loop {
            match self.tasks.join_next_with_id().await {
                None => std::future::pending::<()>().await,
                Some(Ok((id, ()))) => {
                    self.slots.remove(&id);
                }
                Some(Err(e)) => return self.dead(e),
            }
        }
    }

    /// Closes every worker's queue and waits for the workers: each finishes the message in
    /// hand (within the grace, if it was told to stop) and stores its offsets before the
    /// final commit. Returns the first worker found dead, if any.
    pub(super) async fn drain(mut self) -> Option<DeadWorker> {
        self.workers.clear();
        let mut first = None;
        while let Some(joined) = self.tasks.join_next_with_id().await {
            if let Err(e) = joined {
                let dead = self.dead(e);
                tracing::error!(topic = %dead.topic, partition = dead.partition, panic = %dead.panic, "a partition worker died");
                first.get_or_insert(dead);
            }
        }
        first
    }

    /// The worker whose task ended with `error`.
    fn dead(&mut self, error: JoinError) -> DeadWorker {
        let (topic, partition) = self
            .slots
            .remove(&error.id())
            .unwrap_or_else(|| ("?".to_owned(), -1));
        let panic = if error.is_panic() {
            panic_text(error.into_panic().as_ref())
        } else {
            error.to_string()
        };
        DeadWorker {
            topic,
            partition,
            panic,
        }
    }
}

/// A partition list of one partition, for pausing and resuming it.
fn one_partition(topic: &str, partition: i32) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, partition);
    tpl
}

/// Resumes fetching a partition paused by the dispatch.
fn resume(consumer: &SessionConsumer, topic: &str, partition: i32) {
    if let Err(e) = consumer.resume(&one_partition(topic, partition)) {
        tracing::warn!(error = %e, topic, partition, "resume failed");
    }
}
