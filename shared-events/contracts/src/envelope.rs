//! The envelope every message carries (SPEC §3), and its decoding into typed events.
//!
//! Decoding is layered so that each failure is a typed [`DecodeError`]: bytes that are not an
//! envelope, an `event_type` nobody declared, a `schema_version` this build cannot read, or a
//! `data` object of the wrong shape. None of them panics.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::events::{EventPayload, EventType};
use crate::trace::TraceParent;

/// The schema version this build writes, and the only one it reads.
pub const SCHEMA_VERSION: u32 = 1;

/// One event as every service sends and receives it (SPEC §3): the typed payload with the
/// metadata that makes it idempotent (`event_id`), traceable and attributable.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The event's id, a UUID v7; consumers de-duplicate on it (the inbox).
    pub event_id: Uuid,
    /// The payload's schema version ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// When the event happened, to the microsecond.
    pub occurred_at: DateTime<Utc>,
    /// The service that emitted it.
    pub producer: String,
    /// The saga id: the order id for order events, the customer id or SKU otherwise.
    pub correlation_id: String,
    /// The event that caused this one, if any.
    pub causation_id: Option<Uuid>,
    /// The event itself; its type is the topic it travels on.
    pub payload: EventPayload,
    /// Trace context; travels in the `traceparent` header, not in the JSON body.
    pub traceparent: Option<TraceParent>,
}

/// Why a message is not an event this build can read; the consumer dead-letters it.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not the envelope's JSON.
    #[error("not an event envelope: {0}")]
    Malformed(#[source] serde_json::Error),
    /// `event_type` names no event, or not the one of the topic it came on.
    #[error("unknown event type `{0}`")]
    UnknownEventType(String),
    /// A schema version other than [`SCHEMA_VERSION`].
    #[error("unsupported schema_version {version} for `{event_type}` (this build reads {SCHEMA_VERSION})")]
    UnsupportedSchemaVersion {
        /// The event type the envelope names.
        event_type: String,
        /// The version it carries.
        version: u32,
    },
    /// `data` is not that event type's payload.
    #[error("invalid data for `{event_type}`: {source}")]
    InvalidPayload {
        /// The event type the envelope names.
        event_type: EventType,
        /// What serde found wrong.
        #[source]
        source: serde_json::Error,
    },
}

/// The envelope as it is on the wire, with `data` not yet interpreted.
#[derive(Serialize, Deserialize)]
struct Wire {
    event_id: Uuid,
    event_type: String,
    schema_version: u32,
    occurred_at: DateTime<Utc>,
    producer: String,
    correlation_id: String,
    causation_id: Option<Uuid>,
    data: serde_json::Value,
}

impl Envelope {
    /// A new event with a fresh v7 id, stamped now; the correlation id is the payload's key.
    pub fn new(producer: &str, payload: impl Into<EventPayload>) -> Envelope {
        let payload = payload.into();
        Envelope {
            event_id: Uuid::now_v7(),
            schema_version: SCHEMA_VERSION,
            // Microseconds: what PostgreSQL and most clients keep, so a stored copy compares equal.
            occurred_at: Utc::now().trunc_subsecs(6),
            producer: producer.to_owned(),
            correlation_id: payload.key(),
            causation_id: None,
            payload,
            traceparent: Some(TraceParent::new_root()),
        }
    }

    /// Marks this event as caused by `cause`: same saga, same trace, causation recorded.
    pub fn caused_by(mut self, cause: &Envelope) -> Envelope {
        self.causation_id = Some(cause.event_id);
        self.correlation_id = cause.correlation_id.clone();
        self.traceparent = Some(
            cause
                .traceparent
                .map_or_else(TraceParent::new_root, |t| t.child()),
        );
        self
    }

    /// Continues the trace of an incoming request (its `traceparent` header), if it had one.
    pub fn in_trace(mut self, parent: Option<TraceParent>) -> Envelope {
        if let Some(parent) = parent {
            self.traceparent = Some(parent.child());
        }
        self
    }

    /// The type of the payload, which is also its topic.
    pub fn event_type(&self) -> EventType {
        self.payload.event_type()
    }

