//! The letters the unit tests start from: one fixed letter per topic and offset ([`letter`],
//! what the render tests print), a `now` three hours and five seconds after it was
//! dead-lettered, and a letter to redrive ([`redrivable`]) whose headers are both kept
//! (`event_type`, `traceparent`) and dropped (`dlq.*`) on a redrive.

use chrono::{DateTime, Utc};

use crate::letter::DeadLetter;

/// A letter of `topic` at `offset` with `error`, every other field set.
pub(crate) fn letter(topic: &str, offset: i64, error: &str) -> DeadLetter {
    DeadLetter {
        id: format!("{topic}:0:{offset}"),
        dlq_topic: topic.into(),
        partition: 0,
        offset,
        timestamp: Some(DateTime::from_timestamp(1_000_000, 0).unwrap()),
        original_topic: topic.strip_suffix(".dlq").map(str::to_owned),
        original_partition: Some(1),
        original_offset: Some(7),
        reason: Some("permanent".into()),
        error: Some(error.into()),
        attempts: Some(1),
        consumer_group: Some("billing".into()),
        truncated_from: None,
        event_id: Some("0197a2b3-0000-7000-8000-000000000001".into()),
        event_type: Some("order.paid".into()),
        key: Some(b"order-1".to_vec()),
        // Keys in sorted order: the same whether or not serde_json preserves order.
        payload: Some(br#"{"data":{"a":1},"event_id":"x"}"#.to_vec()),
        headers: vec![("dlq.reason".into(), Some(b"permanent".to_vec()))],
    }
}

/// Three hours and five seconds after [`letter`]'s timestamp.
pub(crate) fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_000_000 + 3 * 3600 + 5, 0).unwrap()
}

/// A redrivable letter of namespace `t1.` (`t1.order.paid.dlq:0:4`), every field set, with
/// headers a redrive keeps and drops.
pub(crate) fn redrivable() -> DeadLetter {
    DeadLetter {
        headers: vec![
            ("event_type".into(), Some(b"order.paid".to_vec())),
            ("dlq.reason".into(), Some(b"permanent".to_vec())),
            ("traceparent".into(), None),
            ("dlq.redriven_from".into(), Some(b"older".to_vec())),
        ],
        ..letter("t1.order.paid.dlq", 4, "boom")
    }
}
