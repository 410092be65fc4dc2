//! Dead-lettering: a message that cannot be handled goes to `<topic>.dlq`, unchanged, with
//! the reason in headers, so the partition can move on and an operator can replay it later.
//!
//! A dead letter never stalls its partition. One the broker can never take (the original plus
//! the `dlq.*` headers over `message.max.bytes`, say) is sent again as a copy that fits: the
//! headers kept, the error text and the payload cut short, and `dlq.payload_truncated`
//! giving the payload's original size. If even that is refused, the letter is logged in full
//! and the partition moves on. Only errors that may pass (the broker unreachable, a topic
//! being created) are retried, for as long as they last, or until the worker is told to stop:
//! a send under way then gets a short grace, and no more.

use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio_util::sync::CancellationToken;

use super::grace::{within_grace, GRACE};
use super::MessageEnd;
use crate::metrics;

/// What every header this module adds starts with; the rest are the original's.
pub const HEADER_DLQ_PREFIX: &str = "dlq.";
/// The handler's or the decoder's error, as text.
pub const HEADER_DLQ_ERROR: &str = "dlq.error";
/// Why the message was dead-lettered: a [`DlqReason`] as text.
pub const HEADER_DLQ_REASON: &str = "dlq.reason";
/// The topic the message was read from, where a redrive sends it back.
pub const HEADER_DLQ_ORIGINAL_TOPIC: &str = "dlq.original_topic";
/// The partition the message was read from.
pub const HEADER_DLQ_ORIGINAL_PARTITION: &str = "dlq.original_partition";
/// The offset the message had in its original partition.
pub const HEADER_DLQ_ORIGINAL_OFFSET: &str = "dlq.original_offset";
/// How many times the handler was called (0 for an undecodable message).
pub const HEADER_DLQ_ATTEMPTS: &str = "dlq.attempts";
/// The consumer group that gave up on the message.
pub const HEADER_DLQ_CONSUMER_GROUP: &str = "dlq.consumer_group";
/// On a copy cut down to fit: the original payload's size in bytes.
pub const HEADER_DLQ_TRUNCATED: &str = "dlq.payload_truncated";

/// The most payload a cut-down copy keeps: well inside Kafka's default 1 MB message limit,
/// with room for the headers.
const TRUNCATED_PAYLOAD: usize = 64 * 1024;
/// The most error text a cut-down copy keeps.
const TRUNCATED_ERROR: usize = 1024;

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
    /// The value of the `dlq.reason` header.
    pub fn as_str(&self) -> &'static str {
        match self {
            DlqReason::Undecodable => "undecodable",
            DlqReason::Permanent => "permanent",
            DlqReason::RetriesExhausted => "retries_exhausted",
        }
    }
}

/// A message given up on, and what its `dlq.*` headers say about why.
pub(crate) struct DeadLetter<'a> {
    /// The original message: its key, payload and headers are sent on unchanged.
    pub message: &'a OwnedMessage,
    /// Where it goes: `<topic>.dlq` of its event type.
    pub dlq_topic: String,
    /// Why it was given up on, for the operator deciding whether to redrive it.
    pub reason: DlqReason,
    /// The handler's or the decoder's error, as text.
    pub error: String,
    /// How many times the handler was called (0 for an undecodable message).
    pub attempts: u32,
    /// The consumer group that gave up on it.
    pub group_id: &'a str,
}