    /// The Kafka key (see [`EventPayload::key`]).
    pub fn key(&self) -> String {
        self.payload.key()
    }

    /// The envelope's wire JSON, the record's value.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_wire()).expect("an envelope always serializes")
    }

    /// The envelope's wire JSON as a value (what the outbox stores).
    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::to_value(self.to_wire()).expect("an envelope always serializes")
    }

    fn to_wire(&self) -> Wire {
        Wire {
            event_id: self.event_id,
            event_type: self.event_type().as_str().to_owned(),
            schema_version: self.schema_version,
            occurred_at: self.occurred_at,
            producer: self.producer.clone(),
            correlation_id: self.correlation_id.clone(),
            causation_id: self.causation_id,
            data: self.payload.to_data(),
        }
    }

    /// Decodes a message body. The `traceparent` comes from headers; set it afterwards.
    pub fn decode(bytes: &[u8]) -> Result<Envelope, DecodeError> {
        let wire: Wire = serde_json::from_slice(bytes).map_err(DecodeError::Malformed)?;
        let event_type = EventType::parse(&wire.event_type)
            .ok_or_else(|| DecodeError::UnknownEventType(wire.event_type.clone()))?;
        if wire.schema_version != SCHEMA_VERSION {
            return Err(DecodeError::UnsupportedSchemaVersion {
                event_type: wire.event_type,
                version: wire.schema_version,
            });
        }
        let payload = EventPayload::from_data(event_type, wire.data)
            .map_err(|source| DecodeError::InvalidPayload { event_type, source })?;
        Ok(Envelope {
            event_id: wire.event_id,
            schema_version: wire.schema_version,
            occurred_at: wire.occurred_at,
            producer: wire.producer,
            correlation_id: wire.correlation_id,
            causation_id: wire.causation_id,
            payload,
            traceparent: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::OrderCancelled;

    fn sample() -> Envelope {
        Envelope::new(
            "orders",
            OrderCancelled {
                order_id: Uuid::now_v7(),
                customer_id: Uuid::now_v7(),
                reason: "timeout".into(),
            },
        )
    }

    #[test]
    fn round_trips_and_keys_by_order() {
        let e = sample();
        let back = Envelope::decode(&e.to_json()).unwrap();
        assert_eq!(back.traceparent, None);
        assert_eq!(
            Envelope {
                traceparent: e.traceparent,
                ..back
            },
            e
        );
        let EventPayload::OrderCancelled(p) = &e.payload else {
            unreachable!()
        };
        assert_eq!(e.key(), p.order_id.to_string());
        assert_eq!(e.correlation_id, e.key());
    }

    #[test]
    fn caused_by_links_and_continues_the_trace() {
        let cause = sample();
        let effect = sample().caused_by(&cause);
        assert_eq!(effect.causation_id, Some(cause.event_id));
        assert_eq!(effect.correlation_id, cause.correlation_id);
        assert_eq!(
            effect.traceparent.unwrap().trace_id(),
            cause.traceparent.unwrap().trace_id()
        );
    }

    #[test]
    fn every_failure_is_typed() {
        let mut v = sample().to_json_value();
        assert!(matches!(
            Envelope::decode(b"{not json"),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            Envelope::decode(b"[1,2]"),
            Err(DecodeError::Malformed(_))
        ));
        v["event_type"] = "order.exploded".into();
        assert!(matches!(
            Envelope::decode(&serde_json::to_vec(&v).unwrap()),
            Err(DecodeError::UnknownEventType(t)) if t == "order.exploded"
        ));
        v["event_type"] = "order.cancelled".into();
        v["schema_version"] = 2.into();
        assert!(matches!(
            Envelope::decode(&serde_json::to_vec(&v).unwrap()),
            Err(DecodeError::UnsupportedSchemaVersion { version: 2, .. })
        ));
        v["schema_version"] = 1.into();
        v["data"]["order_id"] = "not-a-uuid".into();
        assert!(matches!(
            Envelope::decode(&serde_json::to_vec(&v).unwrap()),
            Err(DecodeError::InvalidPayload {
                event_type: EventType::OrderCancelled,
                ..
            })
        ));
    }
}
