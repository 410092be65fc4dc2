//! Benchmark of the messaging runtime against the real local stack. Prints:
//! - the broker's own ceiling: raw produce rate of one producer;
//! - the outbox relay's rate on a backlog of committed events;
//! - the relay's commit-to-publish latency (p50/p99) while events are committed at a steady rate;
//! - the broker's fetch ceiling: a plain consumer reading the topic without processing;
//! - the consumer runner's rate, each event applied with its PostgreSQL inbox record.
//!
//! Run: `cargo run --release -p saga-messaging --features testing --example messaging_bench`
//! (`BENCH_EVENTS`, default 20000; `BENCH_RATE`, default 500 events/s for the latency phase).
//! The machine is shared: compare the rates with the broker ceiling of the same run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::producer::FutureRecord;
use saga_contracts::events::StockUpdated;
use saga_contracts::{Envelope, EventType};
use saga_messaging::postgres::{enqueue, enqueue_all, PgHandler, PgIdempotent, PgOutboxStore};
use saga_messaging::testing::{fresh_database, isolated_kafka};
use saga_messaging::{CancellationToken, ConsumerRunner, HandlerError, OutboxRelay};
use sqlx::PgConnection;
use uuid::Uuid;

fn event(i: u64) -> Envelope {
    Envelope::new(
        "bench",
        StockUpdated {
            sku: format!("SKU-{}", i % 64),
            name: "bench".into(),
            price: "1.00".parse().unwrap(),
            available: i,
            reserved: 0,
            sold: 0,
            low_stock_threshold: 0,
        },
    )
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

struct Apply;

#[async_trait]
impl PgHandler for Apply {
    async fn handle(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        sqlx::query("INSERT INTO applied (event_id) VALUES ($1)")
            .bind(event.event_id)
            .execute(tx)
            .await?;
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "info,sqlx=warn,rdkafka=warn",
        ))
        .init();
    let n = env_num("BENCH_EVENTS", 20_000) as usize;
    let steady_rate = env_num("BENCH_RATE", 500);
    let pool = fresh_database("orders").await;
    saga_messaging::postgres::migrate(&pool).await?;
    sqlx::query("CREATE TABLE applied (event_id UUID PRIMARY KEY)")
        .execute(&pool)
        .await?;
    let kafka = isolated_kafka();
    saga_messaging::topics::ensure_topics(&kafka, &[EventType::StockUpdated]).await?;
    let producer = saga_messaging::producer::build_producer(&kafka)?;
    let topic = kafka.topic(EventType::StockUpdated);
    println!("messaging bench: {n} events, broker {}", kafka.brokers);

    // 1. Broker ceiling: one producer, everything handed over before awaiting the acks.
    let bodies: Vec<(String, Vec<u8>)> = (0..n as u64)
        .map(|i| {
            let e = event(i);
            (e.key(), e.to_json())
        })
        .collect();
    let started = Instant::now();
    let mut acks = Vec::with_capacity(n);
    for (key, body) in &bodies {
        let record = FutureRecord::to(&topic).key(key).payload(body);
        acks.push(producer.send_result(record).map_err(|(e, _)| e)?);
    }
    for a in acks {
        a.await?.map_err(|(e, _)| e)?;
    }
    let ceiling = rate(n, started.elapsed());
    println!("broker ceiling (raw produce):         {ceiling:>8.0} events/s");

    // 2. Relay throughput on a committed backlog.
    println!("  committing {n} outbox rows ...");
    for chunk in (0..n as u64).collect::<Vec<_>>().chunks(500) {
        let events: Vec<Envelope> = chunk.iter().map(|&i| event(i)).collect();
        let mut tx = pool.begin().await?;
        enqueue_all(&mut tx, &events).await?;
        tx.commit().await?;
    }
    let published = Arc::new(AtomicUsize::new(0));
    let acked_at: Arc<Mutex<HashMap<Uuid, Instant>>> = Arc::default();
    let (p, a) = (published.clone(), acked_at.clone());
    let relay = OutboxRelay::new(
        PgOutboxStore::new(pool.clone()),
        producer.clone(),
        kafka.clone(),
    )
    .on_published(move |batch| {
        // The observer runs once records are marked sent; each carries when it was acked.
        let (now, wall) = (Instant::now(), chrono::Utc::now());
        let mut a = a.lock().unwrap();
        for r in batch {
            let since_ack = (wall - r.published_at).to_std().unwrap_or_default();
            a.insert(r.event_id, now.checked_sub(since_ack).unwrap_or(now));
        }
        p.fetch_add(batch.len(), Ordering::SeqCst);
    });
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));
    while published.load(Ordering::SeqCst) < n {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let relay_rate = rate(n, started.elapsed());
    println!(
        "outbox relay (backlog):               {relay_rate:>8.0} events/s ({:.0}% of ceiling)",
        100.0 * relay_rate / ceiling
    );

    // 3. Commit-to-publish latency at a steady commit rate, one event per transaction.
    let samples = (steady_rate * 10) as usize;
    println!("  committing {samples} events at {steady_rate}/s, one per transaction ...");
    let committed_at: Arc<Mutex<HashMap<Uuid, Instant>>> = Arc::default();
    let interval = Duration::from_secs_f64(1.0 / steady_rate as f64);
    let mut ticker = tokio::time::interval(interval);
    let mut writers = Vec::new();
    for i in 0..samples as u64 {
        ticker.tick().await;
        let (pool, committed_at) = (pool.clone(), committed_at.clone());
        writers.push(tokio::spawn(async move {
            let e = event(i);
            let mut tx = pool.begin().await.unwrap();
            enqueue(&mut tx, &e).await.unwrap();
            tx.commit().await.unwrap();
            committed_at
                .lock()
                .unwrap()
                .insert(e.event_id, Instant::now());
        }));
    }
    for w in writers {
        w.await?;
    }
    while published.load(Ordering::SeqCst) < n + samples {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut latencies: Vec<Duration> = {
        let committed = committed_at.lock().unwrap();
        let acked = acked_at.lock().unwrap();
        committed
            .iter()
            .map(|(id, c)| acked[id].saturating_duration_since(*c))
            .collect()
    };
    latencies.sort();
    println!(
        "relay commit-to-publish latency:      p50 {:.1} ms, p99 {:.1} ms ({} events at {steady_rate}/s)",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.len()
    );
    shutdown.cancel();
    relay_task.await??;

    // 4. The broker's fetch ceiling: a plain consumer reading everything, no processing.
    let total = 2 * n + samples;
    let started = Instant::now();
    let plain = saga_messaging::testing::reader(&kafka, &[&topic]);
    let mut read = 0;
    while read < total {
        plain.recv().await?;
        read += 1;
    }
    drop(plain);
    let fetch_ceiling = rate(total, started.elapsed());
    println!("broker ceiling (plain consume):       {fetch_ceiling:>8.0} events/s");

    // 5. Consumer runner over everything on the topic (raw + relayed), inbox + insert each.
    let runner = ConsumerRunner::new(
        kafka.clone(),
        "bench",
        &[EventType::StockUpdated],
        PgIdempotent::new(pool.clone(), "bench", Apply),
    );
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let consumer_task = tokio::spawn(runner.run(shutdown.clone()));
    let mut last_report = Instant::now();
    loop {
        let handled: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox")
            .fetch_one(&pool)
            .await?;
        // Raw and relayed copies of an event share an event_id only when ids repeat; they do
        // not, so every message is one inbox row.
        if handled as usize >= total {
            break;
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            println!("  consumer: {handled}/{total} handled ...");
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let consumer_rate = rate(total, started.elapsed());
    println!(
        "consumer runner (inbox + effect):     {consumer_rate:>8.0} events/s ({:.0}% of plain consume)",
        100.0 * consumer_rate / fetch_ceiling
    );
    shutdown.cancel();
    consumer_task.await??;
    Ok(())
}
