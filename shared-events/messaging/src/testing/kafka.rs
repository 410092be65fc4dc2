//! A topic namespace per test on the real broker, and readers of what lands in its topics.

use std::time::{Duration, Instant};

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message, OwnedMessage};
use rdkafka::Offset;
use uuid::Uuid;

use crate::config::KafkaConfig;
use crate::provision::provision;
use saga_contracts::events::EventType;
use saga_contracts::services::ServiceEvents;

/// A Kafka configuration whose topics and consumer groups belong to this test alone, as the
/// operator (who may create its topics: [`crate::topics::ensure_topics`]).
pub fn isolated_kafka() -> KafkaConfig {
    let mut config = KafkaConfig::from_env("operator").expect("valid KAFKA_* variables");
    config.topic_prefix = format!("t{}.", &Uuid::new_v4().simple().to_string()[..12]);
    config
}

/// A namespace of this test's own, provisioned as the operator would for `service` (its
/// topics, their dead-letter topics, and its access rules), and the configuration of
/// `service`'s own principal in it: what a test runs the service with.
pub async fn provisioned_kafka(service: &ServiceEvents) -> KafkaConfig {
    let operator = isolated_kafka();
    provision(&operator, std::slice::from_ref(service))
        .await
        .expect("provisioning the test's namespace (is the stack up? scripts/stack up)");
    operator.as_local_principal(service.name)
}

/// A consumer reading `topics` from the beginning in a group of its own.
pub fn reader(config: &KafkaConfig, topics: &[&str]) -> StreamConsumer {
    let group = format!("{}reader-{}", config.topic_prefix, Uuid::new_v4().simple());
    let consumer: StreamConsumer = config
        .consumer_config(&group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("creating a test consumer");
    consumer.subscribe(topics).expect("subscribing");
    consumer
}

/// Reads messages from `consumer` until `done` says so (given all read so far), or panics
/// after `timeout`.
pub async fn read_until(
    consumer: &StreamConsumer,
    timeout: Duration,
    mut done: impl FnMut(&[OwnedMessage]) -> bool,
) -> Vec<OwnedMessage> {
    let deadline = Instant::now() + timeout;
    let mut messages = Vec::new();
    while !done(&messages) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, consumer.recv()).await {
            Ok(Ok(m)) => messages.push(m.detach()),
            Ok(Err(e)) => tracing::debug!(error = %e, "test reader: consumer error"),
            Err(_) => panic!(
                "timed out after {timeout:?}; read {} messages so far",
                messages.len()
            ),
        }
    }
    messages
}

/// Reads from `consumer` up to the end its topics have now: until its position on every
/// partition of the topics it subscribed to is that partition's high watermark as this call
/// began, counting what it read before. Returns what this call read; panics after `timeout`.
///
/// Once whatever could still be produced is known to be on the broker (a service settled:
/// [`super::wait_settled`]; a producer's sends acknowledged), this is everything there is:
/// the way to show that something was *not* produced.
pub async fn read_to_end(consumer: &StreamConsumer, timeout: Duration) -> Vec<OwnedMessage> {
    let ends = ends_of(consumer);
    let deadline = Instant::now() + timeout;
    let mut messages = Vec::new();
    while let Some(short) = short_of(consumer, &ends) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, consumer.recv()).await {
            Ok(Ok(m)) => messages.push(m.detach()),
            Ok(Err(e)) => tracing::debug!(error = %e, "test reader: consumer error"),
            Err(_) => panic!(
                "timed out after {timeout:?} reading to the end ({} partition {} ends at {}); \
                 read {} messages",
                short.topic,
                short.partition,
                short.end,
                messages.len()
            ),
        }
    }
    messages
}

/// `messages` read from several topics, in the order they were published: by the records'
/// timestamps, which the producer sets as it sends (ties keep the order read, which is each
/// partition's own). One consumer reading several topics interleaves them as its fetches
/// return, so an event published after another may be read first; a relay publishes in commit
/// order, so this is the order in which the events were committed.
pub fn in_publish_order(mut messages: Vec<OwnedMessage>) -> Vec<OwnedMessage> {
    messages.sort_by_key(|m| m.timestamp().to_millis().unwrap_or(i64::MAX));
    messages
}

/// One partition's watermarks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermarks {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The offset of its oldest record still kept.
    pub start: i64,
    /// The offset its next record will have.
    pub end: i64,
}

/// The watermarks of every partition of `topics`, as `consumer` asks the broker for them
/// (blocking).
pub fn watermarks(
    consumer: &impl Consumer,
    topics: &[String],
) -> Result<Vec<Watermarks>, KafkaError> {
    let timeout = Duration::from_secs(10);
    let mut all = Vec::new();
    for topic in topics {
        let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
        for t in metadata.topics() {
            if let Some(e) = t.error() {
                return Err(KafkaError::MetadataFetch(e.into()));
            }
            for p in t.partitions() {
                let (start, end) = consumer.fetch_watermarks(topic, p.id(), timeout)?;
                all.push(Watermarks {
                    topic: topic.clone(),
                    partition: p.id(),
                    start,
                    end,
                });
            }
        }
    }
    Ok(all)
}

/// The partitions that hold records, of every topic `consumer` subscribed to.
fn ends_of(consumer: &StreamConsumer) -> Vec<Watermarks> {
    let subscribed = consumer.subscription().expect("the reader's subscription");
    let topics: Vec<String> = subscribed
        .elements()
        .iter()
        .map(|e| e.topic().to_owned())
        .collect();
    let mut all =
        watermarks(consumer, &topics).unwrap_or_else(|e| panic!("the ends of {topics:?}: {e}"));
    all.retain(|w| w.end > w.start);
    all
}

/// The first of `ends` that `consumer` has not read up to.
fn short_of<'a>(consumer: &StreamConsumer, ends: &'a [Watermarks]) -> Option<&'a Watermarks> {
    let position = consumer.position().unwrap_or_default();
    ends.iter().find(|w| {
        let at = position
            .find_partition(&w.topic, w.partition)
            .map(|e| e.offset());
        !matches!(at, Some(Offset::Offset(o)) if o >= w.end)
    })
}

/// The value of header `key`, as text.
pub fn header(message: &OwnedMessage, key: &str) -> Option<String> {
    message.headers().and_then(|hs| {
        hs.iter()
            .find(|h| h.key == key)
            .and_then(|h| h.value)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    })
}

/// A consumer reading the topics of `event_types` in `config`'s namespace from the beginning.
pub fn reader_of(config: &KafkaConfig, event_types: &[EventType]) -> StreamConsumer {
    let topics: Vec<String> = event_types.iter().map(|&t| config.topic(t)).collect();
    let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    reader(config, &refs)
}
