//! Set-up shared by the runtime's integration tests: a fresh database with the runtime's
//! tables, and a fresh topic namespace on the real broker.

#![allow(dead_code)]

use rdkafka::producer::FutureProducer;
use saga_contracts::events::StockUpdated;
use saga_contracts::{Envelope, EventType, Money};
use saga_messaging::testing::{fresh_database, isolated_kafka};
use saga_messaging::KafkaConfig;
use sqlx::PgPool;

pub struct Env {
    pub pool: PgPool,
    pub kafka: KafkaConfig,
    pub producer: FutureProducer,
}

pub async fn env(topics: &[EventType]) -> Env {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn,saga_messaging=info".into()),
        )
        .with_test_writer()
        .try_init();
    // As a service's role, as the runtime runs in every service (any of them would do).
    let pool = fresh_database("orders").await;
    saga_messaging::postgres::migrate(&pool).await.unwrap();
    let kafka = isolated_kafka();
    saga_messaging::topics::ensure_topics(&kafka, topics)
        .await
        .unwrap();
    let producer = saga_messaging::producer::build_producer(&kafka).unwrap();
    Env {
        pool,
        kafka,
        producer,
    }
}

/// A `stock.updated` for `sku` whose `available` carries a sequence number.
pub fn numbered(sku: &str, seq: u64) -> Envelope {
    Envelope::new(
        "test",
        StockUpdated {
            sku: sku.into(),
            name: "thing".into(),
            price: "1.00".parse::<Money>().unwrap(),
            available: seq,
            reserved: 0,
            sold: 0,
            low_stock_threshold: 0,
        },
    )
}

pub fn seq_of(e: &Envelope) -> (String, u64) {
    match &e.payload {
        saga_contracts::EventPayload::StockUpdated(s) => (s.sku.clone(), s.available),
        other => panic!("unexpected payload {other:?}"),
    }
}
