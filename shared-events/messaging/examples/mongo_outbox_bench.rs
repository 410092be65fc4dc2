//! What the MongoDB outbox costs per event, against the server of `MONGODB_URL` (default the
//! local stack's SecantusDB) and the local broker. Inventory-like transactions run at a steady
//! rate while the relay publishes them: each one updates a product document (one of 64) and
//! enqueues one event keyed by that product, then commits with majority write concern.
//!
//! Prints, per event: the commands the writers sent (transactions run again after a conflict
//! included), the commands the relay sent (its round trips), the server's `opcounters` delta
//! (everything the server did meanwhile, the relay's included), and, for a server on this machine
//! whose pid is known (`BENCH_SERVER_PID`, default the stack's `.stack/mongodb/secantusd.pid`), the
//! CPU time that process used.
//!
//! Run: `cargo run --release -p saga-messaging --features testing,mongodb --example
//! mongo_outbox_bench` (`BENCH_EVENTS`, default 3000; `BENCH_RATE`, default 150 transactions/s;
//! `BENCH_WRITERS`, default 4 concurrent writers; `BENCH_RELAY=0` runs the writers alone, for
//! the relay's share by difference; `BENCH_COUNTER=0` inserts the outbox documents without
//! `enqueue`'s per-key counter, to see what the counter costs: a measurement only, since the
//! relay's replay needs it).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mongodb::bson::{doc, Document};
use mongodb::event::command::CommandEvent;
use mongodb::event::EventHandler;
use mongodb::{Client, Database};
use saga_contracts::events::StockUpdated;
use saga_contracts::{Envelope, EventType};
use saga_messaging::mongo::{enqueue, ensure_indexes, txn, MongoOutboxStore};
use saga_messaging::secret::LocalStack;
use saga_messaging::testing::{isolated_kafka, mongodb_url, operator_options};
use saga_messaging::{CancellationToken, OutboxRelay};
use uuid::Uuid;

const SKUS: u64 = 64;

type Counts = Arc<Mutex<BTreeMap<String, u64>>>;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn event(i: u64) -> Envelope {
    Envelope::new(
        "bench",
        StockUpdated {
            sku: format!("SKU-{}", i % SKUS),
            name: "bench".into(),
            price: "1.00".parse().unwrap(),
            available: i,
            reserved: 0,
            sold: 0,
            low_stock_threshold: 0,
        },
    )
}

/// A client of the bench's server that counts the commands it sends, by name.
async fn counting_client(counts: Counts) -> Client {
    let mut options = operator_options(&mongodb_url()).await;
    options.command_event_handler = Some(EventHandler::callback(move |e: CommandEvent| {
        if let CommandEvent::Started(s) = e {
            *counts.lock().unwrap().entry(s.command_name).or_default() += 1;
        }
    }));
    Client::with_options(options).expect("a MongoDB client")
}

/// utime + stime of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn server_pid() -> Option<u32> {
    if let Ok(pid) = std::env::var("BENCH_SERVER_PID") {
        return pid.parse().ok();
    }
    let ca = LocalStack::default().ca_file();
    let file = ca.parent()?.parent()?.join("mongodb/secantusd.pid");
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

async fn opcounters(db: &Database) -> Document {
    db.client()
        .database("admin")
        .run_command(doc! { "serverStatus": 1 })
        .await
        .expect("serverStatus")
        .get_document("opcounters")
        .expect("opcounters")
        .clone()
}

fn num(d: &Document, k: &str) -> i64 {
    match d.get(k) {
        Some(mongodb::bson::Bson::Int32(v)) => i64::from(*v),
        Some(mongodb::bson::Bson::Int64(v)) => *v,
        Some(mongodb::bson::Bson::Double(v)) => *v as i64,
        _ => 0,
    }
}

/// One inventory-like transaction: the product's document and its event, run again on conflict.
async fn write_one(
    client: &Client,
    db: &Database,
    i: u64,
    counter: bool,
) -> mongodb::error::Result<u32> {
    let e = event(i);
    let products = db.collection::<Document>("products");
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut session = client.start_session().await?;
        txn::begin(&mut session).await?;
        let result = async {
            products
                .update_one(
                    doc! { "_id": format!("SKU-{}", i % SKUS) },
                    doc! { "$inc": { "available": 1 } },
                )
                .upsert(true)
                .session(&mut session)
                .await?;
            if counter {
                enqueue(&mut session, db, std::slice::from_ref(&e)).await?;
            } else {
                let payload = String::from_utf8_lossy(&e.to_json()).into_owned();
                db.collection::<Document>("outbox")
                    .insert_one(doc! {
                        "_id": mongodb::bson::oid::ObjectId::new(),
                        "event_id": e.event_id.to_string(),
                        "event_type": e.event_type().as_str(),
                        "key": e.key(),
                        "payload": payload,
                        "traceparent": e.traceparent.map(|t| t.to_string()),
                        "created_at": mongodb::bson::DateTime::now(),
                        "seq": i as i64,
                    })
                    .session(&mut session)
                    .await?;
            }
            txn::commit(&mut session).await
        }
        .await;
        match result {
            Ok(()) => return Ok(attempts),
            Err(err) if txn::is_transient(&err) => {
                txn::abort(&mut session).await;
                tokio::time::sleep(Duration::from_millis(u64::from(attempts))).await;
            }
            Err(err) => return Err(err),
        }
    }
}

