//! A dead letter as read back from its DLQ topic: where it is, where it came from, why it is
//! there (the `dlq.*` headers written by the consumer runtime), and the record itself.

use chrono::{DateTime, Utc};
use rdkafka::message::{Headers, Message};
use serde::Serialize;

use super::bytes;
use saga_messaging::consumer::{
    HEADER_DLQ_ATTEMPTS, HEADER_DLQ_CONSUMER_GROUP, HEADER_DLQ_ERROR, HEADER_DLQ_ORIGINAL_OFFSET,
    HEADER_DLQ_ORIGINAL_PARTITION, HEADER_DLQ_ORIGINAL_TOPIC, HEADER_DLQ_REASON,
    HEADER_DLQ_TRUNCATED,
};

/// One record of a DLQ topic. Every `dlq.*` field is optional: a record produced by hand, or
/// by an older runtime, may lack any of them, and is still listed.
///
/// In JSON, `key`, `payload` and header values are strings when they are UTF-8 and
/// `{"base64": "..."}` otherwise; `headers` is `[{"key": ..., "value": ...}]` in record order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    /// `<dlq topic>:<partition>:<offset>`: where the letter is, which names it uniquely and
    /// for good (the topic is a log).
    pub id: String,
    /// The DLQ topic it is in.
    pub dlq_topic: String,
    /// Its partition there.
    pub partition: i32,
    /// Its offset there.
    pub offset: i64,
    /// When it was dead-lettered (the record's timestamp), if the broker gave one.
    pub timestamp: Option<DateTime<Utc>>,
    /// `dlq.original_topic`: the topic it was read from, where a redrive sends it.
    pub original_topic: Option<String>,
    /// `dlq.original_partition`.
    pub original_partition: Option<i32>,
    /// `dlq.original_offset`.
    pub original_offset: Option<i64>,
    /// `dlq.reason`: `undecodable`, `permanent` or `retries_exhausted`.
    pub reason: Option<String>,
    /// `dlq.error`: the handler's or the decoder's error.
    pub error: Option<String>,
    /// `dlq.attempts`: handler calls made (0 when it could not be decoded).
    pub attempts: Option<u32>,
    /// `dlq.consumer_group`: the group that gave up on it.
    pub consumer_group: Option<String>,
    /// `dlq.payload_truncated`: on a cut-down copy, the original payload's size; such a letter
    /// is never redriven, as its payload is incomplete.
    pub truncated_from: Option<usize>,
    /// The envelope's `event_id`, when the payload is JSON with one (best effort: read even
    /// from an envelope that failed to decode, e.g. of a future schema version).
    pub event_id: Option<String>,
    /// The envelope's `event_type`, read the same way.
    pub event_type: Option<String>,
    /// The original key, unchanged.
    #[serde(serialize_with = "bytes::serialize_opt")]
    pub key: Option<Vec<u8>>,
    /// The original payload, unchanged (cut short on a cut-down copy).
    #[serde(serialize_with = "bytes::serialize_opt")]
    pub payload: Option<Vec<u8>>,
    /// All the record's headers in order: the original's, then the `dlq.*` ones.
    #[serde(serialize_with = "bytes::serialize_headers")]
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl DeadLetter {
    /// Reads a record of `message.topic()` (a DLQ topic) as a dead letter.
    pub fn from_message(message: &impl Message) -> DeadLetter {
        let headers: Vec<(String, Option<Vec<u8>>)> = message
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        let payload = message.payload().map(<[u8]>::to_vec);
        let envelope = payload
            .as_deref()
            .and_then(|p| serde_json::from_slice::<serde_json::Value>(p).ok());
        let field = |name: &str| {
            envelope
                .as_ref()
                .and_then(|e| e.get(name))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let mut letter = DeadLetter {
            id: format!(
                "{}:{}:{}",
                message.topic(),
                message.partition(),
                message.offset()
            ),
            dlq_topic: message.topic().to_owned(),
            partition: message.partition(),
            offset: message.offset(),
            timestamp: message
                .timestamp()
                .to_millis()
                .and_then(DateTime::from_timestamp_millis),
            original_topic: None,
            original_partition: None,
            original_offset: None,
            reason: None,
            error: None,
            attempts: None,
            consumer_group: None,
            truncated_from: None,
            event_id: field("event_id"),
            event_type: field("event_type"),
            key: message.key().map(<[u8]>::to_vec),
            payload,
            headers,
        };
        letter.original_topic = letter.header_text(HEADER_DLQ_ORIGINAL_TOPIC);
        letter.original_partition = letter.header_parsed(HEADER_DLQ_ORIGINAL_PARTITION);
        letter.original_offset = letter.header_parsed(HEADER_DLQ_ORIGINAL_OFFSET);
        letter.reason = letter.header_text(HEADER_DLQ_REASON);
        letter.error = letter.header_text(HEADER_DLQ_ERROR);
        letter.attempts = letter.header_parsed(HEADER_DLQ_ATTEMPTS);
        letter.consumer_group = letter.header_text(HEADER_DLQ_CONSUMER_GROUP);
        letter.truncated_from = letter.header_parsed(HEADER_DLQ_TRUNCATED);
        letter
    }

    /// The value of the last header named `key` (the runtime writes each `dlq.*` header once;
    /// the last one wins should a record carry two).
    pub fn header(&self, key: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_deref())
    }

    /// The value of header `key` as text, if it is UTF-8.
    pub fn header_text(&self, key: &str) -> Option<String> {
        self.header(key)
            .and_then(|v| std::str::from_utf8(v).ok())
            .map(str::to_owned)
    }

    fn header_parsed<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        self.header_text(key).and_then(|v| v.trim().parse().ok())
    }

    /// Where a redrive sends it: `dlq.original_topic`, or the DLQ topic without `.dlq` when
    /// that header is missing.
    pub fn target_topic(&self) -> String {
        self.original_topic.clone().unwrap_or_else(|| {
            self.dlq_topic
                .strip_suffix(".dlq")
                .unwrap_or(&self.dlq_topic)
                .to_owned()
        })
    }
}
