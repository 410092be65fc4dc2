//! The idempotent-consumer runtime.
//!
//! A service implements [`Handler`] (usually through a store adapter such as
//! [`crate::postgres::PgIdempotent`], which supplies the atomic "effect + inbox record" step)
//! and hands it to a [`ConsumerRunner`], which owns everything else: subscription, decoding,
//! tracing, retries with backoff, dead-lettering, offset storage and shutdown.
//!
//! The runner's parts, outermost first: `runner` (set-up, each consumer's session, restarts,
//! dropping unsent dead letters at the end), `rebalance` (stopping the workers of revoked
//! partitions), `dispatch` (routing to the partition workers, pausing a full partition,
//! noticing a dead worker), `worker` (one partition, in batches, storing offsets), `group`
//! (one transaction for the batches of several partitions), `attempt` (one message: decode, retries, panics), `dlq` (dead letters) and `grace` (how long work in
//! flight may go on once its worker is told to stop); `error` says why a runner stopped other
//! than by shutdown. What several of them share is here: the [`Handler`] they call, how
//! handling one message ends (`MessageEnd`) and what every partition worker of a session
//! holds (`WorkerContext`).

mod attempt;
mod classify;
mod dispatch;
mod dlq;
mod error;
mod grace;
mod group;
mod rebalance;
mod retry;
mod runner;
mod worker;

use std::sync::Arc;

use async_trait::async_trait;
use rdkafka::producer::FutureProducer;

use crate::config::KafkaConfig;
use rebalance::SessionConsumer;
use saga_contracts::envelope::Envelope;

pub use classify::{classify, ErrorClass};
pub use dlq::{
    DlqReason, HEADER_DLQ_ATTEMPTS, HEADER_DLQ_CONSUMER_GROUP, HEADER_DLQ_ERROR,
    HEADER_DLQ_ORIGINAL_OFFSET, HEADER_DLQ_ORIGINAL_PARTITION, HEADER_DLQ_ORIGINAL_TOPIC,
    HEADER_DLQ_PREFIX, HEADER_DLQ_REASON, HEADER_DLQ_TRUNCATED,
};
pub use error::ConsumerError;
pub use retry::{RetryPolicy, MAX_JITTER};
pub use runner::ConsumerRunner;

/// What handling an event amounted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The effect was applied (this may be "nothing to do", recorded as done).
    Applied,
    /// The event had been applied before; nothing was done.
    Duplicate,
}

impl Outcome {
    /// The `outcome` label of the handled-events metric.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Duplicate => "duplicate",
        }
    }
}

/// Why an event could not be handled, and whether trying again can help.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// A dependency (the store, the network to it) is down: retried without limit, with
    /// capped backoff, and never dead-lettered. Only this event's partition waits.
    #[error("unavailable: {0:#}")]
    Unavailable(anyhow::Error),
    /// May succeed later: a lock conflict, data not yet arrived. Retried up to the policy's
    /// attempts (counting transient failures only), then dead-lettered.
    #[error("transient: {0:#}")]
    Transient(anyhow::Error),
    /// Will never succeed: the event goes to the dead-letter topic at once.
    #[error("permanent: {0:#}")]
    Permanent(anyhow::Error),
}

impl HandlerError {
    /// A failure that may pass; an unavailable store found in its cause chain (see
    /// [`classify`]) makes it [`HandlerError::Unavailable`].
    pub fn transient(e: impl Into<anyhow::Error>) -> Self {
        let e = e.into();
        match classify(&e) {
            ErrorClass::Unavailable => HandlerError::Unavailable(e),
            _ => HandlerError::Transient(e),
        }
    }

    /// A failure that can never succeed: the event is dead-lettered at once.
    pub fn permanent(e: impl Into<anyhow::Error>) -> Self {
        HandlerError::Permanent(e.into())
    }