fn per_event(counts: &BTreeMap<String, u64>, n: usize) -> String {
    let total: u64 = counts.values().sum();
    let each: Vec<String> = counts
        .iter()
        .map(|(k, v)| format!("{k} {:.3}", *v as f64 / n as f64))
        .collect();
    format!("{:.3} ({})", total as f64 / n as f64, each.join(", "))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .init();
    let n = env_num("BENCH_EVENTS", 3000) as usize;
    let rate = env_num("BENCH_RATE", 150);
    let writers = env_num("BENCH_WRITERS", 4) as usize;
    let writer_counts: Counts = Arc::default();
    let relay_counts: Counts = Arc::default();
    let writer_client = counting_client(writer_counts.clone()).await;
    let relay_client = counting_client(relay_counts.clone()).await;
    let name = format!("t_{}", Uuid::new_v4().simple());
    let db = writer_client.database(&name);
    ensure_indexes(&db).await?;
    db.create_collection("products").await?;
    let kafka = isolated_kafka();
    saga_messaging::topics::ensure_topics(&kafka, &[EventType::StockUpdated]).await?;
    let producer = saga_messaging::producer::build_producer(&kafka)?;

    let published = Arc::new(AtomicUsize::new(0));
    let p = published.clone();
    let relay = OutboxRelay::new(
        MongoOutboxStore::new(relay_client.database(&name)),
        producer,
        kafka,
    )
    .on_published(move |batch| {
        p.fetch_add(batch.len(), Ordering::SeqCst);
    });
    let with_relay = env_num("BENCH_RELAY", 1) != 0;
    let counter = env_num("BENCH_COUNTER", 1) != 0;
    let shutdown = CancellationToken::new();
    let relay_task = with_relay.then(|| tokio::spawn(relay.run(shutdown.clone())));
    // Let the relay take its lease and open its stream before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    writer_counts.lock().unwrap().clear();
    relay_counts.lock().unwrap().clear();

    let pid = server_pid();
    let ops_before = opcounters(&db).await;
    let cpu_before = pid.and_then(cpu_ticks);
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let retries = Arc::new(AtomicUsize::new(0));
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let (client, db, next, retries) = (
            writer_client.clone(),
            db.clone(),
            next.clone(),
            retries.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    return;
                }
                // Steady rate: transaction i starts no earlier than i / rate.
                let due = started + interval * i as u32;
                tokio::time::sleep_until(due.into()).await;
                let attempts = write_one(&client, &db, i as u64, counter)
                    .await
                    .expect("a write");
                retries.fetch_add(attempts as usize - 1, Ordering::SeqCst);
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let written = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(120);
    while with_relay && published.load(Ordering::SeqCst) < n {
        anyhow::ensure!(
            Instant::now() < deadline,
            "published {} of {n}",
            published.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let all_out = started.elapsed();
    let cpu_after = pid.and_then(cpu_ticks);
    let ops_after = opcounters(&db).await;
    shutdown.cancel();
    if let Some(relay_task) = relay_task {
        relay_task.await??;
    }

    let ticks_per_s = 100.0; // USER_HZ on Linux
    println!(
        "{n} events at {rate}/s by {writers} writers{}: written in {:.1} s, all published after {:.1} s; {} transactions run again",
        if with_relay { "" } else { " (no relay)" },
        written.as_secs_f64(),
        all_out.as_secs_f64(),
        retries.load(Ordering::SeqCst)
    );
    println!(
        "writer commands per event: {}",
        per_event(&writer_counts.lock().unwrap(), n)
    );
    println!(
        "relay commands per event:  {}",
        per_event(&relay_counts.lock().unwrap(), n)
    );
    let ops: Vec<String> = ops_after
        .keys()
        .map(|k| {
            format!(
                "{k} {:.3}",
                (num(&ops_after, k) - num(&ops_before, k)) as f64 / n as f64
            )
        })
        .collect();
    println!("server opcounters per event: {}", ops.join(", "));
    if let (Some(b), Some(a)) = (cpu_before, cpu_after) {
        println!(
            "server CPU per event: {:.3} ms ({:.1} s in {:.1} s)",
            (a - b) as f64 / ticks_per_s * 1000.0 / n as f64,
            (a - b) as f64 / ticks_per_s,
            all_out.as_secs_f64()
        );
    }
    writer_client.database(&name).drop().await?;
    Ok(())
}
