//! One transaction for what several partitions have queued (a group commit).
//!
//! A partition worker already applies the messages queued on its partition as one batch. Under
//! load, though, the messages of a fetch are spread over many partitions, a few on each, and
//! each worker's batch paid for its own transaction and its own commit (an fsync). With a
//! handler that can batch ([`Handler::batches`]), the workers hand their batches to the
//! session's committer instead. The committer takes every batch handed in by the time it is
//! free, joins them (each batch whole and in its partition's order, so every key keeps its
//! order) and offers the lot to [`Handler::handle_batch`]: one transaction, one commit.
//!
//! One group is applied at a time; batches handed in meanwhile form the next group, so the
//! busier the service, the larger its groups. A lone message is handed straight back
//! ([`Verdict::Alone`]) to take the usual path. A group that fails changes nothing; its
//! workers then go on as before, each with its own batch as one and then message by message,
//! where retries and dead-lettering happen ([`super::worker`]).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{Handler, Outcome};
use saga_contracts::envelope::Envelope;

/// Most events the committer joins into one group. A worker's batch is never split: a group
/// may go past this by the last batch it takes.
const MAX_GROUP: usize = 256;

/// What became of a batch handed to the committer.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Applied with the rest of its group: each event's outcome, in the batch's order.
    Applied(Vec<Outcome>),
    /// Not tried: the group would have been this one message alone.
    Alone,
    /// Its group failed, and nothing of it changed. `shared`: other batches were in the group,
    /// so this batch on its own may still go through as one.
    Failed { shared: bool },
}

/// A worker's batch, waiting for its group.
struct Handed {
    /// The batch's events, decoded, in its partition's order.
    events: Vec<Envelope>,
    /// The worker's stop token: a batch whose worker has stopped is left out.
    stop: CancellationToken,
    /// Where the verdict goes.
    verdict: oneshot::Sender<Verdict>,
}

/// The workers' way to the session's committer.
#[derive(Clone)]
pub(super) struct Group {
    /// The committer's queue.
    tx: mpsc::UnboundedSender<Handed>,
}

impl Group {
    /// Starts the committer of `handler`. It ends once every [`Group`] handle is dropped and
    /// the group in hand is done; [`Committer::stop`] ends it sooner.
    pub(super) fn start(handler: Arc<dyn Handler>) -> (Group, Committer) {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(commit_groups(handler, rx));
        (Group { tx }, Committer { task })
    }

    /// Hands `events` (one partition's batch, in order) to the committer and waits for its
    /// verdict. A committer that has gone (the session is ending) leaves the batch untried.
    pub(super) async fn apply(&self, events: Vec<Envelope>, stop: &CancellationToken) -> Verdict {
        let (verdict, answer) = oneshot::channel();
        let handed = Handed {
            events,
            stop: stop.clone(),
            verdict,
        };
        if self.tx.send(handed).is_err() {
            return Verdict::Failed { shared: false };
        }
        answer.await.unwrap_or(Verdict::Failed { shared: false })
    }
}

/// The committer's task, for the session to end.
pub(super) struct Committer {
    task: JoinHandle<()>,
}

impl Committer {
    /// Ends the committer, once the workers have drained. A group still in hand belongs to
    /// workers that gave up on it within their grace: it is dropped, and its transaction with
    /// it (rolled back, or committed just before; either way the batches' offsets were not
    /// stored, and the inbox makes the messages' second handling a no-op).
    pub(super) async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// The committer: one group at a time, of everything handed in by then.
async fn commit_groups(handler: Arc<dyn Handler>, mut rx: mpsc::UnboundedReceiver<Handed>) {
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        let mut events = group[0].events.len();
        while events < MAX_GROUP {
            match rx.try_recv() {
                Ok(next) => {
                    events += next.events.len();
                    group.push(next);
                }
                Err(_) => break,
            }
        }
        // A worker that stopped (its partition revoked, say) no longer wants its batch applied.
        group.retain(|h| !h.stop.is_cancelled() && !h.verdict.is_closed());
        apply(handler.as_ref(), group).await;
    }
}

