//! What can go wrong reading or redriving dead letters, each case with what an operator
//! needs to act on it.

use rdkafka::error::KafkaError;

/// A failure of the DLQ tool.
#[derive(Debug, thiserror::Error)]
pub enum DlqToolError {
    /// A Kafka client could not even be created (an invalid setting, say).
    #[error("creating the Kafka {what}: {source}")]
    Client {
        /// Which client: "consumer" or "producer".
        what: &'static str,
        /// librdkafka's reason.
        #[source]
        source: KafkaError,
    },
    /// The broker did not answer a metadata request in time: it is down, or
    /// `KAFKA_BROKERS` points elsewhere.
    #[error("cannot reach the Kafka broker at {brokers} (KAFKA_BROKERS): {source}")]
    Unreachable {
        /// The bootstrap servers tried.
        brokers: String,
        /// librdkafka's reason.
        #[source]
        source: KafkaError,
    },
    /// A partition's watermarks could not be fetched, so where its letters end is unknown.
    #[error("reading the offsets of {topic} [{partition}]: {source}")]
    Watermarks {
        /// The DLQ topic.
        topic: String,
        /// Its partition.
        partition: i32,
        /// librdkafka's reason.
        #[source]
        source: KafkaError,
    },
    /// Assigning the partitions to the reader, or reading them, failed.
    #[error("reading {topic}: {source}")]
    Read {
        /// The DLQ topic (or topics) being read.
        topic: String,
        /// librdkafka's reason.
        #[source]
        source: KafkaError,
    },
    /// A partition stopped delivering before its high watermark: the broker went away mid-read,
    /// or the records were deleted under the reader.
    #[error(
        "reading {topic} [{partition}] stalled at offset {at} of {high} for {seconds} s",
        seconds = crate::BROKER_TIMEOUT.as_secs()
    )]
    Stalled {
        /// The DLQ topic.
        topic: String,
        /// Its partition.
        partition: i32,
        /// The next offset it was waiting for.
        at: i64,
        /// The high watermark it was reading to.
        high: i64,
    },
    /// The topic named is not one of this namespace's event topics or their DLQ topics.
    #[error(
        "`{topic}` is neither an event topic nor a DLQ topic of namespace `{prefix}` \
         (give e.g. `order.created`, `{prefix}order.created` or `{prefix}order.created.dlq`)"
    )]
    UnknownTopic {
        /// The name given.
        topic: String,
        /// The namespace (`KAFKA_TOPIC_PREFIX`).
        prefix: String,
    },
    /// The broker did not acknowledge a redriven letter; those before it in the report were
    /// sent, this one and any after it may not have been.
    #[error("redriving {id} to {topic} failed after {sent} sent: {source}")]
    Delivery {
        /// The letter's id.
        id: String,
        /// The topic it was sent to.
        topic: String,
        /// How many letters had been acknowledged when this one failed.
        sent: usize,
        /// librdkafka's reason (boxed: it would double the size of every result).
        #[source]
        source: Box<KafkaError>,
    },
    /// The blocking reader task panicked or was cancelled.
    #[error("the reader task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}
