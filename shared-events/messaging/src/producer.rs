//! The producer every service shares, and the one way an event becomes a Kafka record:
//! its key, its JSON body, and the `event_type` and `traceparent` headers.

use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::config::KafkaConfig;
use saga_contracts::envelope::Envelope;

/// The header naming the event's type, so a reader can route a record without parsing it.
pub const HEADER_EVENT_TYPE: &str = "event_type";
/// The header carrying the W3C trace context of the request that caused the event, so the
/// consumer's span joins the producer's trace.
pub const HEADER_TRACEPARENT: &str = "traceparent";

/// Why no producer could be built.
#[derive(Debug, thiserror::Error)]
pub enum ProducerError {
    /// librdkafka refused the producer configuration (a bad setting, an unresolvable
    /// `bootstrap.servers`): nothing can be published until the configuration is fixed.
    #[error("creating the Kafka producer")]
    Create(#[source] KafkaError),
}

/// The producer for `config`'s brokers, with the settings every service shares (see
/// [`KafkaConfig::producer_config`]).
pub fn build_producer(config: &KafkaConfig) -> Result<FutureProducer, ProducerError> {
    config
        .producer_config()
        .create()
        .map_err(ProducerError::Create)
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
