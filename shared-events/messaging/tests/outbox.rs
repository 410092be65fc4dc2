//! The PostgreSQL outbox and its relay, against real PostgreSQL and the real broker.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{env, numbered, seq_of};
use rdkafka::consumer::StreamConsumer;
use rdkafka::message::OwnedMessage;
use rdkafka::Message;
use saga_contracts::{Envelope, EventType};
use saga_messaging::postgres::{enqueue, enqueue_all, peek_outbox, PgOutboxStore};
use saga_messaging::testing::{header, read_until, reader, wait_for, wait_relayed};
use saga_messaging::{CancellationToken, OutboxRelay};
use uuid::Uuid;

/// Whether `message` carries one of `events`.
fn is_one_of(message: &OwnedMessage, events: &[Envelope]) -> bool {
    let id = Envelope::decode(message.payload().unwrap())
        .unwrap()
        .event_id;
    events.iter().any(|e| e.event_id == id)
}

/// Reads until every one of `markers` has been read.
async fn read_until_all(consumer: &StreamConsumer, markers: &[Envelope]) -> Vec<OwnedMessage> {
    let mut missing: HashSet<Uuid> = markers.iter().map(|e| e.event_id).collect();
    read_until(consumer, Duration::from_secs(60), |m| {
        if let Some(last) = m.last() {
            missing.remove(&Envelope::decode(last.payload().unwrap()).unwrap().event_id);
        }
        missing.is_empty()
    })
    .await
}

