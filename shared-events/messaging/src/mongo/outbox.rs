//! Writing to the MongoDB outbox, and the stored form of its records.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime as ChronoDateTime, Utc};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, DateTime, Document};
use mongodb::error::Error;
use mongodb::options::ReturnDocument;
use mongodb::{ClientSession, Database};
use serde::Deserialize;
use uuid::Uuid;

use super::{OUTBOX, OUTBOX_KEYS};
use crate::outbox::OutboxRecord;
use saga_contracts::envelope::Envelope;

/// Appends `events`, in the given order, to the outbox inside the caller's transaction (started
/// on `session`). Nothing is published unless that transaction commits.
///
/// Each key's counter in `outbox_keys` is advanced in the same transaction and numbers the
/// records; see the module documentation for why that orders each key by commit. A concurrent
/// transaction enqueuing for the same key makes one of the two fail with a transient error.
pub async fn enqueue(
    session: &mut ClientSession,
    db: &Database,
    events: &[Envelope],
) -> mongodb::error::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = events.iter().map(Envelope::key).collect();
    let mut per_key: BTreeMap<&str, i64> = BTreeMap::new();
    for key in &keys {
        *per_key.entry(key).or_default() += 1;
    }
    let counters = db.collection::<Counter>(OUTBOX_KEYS);
    let mut next_seq: HashMap<&str, i64> = HashMap::with_capacity(per_key.len());
    for (key, count) in per_key {
        let counter = counters
            .find_one_and_update(doc! { "_id": key }, doc! { "$inc": { "seq": count } })
            .upsert(true)
            .return_document(ReturnDocument::After)
            .session(&mut *session)
            .await?
            .ok_or_else(|| {
                Error::custom(format!(
                    "the upsert of the outbox counter of `{key}` returned nothing"
                ))
            })?;
        next_seq.insert(key, counter.seq - count + 1);
    }
    let created_at = DateTime::now();
    let mut docs = Vec::with_capacity(events.len());
    for (event, key) in events.iter().zip(&keys) {
        let seq = next_seq.entry(key.as_str()).or_default();
        docs.push(outbox_document(event, key, *seq, created_at));
        *seq += 1;
    }
    db.collection::<Document>(OUTBOX)
        .insert_many(docs)
        .session(session)
        .await?;
    Ok(())
}

/// A key's counter in `outbox_keys`.
#[derive(Deserialize)]
struct Counter {
    seq: i64,
}

fn outbox_document(event: &Envelope, key: &str, seq: i64, created_at: DateTime) -> Document {
    // `to_json` is serde_json's output, always UTF-8: the text is the exact bytes published.
    let payload = String::from_utf8_lossy(&event.to_json()).into_owned();
    doc! {
        "_id": ObjectId::new(),
        "event_id": event.event_id.to_string(),
        "event_type": event.event_type().as_str(),
        "key": key,
        "payload": payload,
        "traceparent": event.traceparent.map(|t| t.to_string()),
        "created_at": created_at,
        "seq": seq,
    }
}

/// An outbox document that does not make a record: written by something other than
/// [`enqueue`], or altered since.
#[derive(Debug, thiserror::Error)]
pub(super) enum RecordError {
    /// Its `event_id` is not a UUID.
    #[error("outbox record {id} has a malformed event_id")]
    EventId {
        /// The document's `_id`.
        id: ObjectId,
        /// The parser's error.
        #[source]
        source: uuid::Error,
    },
    /// Its `created_at` lies outside the dates chrono represents.
    #[error("outbox record {id} has an out-of-range created_at")]
    CreatedAt {
        /// The document's `_id`.
        id: ObjectId,
    },
    /// A change of the outbox's stream carries no document (an insert always does).
    #[error("an insert into the outbox arrived without its document")]
    NoDocument,
    /// It lacks a field of a record, or holds one of another type.
    #[error("an outbox document is not a record")]
    Shape(#[source] mongodb::bson::de::Error),
}

/// An outbox document as the relay reads it.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct OutboxDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub event_id: String,
    pub event_type: String,
    pub key: String,
    pub payload: String,
    pub traceparent: Option<String>,
    pub created_at: DateTime,
    pub seq: i64,
}

impl OutboxDoc {
    pub fn into_record(self) -> Result<OutboxRecord<ObjectId>, RecordError> {
        let event_id = Uuid::parse_str(&self.event_id).map_err(|source| RecordError::EventId {
            id: self.id,
            source,
        })?;
        let created_at =
            ChronoDateTime::<Utc>::from_timestamp_millis(self.created_at.timestamp_millis())
                .ok_or(RecordError::CreatedAt { id: self.id })?;
        Ok(OutboxRecord {
            id: self.id,
            event_id,
            event_type: self.event_type,
            key: self.key,
            payload: self.payload.into_bytes(),
            traceparent: self.traceparent,
            created_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use mongodb::bson::{from_document, Bson};

    use super::*;
    use saga_contracts::events::OrderCancelled;

    #[test]
    fn stored_document_reads_back_as_the_published_record() {
        let event = Envelope::new(
            "orders",
            OrderCancelled {
                order_id: Uuid::now_v7(),
                customer_id: Uuid::now_v7(),
                reason: "timeout".into(),
            },
        );
        let key = event.key();
        let stored = outbox_document(&event, &key, 7, DateTime::now());
        assert_eq!(stored.get_i64("seq").unwrap(), 7);
        let doc: OutboxDoc = from_document(stored).unwrap();
        assert_eq!((doc.key.as_str(), doc.seq), (key.as_str(), 7));
        let record = doc.into_record().unwrap();
        assert_eq!(record.event_id, event.event_id);
        assert_eq!(record.event_type, "order.cancelled");
        assert_eq!(record.key, key);
        assert_eq!(record.payload, event.to_json());
        assert_eq!(record.traceparent, event.traceparent.map(|t| t.to_string()));
    }

    #[test]
    fn a_record_without_trace_context_stores_null() {
        let mut event = Envelope::new(
            "orders",
            OrderCancelled {
                order_id: Uuid::now_v7(),
                customer_id: Uuid::now_v7(),
                reason: "timeout".into(),
            },
        );
        event.traceparent = None;
        let stored = outbox_document(&event, "k", 1, DateTime::now());
        assert_eq!(stored.get("traceparent"), Some(&Bson::Null));
        let doc: OutboxDoc = from_document(stored).unwrap();
        assert_eq!(doc.into_record().unwrap().traceparent, None);
    }
}
