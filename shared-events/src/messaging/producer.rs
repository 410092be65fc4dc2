//! The producer every service shares, and the one way an event becomes a Kafka record:
//! its key, its JSON body, and the `event_type` and `traceparent` headers.

use anyhow::Context;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::contracts::envelope::Envelope;
use crate::messaging::config::KafkaConfig;

pub const HEADER_EVENT_TYPE: &str = "event_type";
pub const HEADER_TRACEPARENT: &str = "traceparent";

pub fn build_producer(config: &KafkaConfig) -> anyhow::Result<FutureProducer> {
    config
        .producer_config()
        .create()
        .context("creating the Kafka producer")
}

/// The headers of a record carrying an event of type `event_type`.
pub fn event_headers(event_type: &str, traceparent: Option<&str>) -> OwnedHeaders {
    let headers = OwnedHeaders::new().insert(Header {
        key: HEADER_EVENT_TYPE,
        value: Some(event_type),
    });
    match traceparent {
        Some(t) => headers.insert(Header {
            key: HEADER_TRACEPARENT,
            value: Some(t),
        }),
        None => headers,
    }
}

/// Publishes one event directly (not through an outbox) and waits for the broker's ack.
/// For tools, tests and stores without an outbox; services publish through their outbox.
pub async fn publish(
    producer: &FutureProducer,
    config: &KafkaConfig,
    event: &Envelope,
) -> anyhow::Result<()> {
    let topic = config.topic(event.event_type());
    let key = event.key();
    let body = event.to_json();
    let traceparent = event.traceparent.map(|t| t.to_string());
    let record = FutureRecord::to(&topic)
        .key(&key)
        .payload(&body)
        .headers(event_headers(
            event.event_type().as_str(),
            traceparent.as_deref(),
        ));
    producer
        .send(record, std::time::Duration::from_secs(30))
        .await
        .map_err(|(e, _)| anyhow::anyhow!("publishing to {topic}: {e}"))?;
    Ok(())
}
