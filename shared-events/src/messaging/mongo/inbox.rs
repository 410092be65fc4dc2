//! The idempotent-consumer step for MongoDB: inbox document and effect in one transaction.

use async_trait::async_trait;
use mongodb::bson::{doc, DateTime, Document};
use mongodb::{ClientSession, Database};

use super::{txn, INBOX};
use crate::contracts::envelope::Envelope;
use crate::messaging::consumer::{Handler, HandlerError, Outcome};

/// A handler whose effect runs inside a transaction the runtime starts and commits. Its writes
/// must pass `session` (`.session(&mut *session)`) to be part of it, and it must neither commit
/// nor abort. Events it emits go through [`super::enqueue`] with the same session.
#[async_trait]
pub trait MongoHandler: Send + Sync + 'static {
    /// Applies `event` inside the transaction on `session`; an error aborts it and is
    /// classified (retried or dead-lettered) as any handler's.
    async fn handle(
        &self,
        session: &mut ClientSession,
        db: &Database,
        event: &Envelope,
    ) -> Result<(), HandlerError>;
}

/// Wraps a [`MongoHandler`] so that each event's effect happens once per consumer: the inbox
/// document `<consumer>:<event_id>` is inserted first in the transaction; if it exists the event
/// is a duplicate and nothing runs. Two instances racing on one event conflict on that document
/// and one of them is retried.
pub struct MongoIdempotent<H> {
    db: Database,
    consumer: String,
    inner: H,
}

impl<H: MongoHandler> MongoIdempotent<H> {
    /// `inner`, applied once per event for `consumer` (the service's name) in `db`.
    pub fn new(db: Database, consumer: impl Into<String>, inner: H) -> Self {
        MongoIdempotent {
            db,
            consumer: consumer.into(),
            inner,
        }
    }
}

#[async_trait]
impl<H: MongoHandler> Handler for MongoIdempotent<H> {
    async fn handle(&self, event: &Envelope) -> Result<Outcome, HandlerError> {
        let mut session = self
            .db
            .client()
            .start_session()
            .await
            .map_err(|e| txn::store_error(e, "starting a session"))?;
        txn::begin(&mut session)
            .await
            .map_err(|e| txn::store_error(e, "starting a transaction"))?;
        // A dropped future (shutdown) leaves the transaction to the session's drop, which aborts it.
        let inserted = self
            .db
            .collection::<Document>(INBOX)
            .insert_one(inbox_document(&self.consumer, event))
            .session(&mut session)
            .await;
        if let Err(e) = inserted {
            txn::abort(&mut session).await;
            if !txn::is_transient(&e) && txn::is_duplicate_key(&e) {
                return Ok(Outcome::Duplicate);
            }
            return Err(txn::store_error(e, "recording the event in the inbox"));
        }
        if let Err(e) = self.inner.handle(&mut session, &self.db, event).await {
            txn::abort(&mut session).await;
            return Err(txn::handler_error(e));
        }
        txn::commit(&mut session)
            .await
            .map_err(|e| txn::store_error(e, "committing the transaction"))?;
        Ok(Outcome::Applied)
    }
}

fn inbox_document(consumer: &str, event: &Envelope) -> Document {
    let event_id = event.event_id.to_string();
    doc! {
        "_id": format!("{consumer}:{event_id}"),
        "consumer": consumer,
        "event_id": event_id,
        "event_type": event.event_type().as_str(),
        "processed_at": DateTime::now(),
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::contracts::events::OrderCancelled;

    #[test]
    fn inbox_id_is_consumer_and_event() {
        let event = Envelope::new(
            "orders",
            OrderCancelled {
                order_id: Uuid::now_v7(),
                customer_id: Uuid::now_v7(),
                reason: "timeout".into(),
            },
        );
        let d = inbox_document("payments", &event);
        let id = format!("payments:{}", event.event_id);
        assert_eq!(d.get_str("_id").unwrap(), id);
        assert_eq!(d.get_str("consumer").unwrap(), "payments");
        assert_eq!(d.get_str("event_id").unwrap(), event.event_id.to_string());
        assert_eq!(d.get_str("event_type").unwrap(), "order.cancelled");
        assert!(d.get_datetime("processed_at").is_ok());
    }
}
