//! The MongoDB side of the runtime against a real server (`MONGODB_URL`, default the stack's
//! SecantusDB; no server fails these tests): the idempotent step ([`MongoInbox`]) with a
//! handler per call and under write conflicts, the outbox relay's lease passing to another
//! instance, and the relay publishing each key in commit order from the outbox's change stream
//! and resuming after its recorded position.
#![cfg(feature = "mongodb")]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use common::{numbered, seq_of};
use mongodb::bson::{doc, Document};
use mongodb::{ClientSession, Database};
use rdkafka::consumer::StreamConsumer;
use rdkafka::message::OwnedMessage;
use rdkafka::Message;
use saga_contracts::events::OrderCancelled;
use saga_contracts::Envelope;
use saga_contracts::EventType;
use saga_messaging::mongo::{enqueue, ensure_indexes, MongoHandler, MongoInbox, MongoOutboxStore};
use saga_messaging::outbox::OutboxStore;
use saga_messaging::testing::{fresh_mongo_database, isolated_kafka, read_until, reader};
use saga_messaging::{CancellationToken, HandlerError, KafkaConfig, OutboxRelay, Outcome};
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

/// Commits `events`, one transaction each, in order.
async fn enqueue_each(db: &Database, events: &[Envelope]) {
    for event in events {
        let mut session = db.client().start_session().await.unwrap();
        session.start_transaction().await.unwrap();
        enqueue(&mut session, db, std::slice::from_ref(event))
            .await
            .unwrap();
        session.commit_transaction().await.unwrap();
    }
}

/// Reads until every one of `markers` has been read.
async fn read_until_all(consumer: &StreamConsumer, markers: &[Envelope]) -> Vec<Envelope> {
    let mut missing: HashSet<Uuid> = markers.iter().map(|e| e.event_id).collect();
    let messages: Vec<OwnedMessage> = read_until(consumer, Duration::from_secs(60), |m| {
        if let Some(last) = m.last() {
            missing.remove(&Envelope::decode(last.payload().unwrap()).unwrap().event_id);
        }
        missing.is_empty()
    })
    .await;
    messages
        .iter()
        .map(|m| Envelope::decode(m.payload().unwrap()).unwrap())
        .collect()
}

/// Each key's numbers, in the order read.
fn per_key(events: &[Envelope]) -> HashMap<String, Vec<u64>> {
    let mut keys: HashMap<String, Vec<u64>> = HashMap::new();
    for e in events {
        let (sku, seq) = seq_of(e);
        keys.entry(sku).or_default().push(seq);
    }
    keys
}

fn start_relay(
    db: &Database,
    kafka: &KafkaConfig,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let producer = saga_messaging::producer::build_producer(kafka).unwrap();
    let relay = OutboxRelay::new(MongoOutboxStore::new(db.clone()), producer, kafka.clone());
    let shutdown = CancellationToken::new();
    let task = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { relay.run(shutdown).await.unwrap() }
    });
    (shutdown, task)
}

/// Events committed before the relay starts (read from the collection: there is no position
/// yet) and while it runs (read from the change stream, which also repeats some of the former)
/// arrive once each, each key in commit order. A relay that starts later, once the lease of the
/// stopped one expired, resumes after the position the first one recorded: it publishes only
/// what followed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_publishes_each_key_in_commit_order_and_resumes_after_its_position() {
    let db = fresh_mongo_database().await;
    ensure_indexes(&db).await.unwrap();
    let kafka = isolated_kafka();
    saga_messaging::topics::ensure_topics(&kafka, &[EventType::StockUpdated])
        .await
        .unwrap();
    let consumer = reader(&kafka, &[&kafka.topic(EventType::StockUpdated)]);
    const KEYS: usize = 4;
    const BEFORE: u64 = 10;
    const WHILE: u64 = 30;

    // Committed before any relay ran.
    for k in 0..KEYS {
        let events: Vec<Envelope> = (0..BEFORE)
            .map(|i| numbered(&format!("SKU-{k}"), i))
            .collect();
        enqueue_each(&db, &events).await;
    }
    let (shutdown, relay) = start_relay(&db, &kafka);
    // Committed while it runs, the keys concurrently, each key one transaction at a time.
    let writers: Vec<_> = (0..KEYS)
        .map(|k| {
            let db = db.clone();
            tokio::spawn(async move {
                let events: Vec<Envelope> = (BEFORE..BEFORE + WHILE)
                    .map(|i| numbered(&format!("SKU-{k}"), i))
                    .collect();
                enqueue_each(&db, &events).await;
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let markers: Vec<Envelope> = (0..KEYS)
        .map(|k| numbered(&format!("SKU-{k}"), BEFORE + WHILE))
        .collect();
    enqueue_each(&db, &markers).await;
    let events = read_until_all(&consumer, &markers).await;
    let ids: HashSet<Uuid> = events.iter().map(|e| e.event_id).collect();
    assert_eq!(ids.len(), events.len(), "an event was published twice");
    assert_eq!(events.len(), KEYS * (BEFORE + WHILE + 1) as usize);
    for (sku, seqs) in per_key(&events) {
        assert_eq!(
            seqs,
            (0..=BEFORE + WHILE).collect::<Vec<_>>(),
            "{sku} out of commit order"
        );
    }

    // Stopped, the relay records its position; the next one resumes after it.
    shutdown.cancel();
    relay.await.unwrap();
    let (shutdown, relay) = start_relay(&db, &kafka);
    let after: Vec<Envelope> = (0..KEYS)
        .map(|k| numbered(&format!("SKU-{k}"), BEFORE + WHILE + 1))
        .collect();
    enqueue_each(&db, &after).await;
    let events = read_until_all(&consumer, &after).await;
    assert_eq!(
        events.iter().map(|e| e.event_id).collect::<HashSet<_>>(),
        after.iter().map(|e| e.event_id).collect::<HashSet<_>>(),
        "the second relay published something the first had published"
    );
    shutdown.cancel();
    relay.await.unwrap();
}
