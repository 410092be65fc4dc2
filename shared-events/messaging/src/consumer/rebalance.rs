//! Rebalances: when the group takes partitions away from this consumer, their workers stop at
//! once instead of applying their queued messages beside the partitions' new owners.
//!
//! librdkafka calls the rebalance callback on the thread polling the consumer (inside
//! `recv()`, in the session's task), so the callback only cancels tokens: each partition's
//! worker has one, registered by the dispatch when it starts the worker. A stopped worker
//! finishes the message in hand, stores no offset for the rest of its queue, and the dispatch
//! starts a fresh worker if the partition comes back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::ClientContext;
use tokio_util::sync::CancellationToken;

/// The consumer of a session: a [`StreamConsumer`] whose rebalances stop revoked partitions'
/// workers.
pub(super) type SessionConsumer = StreamConsumer<RebalanceContext>;

/// A partition, by topic and number.
pub(super) type Slot = (String, i32);

/// The stop token of each partition's current worker, shared by the dispatch (which registers
/// a token when it starts a worker) and the rebalance callback (which cancels the tokens of
/// revoked partitions).
#[derive(Default)]
pub(super) struct PartitionStops {
    /// The tokens, by partition.
    tokens: Mutex<HashMap<Slot, CancellationToken>>,
}

impl PartitionStops {
    /// Records `token` as the stop token of the worker now serving `slot`.
    pub(super) fn register(&self, slot: Slot, token: CancellationToken) {
        self.lock().insert(slot, token);
    }

    /// Cancels the tokens of `slots`' workers, and forgets them: each of those workers finishes
    /// the message in hand and stops.
    pub(super) fn revoke<'a>(&self, slots: impl IntoIterator<Item = (&'a str, i32)>) {
        let mut tokens = self.lock();
        for (topic, partition) in slots {
            let Some(token) = tokens.remove(&(topic.to_owned(), partition)) else {
                continue;
            };
            // Already cancelled: the session is ending and its consumer closing.
            if !token.is_cancelled() {
                tracing::info!(
                    topic,
                    partition,
                    "partition revoked; its worker stops after the message in hand"
                );
                token.cancel();
            }
        }
    }

    /// The map, even if a thread panicked holding it: the tokens stay valid.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Slot, CancellationToken>> {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The session consumer's context: on a revocation, stops the revoked partitions' workers.
pub(super) struct RebalanceContext {
    /// The workers' stop tokens, shared with the dispatch.
    stops: Arc<PartitionStops>,
}

impl RebalanceContext {
    /// A context that stops the workers registered in `stops`.
    pub(super) fn new(stops: Arc<PartitionStops>) -> Self {
        RebalanceContext { stops }
    }
}

impl ClientContext for RebalanceContext {}

impl ConsumerContext for RebalanceContext {
    /// Runs before librdkafka gives the partitions up (and, with auto-commit, commits their
    /// stored offsets): only cancels tokens, never blocks the polling thread.
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            let elements = tpl.elements();
            self.stops
                .revoke(elements.iter().map(|e| (e.topic(), e.partition())));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoking_cancels_only_the_revoked_partitions_workers() {
        let stops = PartitionStops::default();
        let (a0, a1, b0) = (
            CancellationToken::new(),
            CancellationToken::new(),
            CancellationToken::new(),
        );
        stops.register(("a".into(), 0), a0.clone());
        stops.register(("a".into(), 1), a1.clone());
        stops.register(("b".into(), 0), b0.clone());
        stops.revoke([("a", 1), ("b", 0), ("c", 7)]);
        assert!(!a0.is_cancelled());
        assert!(a1.is_cancelled() && b0.is_cancelled());

        // A fresh worker for a partition assigned again is not cancelled by the old revocation,
        // and a second revocation reaches it.
        let again = CancellationToken::new();
        stops.register(("a".into(), 1), again.clone());
        assert!(!again.is_cancelled());
        stops.revoke([("a", 1)]);
        assert!(again.is_cancelled());
    }
}
