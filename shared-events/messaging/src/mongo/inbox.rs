//! The idempotent-consumer step for MongoDB: inbox document and effect in one transaction.

use async_trait::async_trait;
use mongodb::bson::{doc, DateTime, Document};
use mongodb::{ClientSession, Database};

use super::with_transaction::{is_conflict, with_transaction, Unit};
use super::{txn, INBOX};
use crate::consumer::{Handler, HandlerError, Outcome};
use saga_contracts::envelope::Envelope;

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
    /// One transaction holds the inbox document and the effect. A write conflict (two
    /// transactions on one hot document) runs it again in place ([`with_transaction`]), so the
    /// consumer runner sees only what waiting cannot fix that fast.
    async fn handle(&self, event: &Envelope) -> Result<Outcome, HandlerError> {
        let unit = Apply {
            db: &self.db,
            consumer: &self.consumer,
            inner: &self.inner,
            event,
        };
        match with_transaction(self.db.client(), &unit).await {
            Ok(()) => Ok(Outcome::Applied),
            Err(Failure::Duplicate) => Ok(Outcome::Duplicate),
            Err(Failure::Handler(e)) => Err(e),
        }
    }
}

/// One attempt of an event: its inbox document, then the handler's effect.
struct Apply<'a, H> {
    db: &'a Database,
    consumer: &'a str,
    inner: &'a H,
    event: &'a Envelope,
}

/// Why an attempt did not commit.
enum Failure {
    /// The inbox already holds the event: it was applied before.
    Duplicate,
    /// The store or the handler failed; classified as any handler's error.
    Handler(HandlerError),
}

impl From<mongodb::error::Error> for Failure {
    fn from(e: mongodb::error::Error) -> Self {
        Failure::Handler(txn::store_error(e, "running the transaction"))
    }
}

#[async_trait]
impl<H: MongoHandler> Unit for Apply<'_, H> {
    type Output = ();
    type Error = Failure;

    async fn run(&self, session: &mut ClientSession) -> Result<(), Failure> {
        let inserted = self
            .db
            .collection::<Document>(INBOX)
            .insert_one(inbox_document(self.consumer, self.event))
            .session(&mut *session)
            .await;
        match inserted {
            Ok(_) => {}
            Err(e) if !txn::is_transient(&e) && txn::is_duplicate_key(&e) => {
                return Err(Failure::Duplicate)
            }
            Err(e) => {
                return Err(Failure::Handler(txn::store_error(
                    e,
                    "recording the event in the inbox",
                )))
            }
        }
        self.inner
            .handle(session, self.db, self.event)
            .await
            .map_err(|e| Failure::Handler(txn::handler_error(e)))
    }

    fn conflicted(error: &Failure) -> bool {
        match error {
            Failure::Duplicate => false,
            Failure::Handler(HandlerError::Permanent(e) | HandlerError::Transient(e)) => {
                is_conflict(e)
            }
            Failure::Handler(_) => false,
        }
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
    use saga_contracts::events::OrderCancelled;

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
