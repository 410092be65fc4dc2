//! Helpers for integration tests against the real local stack (feature `testing`):
//! a fresh PostgreSQL database per test, a fresh Kafka topic namespace per test, and waits on
//! conditions with a deadline instead of fixed sleeps.

use std::future::Future;
use std::time::{Duration, Instant};

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message, OwnedMessage};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use uuid::Uuid;

use crate::config::KafkaConfig;

/// The server the tests create their databases on (`TEST_DATABASE_URL`, default the local one).
pub fn admin_database_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into())
}

/// Test databases are named `t_<uuid>` so that the test script can drop leftovers.
pub const TEST_DATABASE_PREFIX: &str = "t_";

/// Creates an empty database and returns its URL.
pub async fn fresh_database_url() -> String {
    let admin_url = admin_database_url();
    let name = format!("{TEST_DATABASE_PREFIX}{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .expect("connecting to the test PostgreSQL server; is the stack up? (scripts/stack up)");
    sqlx::query(&format!(r#"CREATE DATABASE "{name}""#))
        .execute(&mut admin)
        .await
        .expect("creating a test database");
    let _ = admin.close().await;
    let options: PgConnectOptions = admin_url.parse().expect("a valid TEST_DATABASE_URL");
    options.database(&name).to_url_lossy().to_string()
}

/// A pool on a new, empty database.
pub async fn fresh_database() -> PgPool {
    let url = fresh_database_url().await;
    PgPoolOptions::new()
        .max_connections(10)
        .connect(&url)
        .await
        .expect("connecting to the test database")
}

/// A Kafka configuration whose topics and consumer groups belong to this test alone.
pub fn isolated_kafka() -> KafkaConfig {
    let mut config = KafkaConfig::from_env().expect("valid KAFKA_* variables");
    config.topic_prefix = format!("t{}.", &Uuid::new_v4().simple().to_string()[..12]);
    config
}

/// Polls `condition` until it returns `Some`, or panics after `timeout` with `what`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut condition: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(10);
    loop {
        if let Some(v) = condition().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// A consumer reading `topics` from the beginning in a group of its own.
pub fn reader(config: &KafkaConfig, topics: &[&str]) -> StreamConsumer {
    let group = format!("{}reader-{}", config.topic_prefix, Uuid::new_v4().simple());
    let consumer: StreamConsumer = config
        .consumer_config(&group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("creating a test consumer");
    consumer.subscribe(topics).expect("subscribing");
    consumer
}

/// Reads messages from `consumer` until `done` says so (given all read so far), or panics
/// after `timeout`.
pub async fn read_until(
    consumer: &StreamConsumer,
    timeout: Duration,
    mut done: impl FnMut(&[OwnedMessage]) -> bool,
) -> Vec<OwnedMessage> {
    let deadline = Instant::now() + timeout;
    let mut messages = Vec::new();
    while !done(&messages) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, consumer.recv()).await {
            Ok(Ok(m)) => messages.push(m.detach()),
            Ok(Err(e)) => tracing::debug!(error = %e, "test reader: consumer error"),
            Err(_) => panic!(
                "timed out after {timeout:?}; read {} messages so far",
                messages.len()
            ),
        }
    }
    messages
}

/// Reads for `quiet` after the last message, to show that nothing more arrives.
pub async fn read_quiet(consumer: &StreamConsumer, quiet: Duration) -> Vec<OwnedMessage> {
    let mut messages = Vec::new();
    while let Ok(Ok(m)) = tokio::time::timeout(quiet, consumer.recv()).await {
        messages.push(m.detach());
    }
    messages
}

/// The value of header `key`, as text.
pub fn header(message: &OwnedMessage, key: &str) -> Option<String> {
    message.headers().and_then(|hs| {
        hs.iter()
            .find(|h| h.key == key)
            .and_then(|h| h.value)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    })
}
