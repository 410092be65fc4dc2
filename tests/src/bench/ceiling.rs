//! The ceilings a saga rate is set against, measured in the same run, since the machine is
//! shared and absolute rates vary from run to run:
//! - the broker's own produce and consume rates (one producer with the runtime's settings,
//!   acks=all and idempotent; one consumer reading it all back);
//! - PostgreSQL's commit rate for one-row transactions with `synchronous_commit` on, from one
//!   connection and from eight (where commits share a WAL flush).

use std::time::{Duration, Instant};

use futures::StreamExt;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

/// What the ceilings were.
#[derive(Debug, Clone, Copy)]
pub struct Ceilings {
    pub produce_per_second: f64,
    pub consume_per_second: f64,
    pub pg_commits_per_second_1: f64,
    pub pg_commits_per_second_8: f64,
}

/// Measures every ceiling: `records` Kafka records of about an event's size, and
/// `commits` PostgreSQL transactions per connection count.
pub async fn measure(records: usize, commits: usize) -> Result<Ceilings, String> {
    eprintln!("bench: measuring the broker's produce/consume ceiling ({records} records)");
    let (produce, consume) = broker(records).await?;
    eprintln!("bench: measuring PostgreSQL's commit rate ({commits} one-row transactions)");
    let one = postgres(commits, 1).await?;
    let eight = postgres(commits, 8).await?;
    Ok(Ceilings {
        produce_per_second: produce,
        consume_per_second: consume,
        pg_commits_per_second_1: one,
        pg_commits_per_second_8: eight,
    })
}

async fn broker(records: usize) -> Result<(f64, f64), String> {
    let kafka = super::system::kafka()?;
    let topic = format!("bench-ceiling-{}", Uuid::new_v4().simple());
    let admin: AdminClient<DefaultClientContext> = kafka
        .admin_config()
        .create()
        .map_err(|e| format!("an admin client: {e}"))?;
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let new = NewTopic::new(&topic, kafka.partitions, TopicReplication::Fixed(1));
    admin
        .create_topics([&new], &options)
        .await
        .map_err(|e| format!("creating {topic}: {e}"))?;

    let producer: FutureProducer = kafka
        .producer_config()
        .create()
        .map_err(|e| format!("a producer: {e}"))?;
    let payload = vec![b'x'; 400];
    let started = Instant::now();
    let sends = futures::stream::iter(0..records)
        .map(|i| {
            let (producer, topic, payload) = (&producer, &topic, &payload);
            async move {
                let key = (i % 1024).to_string();
                producer
                    .send(
                        FutureRecord::to(topic).key(&key).payload(payload),
                        Duration::from_secs(30),
                    )
                    .await
                    .map(|_| ())
                    .map_err(|(e, _)| e.to_string())
            }
        })
        .buffer_unordered(10_000)
        .collect::<Vec<_>>()
        .await;
    let produced_in = started.elapsed();
    if let Some(Err(e)) = sends.into_iter().find(Result::is_err) {
        return Err(format!("producing to {topic}: {e}"));
    }

    let consumer: StreamConsumer = kafka
        .consumer_config(&format!("{topic}-reader"))
        .set("enable.auto.commit", "false")
        .create()
        .map_err(|e| format!("a consumer: {e}"))?;
    consumer
        .subscribe(&[topic.as_str()])
        .map_err(|e| e.to_string())?;
    let mut read = 0;
    let mut first_at = None;
    while read < records {
        match tokio::time::timeout(Duration::from_secs(30), consumer.recv()).await {
            Ok(Ok(_)) => {
                first_at.get_or_insert_with(Instant::now);
                read += 1;
            }
            Ok(Err(e)) => return Err(format!("consuming {topic}: {e}")),
            Err(_) => return Err(format!("consuming {topic}: {read} of {records} in 30 s")),
        }
    }
    // From the first record on: the group join before it is not the broker's fetch rate.
    let consumed_in = first_at.map_or(Duration::ZERO, |t| t.elapsed());
    let _ = admin.delete_topics(&[topic.as_str()], &options).await;
    Ok((
        records as f64 / produced_in.as_secs_f64(),
        records as f64 / consumed_in.as_secs_f64().max(1e-9),
    ))
}

async fn postgres(commits: usize, connections: usize) -> Result<f64, String> {
    // As the superuser: the probe's table goes in the server's postgres database.
    let options = saga_messaging::testing::admin_connect_options();
    let shown = saga_messaging::postgres::redacted_url(&options);
    let pool = PgPoolOptions::new()
        .max_connections(connections as u32)
        .connect_with(options)
        .await
        .map_err(|e| format!("connecting to {shown}: {e}"))?;
    let table = format!("bench_commit_probe_{}", Uuid::new_v4().simple());
    sqlx::query(&format!(
        "CREATE TABLE {table} (id BIGINT PRIMARY KEY, at TIMESTAMPTZ NOT NULL)"
    ))
    .execute(&pool)
    .await
    .map_err(|e| e.to_string())?;
    let insert = format!("INSERT INTO {table} (id, at) VALUES ($1, now())");
    let started = Instant::now();
    let results = futures::stream::iter(0..commits * connections)
        .map(|i| {
            let (pool, insert) = (&pool, &insert);
            async move {
                let mut tx = pool.begin().await?;
                sqlx::query(insert).bind(i as i64).execute(&mut *tx).await?;
                tx.commit().await
            }
        })
        .buffer_unordered(connections)
        .collect::<Vec<_>>()
        .await;
    let took = started.elapsed();
    let _ = sqlx::query(&format!("DROP TABLE {table}"))
        .execute(&pool)
        .await;
    if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
        return Err(format!("committing to {table}: {e}"));
    }
    Ok((commits * connections) as f64 / took.as_secs_f64())
}
