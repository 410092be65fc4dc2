//! A topic namespace per test on the real broker, and readers of what lands in its topics.

use std::time::{Duration, Instant};

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message, OwnedMessage};
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

/// Reads for `quiet` after the last message, to show that nothing more arrives.
pub async fn read_quiet(consumer: &StreamConsumer, quiet: Duration) -> Vec<OwnedMessage> {
    let mut messages = Vec::new();
    while let Ok(Ok(m)) = tokio::time::timeout(quiet, consumer.recv()).await {
        messages.push(m.detach());
    }
    messages
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
