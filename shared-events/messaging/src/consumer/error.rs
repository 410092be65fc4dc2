//! Why a consumer runner stopped other than by shutdown: its set-up failed, or one of its
//! partition workers died. Otherwise a running runner never gives up on its own: handler
//! failures are retried or dead-lettered, broker outages waited out, and a fatally failed
//! consumer replaced by a new one.

use rdkafka::error::KafkaError;

use crate::producer::ProducerError;

/// What stops [`super::ConsumerRunner::run`] with an error: a configuration the runner cannot
/// work with (retrying would only fail again), or a defect that killed a partition worker.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    /// librdkafka refused the consumer configuration: no consumer, so nothing to read with.
    #[error("creating the Kafka consumer")]
    Create(#[source] KafkaError),
    /// The consumer could not subscribe to the runner's topics (an invalid topic name, say).
    #[error("subscribing to topics")]
    Subscribe(#[source] KafkaError),
    /// The producer for dead letters could not be built: without it a message that can never
    /// be handled would stall its partition, so the runner does not start.
    #[error("building the dead-letter producer")]
    Producer(#[source] ProducerError),
    /// A partition worker's task died (it panicked outside the handler call, whose panics
    /// are caught and dead-letter the event: a handler's future panicking when dropped, say).
    /// The runner drained the other workers and committed what was done, then stopped: going
    /// on would leave the partition unread while the service looked alive.
    #[error("the consumer's worker for {topic} [{partition}] died: {panic}")]
    WorkerDied {
        /// The topic of the worker's partition.
        topic: String,
        /// The partition.
        partition: i32,
        /// The panic's message.
        panic: String,
    },
}