/// Applies `group` as one and tells each of its workers the verdict.
async fn apply(handler: &dyn Handler, mut group: Vec<Handed>) {
    let lengths: Vec<usize> = group.iter().map(|h| h.events.len()).collect();
    let total: usize = lengths.iter().sum();
    if total == 0 {
        return;
    }
    if total == 1 {
        let _ = group.pop().expect("one batch").verdict.send(Verdict::Alone);
        return;
    }
    let events: Vec<Envelope> = group
        .iter_mut()
        .flat_map(|h| std::mem::take(&mut h.events))
        .collect();
    let call = AssertUnwindSafe(handler.handle_batch(&events)).catch_unwind();
    let outcomes = call.await.ok().flatten().filter(|o| o.len() == total);
    tracing::debug!(
        events = total,
        batches = group.len(),
        applied = outcomes.is_some(),
        "group handled"
    );
    let shared = group.len() > 1;
    match outcomes {
        Some(outcomes) => {
            let mut rest = outcomes.into_iter();
            for (handed, n) in group.into_iter().zip(lengths) {
                let mine: Vec<Outcome> = rest.by_ref().take(n).collect();
                let _ = handed.verdict.send(Verdict::Applied(mine));
            }
        }
        None => {
            for handed in group {
                let _ = handed.verdict.send(Verdict::Failed { shared });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use saga_contracts::events::CustomerCreated;
    use uuid::Uuid;

    use super::*;
    use crate::consumer::HandlerError;

    /// Records each call's events; fails a batch holding the event named `poison`.
    #[derive(Default)]
    struct Recorder {
        calls: Mutex<Vec<Vec<Uuid>>>,
        poison: Option<Uuid>,
    }

    #[async_trait]
    impl Handler for Recorder {
        async fn handle(&self, _event: &Envelope) -> Result<Outcome, HandlerError> {
            Ok(Outcome::Applied)
        }

        fn batches(&self) -> bool {
            true
        }

        async fn handle_batch(&self, events: &[Envelope]) -> Option<Vec<Outcome>> {
            let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
            self.calls.lock().unwrap().push(ids.clone());
            if self.poison.is_some_and(|p| ids.contains(&p)) {
                return None;
            }
            Some(vec![Outcome::Applied; events.len()])
        }
    }

    fn event() -> Envelope {
        Envelope::new(
            "customer",
            CustomerCreated {
                customer_id: Uuid::now_v7(),
                name: "n".into(),
                email: "e@example.com".into(),
                credit_limit: "10.00".parse().unwrap(),
            },
        )
    }

    fn ids(events: &[Envelope]) -> Vec<Uuid> {
        events.iter().map(|e| e.event_id).collect()
    }

    #[tokio::test]
    async fn batches_handed_in_together_are_applied_as_one_in_order() {
        let handler = Arc::new(Recorder::default());
        let (group, committer) = Group::start(handler.clone());
        let stop = CancellationToken::new();
        let (a, b) = (vec![event(), event()], vec![event()]);
        let (va, vb) = tokio::join!(group.apply(a.clone(), &stop), group.apply(b.clone(), &stop));
        assert_eq!(va, Verdict::Applied(vec![Outcome::Applied; 2]));
        assert_eq!(vb, Verdict::Applied(vec![Outcome::Applied]));
        let calls = handler.calls.lock().unwrap().clone();
        // Both batches in one call, each whole and in order.
        assert_eq!(calls, vec![[ids(&a), ids(&b)].concat()]);
        committer.stop().await;
    }

    #[tokio::test]
    async fn a_lone_message_takes_the_usual_path_and_a_failed_group_says_so() {
        let poison = event();
        let handler = Arc::new(Recorder {
            poison: Some(poison.event_id),
            ..Recorder::default()
        });
        let (group, committer) = Group::start(handler.clone());
        let stop = CancellationToken::new();
        assert_eq!(group.apply(vec![event()], &stop).await, Verdict::Alone);
        assert!(handler.calls.lock().unwrap().is_empty());

        let (va, vb) = tokio::join!(
            group.apply(vec![poison.clone()], &stop),
            group.apply(vec![event(), event()], &stop)
        );
        assert_eq!(va, Verdict::Failed { shared: true });
        assert_eq!(vb, Verdict::Failed { shared: true });
        assert_eq!(
            group.apply(vec![poison.clone(), event()], &stop).await,
            Verdict::Failed { shared: false }
        );

        // A stopped worker's batch is left out of its group.
        let stopped = CancellationToken::new();
        stopped.cancel();
        let before = handler.calls.lock().unwrap().len();
        let (vs, vl) = tokio::join!(
            group.apply(vec![event(), event()], &stopped),
            group.apply(vec![event()], &stop)
        );
        assert_eq!(vl, Verdict::Alone);
        assert_eq!(vs, Verdict::Failed { shared: false });
        assert_eq!(handler.calls.lock().unwrap().len(), before);
        committer.stop().await;
    }
}
