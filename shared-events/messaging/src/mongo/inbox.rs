//! The idempotent-consumer step for MongoDB: inbox document and effect in one transaction
//! ([`MongoInbox`]), with the handler given for each call.

use async_trait::async_trait;
use mongodb::bson::{doc, DateTime, Document};
use mongodb::{ClientSession, Database};

use super::with_transaction::{is_conflict, with_transaction, Unit};
use super::{txn, INBOX};
use crate::consumer::{HandlerError, Outcome};
use saga_contracts::envelope::Envelope;

/// A handler whose effect runs inside a transaction the runtime starts and commits. Its writes
/// must pass `session` (`.session(&mut *session)`) to be part of it, and it must neither commit
/// nor abort. Events it emits go through [`super::enqueue`] with the same session.
#[async_trait]
pub trait MongoHandler: Send + Sync {
    /// Applies `event` inside the transaction on `session`; an error aborts it and is
    /// classified (retried or dead-lettered) as any handler's.
    async fn handle(
        &self,
        session: &mut ClientSession,
        db: &Database,
        event: &Envelope,
    ) -> Result<(), HandlerError>;
}

/// The inbox of one consumer in a database: applies an event's effect once per consumer, with
/// the [`MongoHandler`] given for that call. The inbox document `<consumer>:<event_id>` is
/// inserted first in the transaction; if it exists the event is a duplicate and nothing runs.
/// Two instances racing on one event conflict on that document and one of them is run again.
/// The handler's effect, the events it enqueues (outbox) and the inbox document commit together
/// or not at all.
///
/// The handler comes with each call, so it may carry what only that event's caller knows:
/// inventory's store passes the step of the command its saga made of the event.
pub struct MongoInbox {
    /// The database of the inbox and of the handler's writes.
    db: Database,
    /// The inbox's consumer: the service's name.
    consumer: String,
}

impl MongoInbox {
    /// The inbox of `consumer` (the service's name) in `db`.
    pub fn new(db: Database, consumer: impl Into<String>) -> Self {
        MongoInbox {
            db,
            consumer: consumer.into(),
        }
    }

    /// Applies `event` with `handler`, once: [`Outcome::Duplicate`] without running it if the
    /// inbox holds the event already. One transaction holds the inbox document and the effect.
    /// A write conflict (two transactions on one hot document) runs it again in place, handler
    /// included ([`with_transaction`]), so the consumer runner sees only what waiting cannot
    /// fix that fast.
    pub async fn apply<H: MongoHandler + ?Sized>(
        &self,
        handler: &H,
        event: &Envelope,
    ) -> Result<Outcome, HandlerError> {
        let unit = Apply {
            db: &self.db,
            consumer: &self.consumer,
            handler,
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
struct Apply<'a, H: ?Sized> {
    db: &'a Database,
    consumer: &'a str,
    handler: &'a H,
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
impl<H: MongoHandler + ?Sized> Unit for Apply<'_, H> {
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
        self.handler
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
