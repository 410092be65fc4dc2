//! Dead-lettering: a message that cannot be handled goes to `<topic>.dlq`, unchanged, with
//! the reason in headers, so the partition can move on and an operator can replay it later.

use std::time::Duration;

use rdkafka::message::{Header, Headers, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio_util::sync::CancellationToken;

pub const HEADER_DLQ_ERROR: &str = "dlq.error";
pub const HEADER_DLQ_REASON: &str = "dlq.reason";

/// Why a message was dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DlqReason {
    /// Not a decodable event (bad JSON, unknown type or version, wrong payload, wrong topic).
    Undecodable,
    /// The handler said it can never succeed.
    Permanent,
    /// Transient failures outlasted the retry policy.
    RetriesExhausted,
}

impl DlqReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            DlqReason::Undecodable => "undecodable",
            DlqReason::Permanent => "permanent",
            DlqReason::RetriesExhausted => "retries_exhausted",
        }
    }
}

pub(crate) struct DeadLetter<'a> {
    pub message: &'a OwnedMessage,
    pub dlq_topic: String,
    pub reason: DlqReason,
    pub error: String,
    pub attempts: u32,
    pub group_id: &'a str,
}

/// Publishes the dead letter, retrying until the broker acks it or shutdown is requested.
/// Returns whether it was published (if not, the offset must not be stored).
pub(crate) async fn publish(
    producer: &FutureProducer,
    letter: DeadLetter<'_>,
    shutdown: &CancellationToken,
) -> bool {
    let m = letter.message;
    let mut headers = OwnedHeaders::new();
    if let Some(original) = m.headers() {
        for h in original.iter() {
            headers = headers.insert(Header {
                key: h.key,
                value: h.value,
            });
        }
    }
    let partition = m.partition().to_string();
    let offset = m.offset().to_string();
    let attempts = letter.attempts.to_string();
    for (key, value) in [
        (HEADER_DLQ_REASON, letter.reason.as_str()),
        (HEADER_DLQ_ERROR, letter.error.as_str()),
        ("dlq.original_topic", m.topic()),
        ("dlq.original_partition", partition.as_str()),
        ("dlq.original_offset", offset.as_str()),
        ("dlq.attempts", attempts.as_str()),
        ("dlq.consumer_group", letter.group_id),
    ] {
        headers = headers.insert(Header {
            key,
            value: Some(value),
        });
    }
    let mut backoff = Duration::from_millis(100);
    loop {
        let mut record = FutureRecord::to(&letter.dlq_topic).headers(headers.clone());
        if let Some(key) = m.key() {
            record = record.key(key);
        }
        if let Some(payload) = m.payload() {
            record = record.payload(payload);
        }
        match producer.send(record, Duration::from_secs(10)).await {
            Ok(_) => return true,
            Err((e, _)) => {
                tracing::error!(error = %e, topic = %letter.dlq_topic, "dead-lettering failed; retrying");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.cancelled() => return false,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}
