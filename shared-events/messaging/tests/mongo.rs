//! The MongoDB side of the runtime against a real server (`MONGODB_URL`, default the stack's
//! SecantusDB; no server fails these tests): the idempotent step ([`MongoInbox`]) with a
//! handler per call and under write conflicts, and the outbox relay's lease passing to another
//! instance.
#![cfg(feature = "mongodb")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use mongodb::bson::{doc, Document};
use mongodb::{ClientSession, Database};
use saga_contracts::events::OrderCancelled;
use saga_contracts::Envelope;
use saga_messaging::mongo::{enqueue, ensure_indexes, MongoHandler, MongoInbox, MongoOutboxStore};
use saga_messaging::outbox::OutboxStore;
use saga_messaging::testing::fresh_mongo_database;
use saga_messaging::{HandlerError, Outcome};
use uuid::Uuid;

/// Adds its number to a single counter document: every event writes the same document, as
/// every order of a hot SKU writes that SKU's product.
struct Add(i64);

#[async_trait]
impl MongoHandler for Add {
    async fn handle(
        &self,
        session: &mut ClientSession,
        db: &Database,
        _event: &Envelope,
    ) -> Result<(), HandlerError> {
        db.collection::<Document>("counter")
            .update_one(doc! { "_id": "hot" }, doc! { "$inc": { "n": self.0 } })
            .upsert(true)
            .session(&mut *session)
            .await
            .map_err(HandlerError::from)?;
        Ok(())
    }
}

fn cancelled() -> Envelope {
    Envelope::new(
        "test",
        OrderCancelled {
            order_id: Uuid::now_v7(),
            customer_id: Uuid::nil(),
            reason: "timeout".into(),
        },
    )
}

async fn counter(db: &Database) -> i64 {
    db.collection::<Document>("counter")
        .find_one(doc! { "_id": "hot" })
        .await
        .unwrap()
        .map_or(0, |d| d.get_i64("n").unwrap())
}

/// Events handled at once on partitions of their own all write one document; MongoDB lets one
/// transaction at a time commit it and fails the others with a write conflict. Each is run
/// again in place until it commits: none goes back to the consumer runner, whose transient
/// budget would dead-letter it.
#[tokio::test]
async fn concurrent_events_on_one_document_are_all_applied_in_place() {
    let db = fresh_mongo_database().await;
    ensure_indexes(&db).await.unwrap();
    let inbox = Arc::new(MongoInbox::new(db.clone(), "test"));
    const EVENTS: i64 = 24;
    let runs: Vec<_> = (0..EVENTS)
        .map(|_| {
            let inbox = inbox.clone();
            tokio::spawn(async move { inbox.apply(&Add(1), &cancelled()).await })
        })
        .collect();
    let mut failed = Vec::new();
    for run in runs {
        match run.await.unwrap() {
            Ok(Outcome::Applied) => {}
            other => failed.push(format!("{other:?}")),
        }
    }
    assert!(failed.is_empty(), "events not applied: {failed:#?}");
    assert_eq!(counter(&db).await, EVENTS);
}

/// An event delivered twice, one delivery after the other, and twice at once: applied once.
#[tokio::test]
async fn a_redelivered_event_is_applied_once() {
    let db = fresh_mongo_database().await;
    ensure_indexes(&db).await.unwrap();
    let inbox = MongoInbox::new(db.clone(), "test");
    let event = cancelled();
    assert!(matches!(
        inbox.apply(&Add(1), &event).await,
        Ok(Outcome::Applied)
    ));
    assert!(matches!(
        inbox.apply(&Add(1), &event).await,
        Ok(Outcome::Duplicate)
    ));

    let racing = cancelled();
    let (a, b) = tokio::join!(inbox.apply(&Add(1), &racing), inbox.apply(&Add(1), &racing));
    let outcomes = [a.unwrap(), b.unwrap()];
    assert!(
        outcomes.contains(&Outcome::Applied) && outcomes.contains(&Outcome::Duplicate),
        "{outcomes:?}"
    );
    assert_eq!(counter(&db).await, 2);
}

/// Each call applies the handler it is given, and only that one: a duplicate runs none, whatever
/// handler comes with it; another consumer's inbox applies the event again.
#[tokio::test]
async fn each_call_applies_its_own_handler_once_per_event() {
    let db = fresh_mongo_database().await;
    ensure_indexes(&db).await.unwrap();
    let inbox = MongoInbox::new(db.clone(), "test");
    let (first, second) = (cancelled(), cancelled());
    assert_eq!(
        inbox.apply(&Add(1), &first).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        inbox.apply(&Add(10), &second).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(counter(&db).await, 11);
    assert_eq!(
        inbox.apply(&Add(100), &first).await.unwrap(),
        Outcome::Duplicate
    );
    assert_eq!(counter(&db).await, 11, "a duplicate ran its handler");
    let other = MongoInbox::new(db.clone(), "other");
    assert_eq!(
        other.apply(&Add(100), &first).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(counter(&db).await, 111);
}

/// One event in the outbox of `db`, committed.
async fn enqueue_one(db: &Database) -> Envelope {
    let event = cancelled();
    let mut session = db.client().start_session().await.unwrap();
    session.start_transaction().await.unwrap();
    enqueue(&mut session, db, std::slice::from_ref(&event))
        .await
        .unwrap();
    session.commit_transaction().await.unwrap();
    event
}

/// The relay that holds the lease publishes; another gets nothing while the lease is held, and
/// takes it over once the holder stops renewing it and it expires (about 10 s), so a restarted
/// service publishes again. The expiry is compared on the server's clock.
#[tokio::test]
async fn a_relay_takes_over_the_outbox_once_the_holders_lease_expires() {
    let db = fresh_mongo_database().await;
    ensure_indexes(&db).await.unwrap();
    let event = enqueue_one(&db).await;

    let mut first = MongoOutboxStore::new(db.clone());
    let batch = first.next_batch(10, &[]).await.unwrap();
    assert_eq!(
        batch.iter().map(|r| r.event_id).collect::<Vec<_>>(),
        [event.event_id]
    );
    let mut second = MongoOutboxStore::new(db.clone());
    assert!(
        second.next_batch(10, &[]).await.unwrap().is_empty(),
        "a second relay read the outbox while the first held the lease"
    );

    // The first relay stops (a killed process): nothing renews its lease.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(30);
    let taken = loop {
        let batch = second.next_batch(10, &[]).await.unwrap();
        if !batch.is_empty() {
            break batch;
        }
        assert!(
            Instant::now() < deadline,
            "the second relay never took over the expired lease"
        );
        second.wait(Duration::from_millis(500)).await;
    };
    assert_eq!(taken[0].event_id, event.event_id);
}
