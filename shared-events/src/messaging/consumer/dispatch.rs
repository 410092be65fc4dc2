//! Routing: each message goes to its partition's worker, started on the partition's first
//! message. A partition whose worker's queue is full is paused at the broker, its one message
//! in hand held here, and resumed once the queue has room: the other partitions keep flowing.

use std::collections::HashMap;
use std::sync::Arc;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::TopicPartitionList;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::worker::{self, WorkerContext};

/// Messages queued per partition ahead of its worker.
const WORKER_QUEUE: usize = 256;

/// The queue of each partition's worker, by topic and partition.
type Workers = HashMap<(String, i32), mpsc::Sender<OwnedMessage>>;

/// Where a message went.
pub(super) enum Routed {
    /// Queued for its partition's worker, or held while its partition is paused.
    Taken,
    /// Its worker has stopped (shutdown interrupted it): the session is ending.
    WorkerGone,
}

/// The partition workers of one session and the messages held for paused partitions.
pub(super) struct Dispatch {
    /// What every worker shares; a worker started later gets it too.
    ctx: Arc<WorkerContext>,
    /// One worker per partition, started on its first message: a partition whose message
    /// is being retried holds up only itself, never a partition it may be waiting on.
    workers: Workers,
    /// The workers' tasks, awaited when the session drains.
    handles: Vec<JoinHandle<()>>,
    /// One message per paused partition, the one that found its queue full: it goes first
    /// when the partition resumes, so the partition's order is kept.
    paused: Vec<OwnedMessage>,
}

impl Dispatch {
    /// No workers yet: each starts with its partition's first message.
    pub(super) fn new(ctx: Arc<WorkerContext>) -> Self {
        Dispatch {
            ctx,
            workers: HashMap::new(),
            handles: Vec::new(),
            paused: Vec::new(),
        }
    }

    /// Whether some partition is paused with a message held, so resuming is worth trying.
    pub(super) fn holds_messages(&self) -> bool {
        !self.paused.is_empty()
    }

    /// Queues `message` for its partition's worker, starting the worker if need be; pauses
    /// the partition and holds the message if the queue is full.
    pub(super) fn route(&mut self, message: OwnedMessage) -> Routed {
        let slot = (message.topic().to_owned(), message.partition());
        let sender = self.workers.entry(slot).or_insert_with(|| {
            let (tx, rx) = mpsc::channel::<OwnedMessage>(WORKER_QUEUE);
            self.handles
                .push(tokio::spawn(worker::run(self.ctx.clone(), rx)));
            tx
        });
        match sender.try_send(message) {
            Ok(()) => Routed::Taken,
            Err(mpsc::error::TrySendError::Full(message)) => {
                let tpl = one_partition(message.topic(), message.partition());
                if let Err(e) = self.ctx.consumer.pause(&tpl) {
                    tracing::warn!(error = %e, "pausing a partition failed");
                }
                self.paused.push(message);
                Routed::Taken
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Routed::WorkerGone,
        }
    }

    /// Hands held messages to their workers where there is room now, resuming their
    /// partitions; the others stay held.
    pub(super) fn retry_paused(&mut self) {
        self.paused = retry_paused(
            &self.ctx.consumer,
            &self.workers,
            std::mem::take(&mut self.paused),
        );
    }

    /// Closes every worker's queue and waits for the workers: each finishes the message in
    /// hand (or is interrupted by shutdown) and stores its offsets before the final commit.
    pub(super) async fn drain(self) {
        drop(self.workers);
        for h in self.handles {
            let _ = h.await;
        }
    }
}

/// A partition list of one partition, for pausing and resuming it.
fn one_partition(topic: &str, partition: i32) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, partition);
    tpl
}

/// Hands held messages to their workers where there is room now, resuming their partitions.
/// Returns the ones still waiting.
fn retry_paused(
    consumer: &StreamConsumer,
    workers: &Workers,
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
