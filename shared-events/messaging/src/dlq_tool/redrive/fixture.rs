//! The letter the redrive tests start from: of `t1.order.paid.dlq`, with a payload, a key,
//! and headers both kept (`event_type`, `traceparent`) and dropped (`dlq.*`) on a redrive.

use crate::dlq_tool::letter::DeadLetter;

/// A redrivable letter of namespace `t1.`, every field set.
pub(super) fn letter() -> DeadLetter {
    DeadLetter {
        id: "t1.order.paid.dlq:0:4".into(),
        dlq_topic: "t1.order.paid.dlq".into(),
        partition: 0,
        offset: 4,
        timestamp: None,
        original_topic: Some("t1.order.paid".into()),
        original_partition: Some(2),
        original_offset: Some(9),
        reason: Some("permanent".into()),
        error: Some("boom".into()),
        attempts: Some(1),
        consumer_group: Some("t1.billing".into()),
        truncated_from: None,
        event_id: None,
        event_type: None,
        key: Some(b"k".to_vec()),
        payload: Some(b"{}".to_vec()),
        headers: vec![
            ("event_type".into(), Some(b"order.paid".to_vec())),
            ("dlq.reason".into(), Some(b"permanent".to_vec())),
            ("traceparent".into(), None),
            ("dlq.redriven_from".into(), Some(b"older".to_vec())),
        ],
    }
}
