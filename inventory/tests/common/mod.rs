//! Shared by the integration tests: saga events as the orders service sends them, the running
//! service against a fresh database and topic namespace, and stock invariants.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use inventory::configuration::Settings;
use inventory::domain::Product;
use inventory::startup::Application;
use inventory::store::InventoryStore;
use serde_json::Value;
use shared_events::events::{OrderCancelled, OrderConfirmed, OrderCreated, OrderLine};
use shared_events::testing::{fresh_database_url, isolated_kafka};
use shared_events::{CancellationToken, Envelope, EventType, HandlerError, KafkaConfig, Outcome};
use uuid::Uuid;

pub fn order_created(order_id: Uuid, lines: &[(&str, u32)]) -> Envelope {
    let items: Vec<OrderLine> = lines
        .iter()
        .map(|&(sku, quantity)| OrderLine {
            sku: sku.into(),
            quantity,
            unit_price: "1.00".parse().unwrap(),
        })
        .collect();
    let total = items.iter().map(|l| l.unit_price * l.quantity).sum();
    Envelope::new(
        "orders",
        OrderCreated {
            order_id,
            customer_id: Uuid::nil(),
            items,
            total,
        },
    )
}

pub fn order_confirmed(order_id: Uuid) -> Envelope {
    Envelope::new(
        "orders",
        OrderConfirmed {
            order_id,
            customer_id: Uuid::nil(),
            items: vec![],
            total: "0".parse().unwrap(),
        },
    )
}

pub fn order_cancelled(order_id: Uuid) -> Envelope {
    Envelope::new(
        "orders",
        OrderCancelled {
            order_id,
            customer_id: Uuid::nil(),
            reason: "out_of_stock".into(),
        },
    )
}

/// Hands `event` to the store's saga step as the consumer runner would: again after a
/// transient error (a write conflict on MongoDB), never after a permanent one.
pub async fn deliver(store: &dyn InventoryStore, event: &Envelope) -> Outcome {
    for _ in 0..500 {
        match store.handle_event(event).await {
            Ok(outcome) => return outcome,
            Err(HandlerError::Transient(_)) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(e) => panic!("{} failed: {e}", event.event_type()),
        }
    }
    panic!("{} kept failing transiently", event.event_type())
}

/// SPEC §5.2 for one product at quiescence.
pub fn assert_balanced(p: &Product) {
    assert_eq!(
        p.initial + p.restocked,
        p.available + p.reserved + p.sold,
        "{} unbalanced: {p:?}",
        p.sku
    );
}

pub struct TestApp {
    pub url: String,
    pub http: reqwest::Client,
    pub kafka: KafkaConfig,
    pub store_url: String,
    pub store: Arc<dyn InventoryStore>,
    pub shutdown: CancellationToken,
}

impl TestApp {
    /// The service on a fresh PostgreSQL database and topic namespace.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_on(fresh_database_url().await, isolated_kafka()).await
    }

    /// The service on an existing store and namespace (a restart).
    pub async fn spawn_on(store_url: String, kafka: KafkaConfig) -> TestApp {
        let settings = Settings {
            http_host: "127.0.0.1".into(),
            http_port: 0,
            store_url: store_url.clone(),
            kafka: kafka.clone(),
        };
        let shutdown = CancellationToken::new();
        let app = Application::build(settings, shutdown.clone())
            .await
            .expect("the service starts");
        let url = format!("http://127.0.0.1:{}", app.port());
        let store = app.store().clone();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            url,
            http: reqwest::Client::new(),
            kafka,
            store_url,
            store,
            shutdown,
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_raw(path, body.to_string()).await
    }

    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Creates a product over HTTP; panics unless 201.
    pub async fn create(&self, sku: &str, quantity: u64, threshold: u64) -> Value {
        let (status, body) = self
            .post(
                "/stock",
                serde_json::json!({
                    "sku": sku, "name": format!("Product {sku}"), "price": "2.50",
                    "quantity": quantity, "low_stock_threshold": threshold
                }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }

    pub async fn stock(&self, sku: &str) -> Value {
        let (status, body) = self.get(&format!("/stock/{sku}")).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub fn topic(&self, t: EventType) -> String {
        self.kafka.topic(t)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
