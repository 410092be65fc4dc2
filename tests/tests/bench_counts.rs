//! The benchmark's readers of the stores' counters, against the real stack (no services
//! needed): PostgreSQL's transactions per service database and WAL, read as the superuser once
//! the backends have published them (`saga_tests::bench::pgstats`), and the records produced in
//! a topic namespace, dead letters apart (`saga_tests::bench::produced`).

use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord};
use saga_contracts::events::EventType;
use saga_messaging::testing::{admin_connection, isolated_kafka};
use saga_messaging::topics::ensure_topics;
use saga_tests::bench::pgstats::{self, Probe};
use saga_tests::bench::produced;
use sqlx::Connection;
use uuid::Uuid;

/// As long as a sample may wait for the backends to publish (the benchmark's own bound).
const PUBLISHED_WITHIN: Duration = Duration::from_secs(20);

#[tokio::test]
async fn the_probe_counts_a_transaction_in_a_service_database_and_the_wal_of_a_write() {
    let mut probe = Probe::connect().await.unwrap_or_else(|e| panic!("{e}"));
    let before = probe
        .published_sample(PUBLISHED_WITHIN)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        pgstats::DATABASES
            .iter()
            .all(|db| before.transactions.contains_key(*db)),
        "every service database is read: {:?}",
        before.transactions
    );

    // Two transactions in orders' database on a connection kept open: the second ends within a
    // second of the first, so its backend holds it until it has idled 10 s, and only the
    // probe's wait for that makes it count.
    let mut orders = admin_connection("orders").await;
    for _ in 0..2 {
        sqlx::query("SELECT 1").execute(&mut orders).await.unwrap();
    }
    // 100 rows written in the postgres database (not one of the services'), its counts
    // published at once by `pg_stat_force_next_flush` before the statement returns.
    let table = format!("bench_counts_probe_{}", Uuid::new_v4().simple());
    let mut writer = admin_connection("postgres").await;
    for statement in [
        format!("CREATE TABLE {table} (n INT NOT NULL)"),
        format!("INSERT INTO {table} SELECT generate_series(1, 100)"),
        format!("DROP TABLE {table}"),
        "SELECT pg_stat_force_next_flush()".to_owned(),
    ] {
        sqlx::query(&statement).execute(&mut writer).await.unwrap();
    }

    let after = probe
        .published_sample(PUBLISHED_WITHIN)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(before.published && after.published);
    let spent = pgstats::spent(&before, &after);
    assert!(spent.transactions["orders"] >= 2, "{spent:?}");
    // One WAL record per row inserted, at least.
    assert!(spent.wal.records >= 100, "{spent:?}");
    assert!(spent.wal.bytes > 0, "{spent:?}");
    orders.close().await.unwrap();
    writer.close().await.unwrap();
}

#[tokio::test]
async fn records_produced_in_the_namespace_are_counted_with_dead_letters_apart() {
    let kafka = isolated_kafka();
    ensure_topics(&kafka, &[EventType::OrderCreated, EventType::OrderPaid])
        .await
        .unwrap();
    let before = produced::sample(&kafka)
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let producer: FutureProducer = kafka.producer_config().create().unwrap();
    let sends = [
        (kafka.topic(EventType::OrderCreated), "a"),
        (kafka.topic(EventType::OrderCreated), "b"),
        (kafka.topic(EventType::OrderPaid), "a"),
        (kafka.dlq_topic(EventType::OrderCreated), "a"),
    ];
    for (topic, key) in &sends {
        producer
            .send(
                FutureRecord::to(topic).key(*key).payload("{}"),
                Duration::from_secs(30),
            )
            .await
            .map_err(|(e, _)| e)
            .unwrap_or_else(|e| panic!("producing to {topic}: {e}"));
    }

    let after = produced::sample(&kafka)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let counted = produced::produced(&kafka, &before, &after);
    assert_eq!(
        (counted.events, counted.dead_letters),
        (3, 1),
        "{counted:?}"
    );
    assert_eq!(counted.per_topic[&kafka.topic(EventType::OrderCreated)], 2);
    assert_eq!(counted.per_topic[&kafka.topic(EventType::OrderPaid)], 1);
    assert_eq!(
        counted.per_topic.len(),
        4,
        "the namespace's two event topics and their dead-letter topics only: {counted:?}"
    );
}
