//! Why a consumer runner stopped other than by shutdown: only set-up can fail this way. Once
//! running, a runner never gives up on its own: handler failures are retried or dead-lettered,
//! broker outages waited out, and a fatally failed consumer replaced by a new one.

use rdkafka::error::KafkaError;

use crate::messaging::producer::ProducerError;

/// What stops [`super::ConsumerRunner::run`] with an error; each is a configuration the runner
/// cannot work with, so retrying would only fail again.
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
}