fn decode_all(messages: &[OwnedMessage]) -> Vec<Envelope> {
    messages
        .iter()
        .map(|m| Envelope::decode(m.payload().unwrap()).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_events_arrive_once_each_in_commit_order_per_key() {
    let env = env(&[EventType::StockUpdated]).await;
    let shutdown = CancellationToken::new();
    let relay = OutboxRelay::new(
        PgOutboxStore::new(env.pool.clone()),
        env.producer.clone(),
        env.kafka.clone(),
    );
    let relay = tokio::spawn(relay.run(shutdown.clone()));

    // Five keys written concurrently, each key's events committed one transaction at a time,
    // so each key's commit order is its sequence.
    const KEYS: usize = 5;
    const PER_KEY: u64 = 40;
    let mut writers = Vec::new();
    for k in 0..KEYS {
        let pool = env.pool.clone();
        writers.push(tokio::spawn(async move {
            let mut written = Vec::new();
            for seq in 0..PER_KEY {
                let event = numbered(&format!("SKU-{k}"), seq);
                let mut tx = pool.begin().await.unwrap();
                enqueue(&mut tx, &event).await.unwrap();
                tx.commit().await.unwrap();
                written.push(event);
            }
            written
        }));
    }
    let mut traces = HashMap::new();
    for w in writers {
        for e in w.await.unwrap() {
            traces.insert(e.event_id, e.traceparent.unwrap().to_string());
        }
    }

    // A marker per key, committed after the key's events: the relay publishes a key in commit
    // order, so once every marker is read, everything published before them is too.
    let markers: Vec<Envelope> = (0..KEYS)
        .map(|k| numbered(&format!("SKU-{k}"), PER_KEY))
        .collect();
    let mut tx = env.pool.begin().await.unwrap();
    enqueue_all(&mut tx, &markers).await.unwrap();
    tx.commit().await.unwrap();

    let total = KEYS * PER_KEY as usize;
    let topic = env.kafka.topic(EventType::StockUpdated);
    let consumer = reader(&env.kafka, &[&topic]);
    let mut messages = read_until_all(&consumer, &markers).await;
    messages.retain(|m| !is_one_of(m, &markers));

    let events = decode_all(&messages);
    let ids: HashSet<Uuid> = events.iter().map(|e| e.event_id).collect();
    assert_eq!(events.len(), total, "each event exactly once");
    assert_eq!(ids.len(), total);
    let mut per_key: HashMap<String, Vec<u64>> = HashMap::new();
    for e in &events {
        let (sku, seq) = seq_of(e);
        per_key.entry(sku).or_default().push(seq);
    }
    for (sku, seqs) in &per_key {
        assert_eq!(
            seqs,
            &(0..PER_KEY).collect::<Vec<_>>(),
            "{sku} out of commit order"
        );
    }
    // The key is the SKU; the headers carry the event type and the enqueued trace context.
    for m in &messages {
        let e = Envelope::decode(m.payload().unwrap()).unwrap();
        assert_eq!(m.key().unwrap(), e.key().as_bytes());
        assert_eq!(header(m, "event_type").as_deref(), Some("stock.updated"));
        assert_eq!(header(m, "traceparent").as_ref(), traces.get(&e.event_id));
    }

    // The relay confirms every transaction to the slot, the last ones once the relay's
    // deferred marking is due: PostgreSQL may then recycle their WAL.
    wait_relayed(&env.pool, Duration::from_secs(30)).await;
    shutdown.cancel();
    relay.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_transaction_publishes_nothing() {
    let env = env(&[EventType::StockUpdated]).await;
    let rolled_back = numbered("SKU-R", 1);
    let committed = numbered("SKU-R", 2);

    let mut tx = env.pool.begin().await.unwrap();
    enqueue(&mut tx, &rolled_back).await.unwrap();
    tx.rollback().await.unwrap();
    let mut tx = env.pool.begin().await.unwrap();
    enqueue(&mut tx, &committed).await.unwrap();
    tx.commit().await.unwrap();

    // The log holds the committed event only.
    let mut conn = env.pool.acquire().await.unwrap();
    let held: Vec<Uuid> = peek_outbox(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.event_id)
        .collect();
    assert_eq!(held, vec![committed.event_id]);
    drop(conn);

    let shutdown = CancellationToken::new();
    let relay = OutboxRelay::new(
        PgOutboxStore::new(env.pool.clone()),
        env.producer.clone(),
        env.kafka.clone(),
    );
    let relay = tokio::spawn(relay.run(shutdown.clone()));

    // A marker on the same key, committed after both: once it is read, so is all before it.
    let marker = numbered("SKU-R", 3);
    let mut tx = env.pool.begin().await.unwrap();
    enqueue(&mut tx, &marker).await.unwrap();
    tx.commit().await.unwrap();

    let topic = env.kafka.topic(EventType::StockUpdated);
    let consumer = reader(&env.kafka, &[&topic]);
    let messages = read_until_all(&consumer, std::slice::from_ref(&marker)).await;
    let ids: Vec<Uuid> = decode_all(&messages).iter().map(|e| e.event_id).collect();
    assert_eq!(ids, vec![committed.event_id, marker.event_id]);

    // Once the relay confirmed them and let the slot go, the log holds nothing to publish.
    wait_relayed(&env.pool, Duration::from_secs(30)).await;
    shutdown.cancel();
    relay.await.unwrap().unwrap();
    let left = wait_for("the slot to be let go", Duration::from_secs(30), || {
        let pool = env.pool.clone();
        async move {
            let mut conn = pool.acquire().await.ok()?;
            peek_outbox(&mut conn).await.ok()
        }
    })
    .await;
    assert!(left.is_empty(), "{} events left", left.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_midway_delivers_everything_after_restart() {
    let env = env(&[EventType::StockUpdated]).await;
    const TOTAL: usize = 2_000;
    let mut expected = HashSet::new();
    for chunk in 0..(TOTAL / 100) {
        let events: Vec<Envelope> = (0..100)
            .map(|i| numbered(&format!("SKU-{}", i % 7), (chunk * 100 + i) as u64))
            .collect();
        expected.extend(events.iter().map(|e| e.event_id));
        let mut tx = env.pool.begin().await.unwrap();
        enqueue_all(&mut tx, &events).await.unwrap();
        tx.commit().await.unwrap();
    }

    // First relay: small batches, killed (aborted, no graceful stop) once a few are out.
    let published = Arc::new(AtomicUsize::new(0));
    let counter = published.clone();
    let relay = OutboxRelay::new(
        PgOutboxStore::new(env.pool.clone()),
        env.producer.clone(),
        env.kafka.clone(),
    )
    .batch_size(50)
    .on_published(move |p| {
        counter.fetch_add(p.len(), Ordering::SeqCst);
    });
    let first = tokio::spawn(relay.run(CancellationToken::new()));
    wait_for(
        "the first relay to publish 300",
        Duration::from_secs(60),
        || {
            let n = published.load(Ordering::SeqCst);
            async move { (n >= 300).then_some(()) }
        },
    )
    .await;
    first.abort();
    let _ = first.await;
    let sent_before = published.load(Ordering::SeqCst);
    assert!(
        (300..TOTAL).contains(&sent_before),
        "the first relay was stopped midway ({sent_before} published)"
    );

    // Second relay, as after a restart, with a fresh producer.
    let shutdown = CancellationToken::new();
    let producer = saga_messaging::producer::build_producer(&env.kafka).unwrap();
    let relay = OutboxRelay::new(
        PgOutboxStore::new(env.pool.clone()),
        producer,
        env.kafka.clone(),
    );
    let second = tokio::spawn(relay.run(shutdown.clone()));

    let topic = env.kafka.topic(EventType::StockUpdated);
    let consumer = reader(&env.kafka, &[&topic]);
    let mut seen = HashSet::new();
    let messages = read_until(&consumer, Duration::from_secs(120), |m| {
        if let Some(last) = m.last() {
            seen.insert(Envelope::decode(last.payload().unwrap()).unwrap().event_id);
        }
        seen.len() >= TOTAL
    })
    .await;
    assert!(
        expected.iter().all(|id| seen.contains(id)),
        "every committed event delivered"
    );
    assert!(messages.len() >= TOTAL);

    // Per key, the first delivery of each event is still in order.
    let mut last_seq: HashMap<String, u64> = HashMap::new();
    let mut first_seen = HashSet::new();
    for e in decode_all(&messages) {
        if !first_seen.insert(e.event_id) {
            continue;
        }
        let (sku, seq) = seq_of(&e);
        if let Some(prev) = last_seq.insert(sku.clone(), seq) {
            assert!(seq > prev, "{sku}: {seq} delivered after {prev}");
        }
    }
    shutdown.cancel();
    second.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_one_of_two_relays_publishes_at_a_time() {
    let env = env(&[EventType::StockUpdated]).await;
    let shutdown = CancellationToken::new();
    let counts: Vec<Arc<AtomicUsize>> = (0..2).map(|_| Arc::new(AtomicUsize::new(0))).collect();
    let mut relays = Vec::new();
    for c in &counts {
        let c = c.clone();
        let relay = OutboxRelay::new(
            PgOutboxStore::new(env.pool.clone()),
            env.producer.clone(),
            env.kafka.clone(),
        )
        .on_published(move |p| {
            c.fetch_add(p.len(), Ordering::SeqCst);
        });
        relays.push(tokio::spawn(relay.run(shutdown.clone())));
    }
    for seq in 0..100 {
        let mut tx = env.pool.begin().await.unwrap();
        enqueue(&mut tx, &numbered("SKU-L", seq)).await.unwrap();
        tx.commit().await.unwrap();
    }
    // The 101st record, on the same key, is the marker: once it is read, so is all before it.
    let marker = numbered("SKU-L", 100);
    let mut tx = env.pool.begin().await.unwrap();
    enqueue(&mut tx, &marker).await.unwrap();
    tx.commit().await.unwrap();
    let topic = env.kafka.topic(EventType::StockUpdated);
    let consumer = reader(&env.kafka, &[&topic]);
    let messages = read_until_all(&consumer, std::slice::from_ref(&marker)).await;
    let seqs: Vec<u64> = decode_all(&messages).iter().map(|e| seq_of(e).1).collect();
    assert_eq!(seqs, (0..=100).collect::<Vec<_>>());
    let per_relay: Vec<usize> = counts.iter().map(|c| c.load(Ordering::SeqCst)).collect();
    assert!(
        per_relay.contains(&0) && per_relay.contains(&101),
        "{per_relay:?}"
    );
    shutdown.cancel();
    for r in relays {
        r.await.unwrap().unwrap();
    }
}

async fn sessions_opened(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The standby relay tries for the slot at most once a second (a replication session each
/// time), whatever the commits: 100 of them open at most a few sessions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_relay_does_not_open_a_connection_per_notification() {
    let env = env(&[EventType::StockUpdated]).await;
    let shutdown = CancellationToken::new();
    let mut relays = Vec::new();
    for _ in 0..2 {
        let relay = OutboxRelay::new(
            PgOutboxStore::new(env.pool.clone()),
            env.producer.clone(),
            env.kafka.clone(),
        );
        relays.push(tokio::spawn(relay.run(shutdown.clone())));
    }
    let topic = env.kafka.topic(EventType::StockUpdated);
    let consumer = reader(&env.kafka, &[&topic]);
    // Both relays are up (one streams the slot) once a first record is through.
    let mut tx = env.pool.begin().await.unwrap();
    enqueue(&mut tx, &numbered("SKU-S", 0)).await.unwrap();
    tx.commit().await.unwrap();
    read_until(&consumer, Duration::from_secs(60), |m| !m.is_empty()).await;

    let before = sessions_opened(&env.pool).await;
    for seq in 1..=100 {
        let mut tx = env.pool.begin().await.unwrap();
        enqueue(&mut tx, &numbered("SKU-S", seq)).await.unwrap();
        tx.commit().await.unwrap();
    }
    read_until(&consumer, Duration::from_secs(60), |m| m.len() >= 100).await;
    let opened = sessions_opened(&env.pool).await - before;
    assert!(
        opened <= 3,
        "{opened} database sessions opened during 100 commits"
    );
    shutdown.cancel();
    for r in relays {
        r.await.unwrap().unwrap();
    }
}