/// Publishes the dead letter, retrying errors that may pass until the broker acks it or
/// `shutdown` (the worker's stop) is cancelled. Returns whether the partition may move on (if
/// not, the offset must not be stored): [`MessageEnd::Done`] once the letter, or a cut-down
/// copy, is published, or when neither can ever be; [`MessageEnd::Interrupted`] when the stop
/// came first, or a send under way was not acknowledged within the [`GRACE`] after it.
pub(crate) async fn publish(
    producer: &FutureProducer,
    letter: DeadLetter<'_>,
    shutdown: &CancellationToken,
) -> MessageEnd {
    let m = letter.message;
    let payload = m.payload();
    let mut headers = headers(&letter, &letter.error, None);
    let mut payload_sent = payload;
    let mut cut_down = false;
    let mut backoff = Duration::from_millis(100);
    loop {
        let mut record = FutureRecord::to(&letter.dlq_topic).headers(headers.clone());
        if let Some(key) = m.key() {
            record = record.key(key);
        }
        if let Some(payload) = payload_sent {
            record = record.payload(payload);
        }
        // The broker unreachable, a send waits for up to `message.timeout.ms`: a stop does
        // not wait that long. A letter cut off may still be delivered later, or purged when
        // the runner ends; either way the message's offset is not stored, and its partition's
        // next owner handles it again.
        let sent = within_grace(
            shutdown,
            GRACE,
            producer.send(record, Duration::from_secs(10)),
        );
        let error = match sent.await {
            None => {
                tracing::warn!(
                    topic = %letter.dlq_topic,
                    original_topic = m.topic(),
                    partition = m.partition(),
                    offset = m.offset(),
                    "the dead letter was not acknowledged within the grace after the worker was told to stop; \
                     the message is left for the partition's next owner"
                );
                return MessageEnd::Interrupted;
            }
            Some(Ok(_)) => return MessageEnd::Done,
            Some(Err((e, _))) => e,
        };
        if never_accepted(&error) {
            if cut_down {
                metrics::DEAD_LETTERS_LOST.inc();
                tracing::error!(
                    error = %error,
                    topic = %letter.dlq_topic,
                    original_topic = m.topic(),
                    partition = m.partition(),
                    offset = m.offset(),
                    reason = letter.reason.as_str(),
                    dead_letter_error = %letter.error,
                    "the broker refuses even a cut-down dead letter; it is only in this log"
                );
                return MessageEnd::Done;
            }
            tracing::warn!(
                error = %error,
                topic = %letter.dlq_topic,
                payload_bytes = payload.map_or(0, <[u8]>::len),
                "the broker refuses this dead letter; sending a cut-down copy"
            );
            let size = payload.map_or(0, <[u8]>::len);
            payload_sent = payload.map(|p| &p[..p.len().min(TRUNCATED_PAYLOAD)]);
            let error = truncate(&letter.error, TRUNCATED_ERROR);
            headers = headers_cut_down(&letter, error, size);
            cut_down = true;
            continue;
        }
        tracing::error!(error = %error, topic = %letter.dlq_topic, "dead-lettering failed; retrying");
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.cancelled() => return MessageEnd::Interrupted,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Producer errors no retry of the same record can fix.
fn never_accepted(error: &KafkaError) -> bool {
    matches!(
        error,
        KafkaError::MessageProduction(
            RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::InvalidMessageSize
                | RDKafkaErrorCode::InvalidRecord
                | RDKafkaErrorCode::MessageBatchTooLarge
                | RDKafkaErrorCode::InvalidMessage
        )
    )
}

/// The original's headers, then the `dlq.*` ones.
fn headers(letter: &DeadLetter<'_>, error: &str, truncated_from: Option<usize>) -> OwnedHeaders {
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
    let truncated = truncated_from.map(|n| n.to_string());
    for (key, value) in [
        (HEADER_DLQ_REASON, letter.reason.as_str()),
        (HEADER_DLQ_ERROR, error),
        (HEADER_DLQ_ORIGINAL_TOPIC, m.topic()),
        (HEADER_DLQ_ORIGINAL_PARTITION, partition.as_str()),
        (HEADER_DLQ_ORIGINAL_OFFSET, offset.as_str()),
        (HEADER_DLQ_ATTEMPTS, attempts.as_str()),
        (HEADER_DLQ_CONSUMER_GROUP, letter.group_id),
    ] {
        headers = headers.insert(Header {
            key,
            value: Some(value),
        });
    }
    if let Some(size) = &truncated {
        headers = headers.insert(Header {
            key: HEADER_DLQ_TRUNCATED,
            value: Some(size.as_str()),
        });
    }
    headers
}

/// The headers of a cut-down copy: the original's own headers are dropped too if together
/// they could be what is too large; the `dlq.*` ones are always kept.
fn headers_cut_down(letter: &DeadLetter<'_>, error: &str, payload_size: usize) -> OwnedHeaders {
    let original_bytes: usize = letter.message.headers().map_or(0, |h| {
        h.iter()
            .map(|h| h.key.len() + h.value.map_or(0, <[u8]>::len))
            .sum()
    });
    if original_bytes <= TRUNCATED_PAYLOAD {
        return headers(letter, error, Some(payload_size));
    }
    let bare = DeadLetter {
        message: letter.message,
        dlq_topic: letter.dlq_topic.clone(),
        reason: letter.reason,
        error: String::new(),
        attempts: letter.attempts,
        group_id: letter.group_id,
    };
    let mut headers = OwnedHeaders::new();
    let full = self::headers(&bare, error, Some(payload_size));
    // Skip the original's headers: they are the first ones.
    let skip = letter.message.headers().map_or(0, |h| h.count());
    for h in full.iter().skip(skip) {
        headers = headers.insert(Header {
            key: h.key,
            value: h.value,
        });
    }
    headers
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("abc", 10), "abc");
    }

    #[test]
    fn only_size_and_format_errors_are_never_accepted() {
        let too_large = KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge);
        assert!(never_accepted(&too_large));
        let down = KafkaError::MessageProduction(RDKafkaErrorCode::BrokerTransportFailure);
        assert!(!never_accepted(&down));
        let timed_out = KafkaError::MessageProduction(RDKafkaErrorCode::MessageTimedOut);
        assert!(!never_accepted(&timed_out));
    }
}