    /// A store error, classified by [`classify`] (the store adapters' errors convert by it).
    #[cfg(any(feature = "postgres", feature = "redis", feature = "mongodb"))]
    pub(crate) fn classified(e: anyhow::Error) -> Self {
        match classify(&e) {
            ErrorClass::Unavailable => HandlerError::Unavailable(e),
            ErrorClass::Transient => HandlerError::Transient(e),
            ErrorClass::Permanent => HandlerError::Permanent(e),
        }
    }

    /// Re-reads a transient error's cause chain: a handler that wrapped a store outage in
    /// its own error still gets the outage's unlimited retries.
    pub fn reclassified(self) -> Self {
        match self {
            HandlerError::Transient(e) => HandlerError::transient(e),
            other => other,
        }
    }
}

#[cfg(feature = "postgres")]
impl From<sqlx::Error> for HandlerError {
    fn from(e: sqlx::Error) -> Self {
        HandlerError::classified(e.into())
    }
}

#[cfg(feature = "redis")]
impl From<redis::RedisError> for HandlerError {
    fn from(e: redis::RedisError) -> Self {
        HandlerError::classified(e.into())
    }
}

#[cfg(feature = "mongodb")]
impl From<mongodb::error::Error> for HandlerError {
    fn from(e: mongodb::error::Error) -> Self {
        HandlerError::classified(e.into())
    }
}

/// The `tracing` span of one event: its type, saga (correlation) id, id and trace id.
pub fn event_span(event: &Envelope) -> tracing::Span {
    tracing::info_span!(
        "event",
        event_type = %event.event_type(),
        correlation_id = %event.correlation_id,
        event_id = %event.event_id,
        trace_id = %event.traceparent.map(|t| t.trace_id()).unwrap_or_default(),
        partition = tracing::field::Empty,
        offset = tracing::field::Empty,
    )
}

/// Handles one event. Must be idempotent by `event.event_id`; the store adapters make it so.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Applies `event` once: [`Outcome::Duplicate`] if it had been applied before; an error
    /// says whether trying again can help.
    async fn handle(&self, event: &Envelope) -> Result<Outcome, HandlerError>;

    /// Handles several events (in order) as one atomic unit, if the store can: one
    /// transaction and one commit instead of one per event. `None` means "not done, nothing
    /// changed": the runner then handles the events one by one, with retries and dead-lettering.
    /// The default does not batch.
    async fn handle_batch(&self, _events: &[Envelope]) -> Option<Vec<Outcome>> {
        None
    }

    /// Whether [`Handler::handle_batch`] can do anything: then the runner joins what several
    /// partitions have queued into one call (a group commit; see `group`). The default, like
    /// `handle_batch`'s, does not batch.
    fn batches(&self) -> bool {
        false
    }
}

/// How handling one message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MessageEnd {
    /// The message is done with (applied, duplicate or dead-lettered): its offset may be
    /// stored and the partition move on.
    Done,
    /// Its worker was told to stop (shutdown, a failed consumer, its partition revoked)
    /// before it was done: its offset must not be stored, so the partition's next owner
    /// handles it again.
    Interrupted,
}

/// What every partition worker of a session shares.
struct WorkerContext {
    /// The session's consumer, where a worker stores the offsets of the messages it is done
    /// with; the dispatcher pauses and resumes partitions on it too.
    consumer: Arc<SessionConsumer>,
    /// Publishes dead letters. The runner's, shared by its sessions, so letters still in
    /// flight when a consumer fails are flushed at the end.
    producer: FutureProducer,
    /// Maps a message's topic to the event type expected on it, and names its dead-letter
    /// topic.
    config: KafkaConfig,
    /// Applies the events.
    handler: Arc<dyn Handler>,
    /// How transient failures are retried before dead-lettering.
    retry: RetryPolicy,
    /// The consumer group, recorded in each dead letter's headers so an operator knows who
    /// gave up on it.
    group_id: String,
    /// The session's committer, which applies the batches of several partitions as one, if
    /// the handler batches.
    group: Option<group::Group>,
}
