//! Shared by the integration tests: saga events as the orders service sends them, the running
//! service against a fresh database and topic namespace, and stock invariants.
#![allow(dead_code)]

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use inventory::configuration::{Settings, StoreSettings};
use inventory::domain::Product;
use inventory::store::InventoryStore;
use rdkafka::consumer::StreamConsumer;
use rdkafka::message::{Message, OwnedMessage};
use saga_contracts::events::{OrderCancelled, OrderConfirmed, OrderCreated, OrderLine};
use saga_contracts::services::INVENTORY;
use saga_contracts::Envelope;
use saga_kit::service::ServiceSettings;
use saga_kit::testing::TestService;
use saga_messaging::env::Env;
use saga_messaging::testing::{
    fresh_database_url, in_publish_order, provisioned_kafka, read_to_end, wait_settled, PATIENCE,
};
use saga_messaging::{HandlerError, KafkaConfig, Outcome};
use serde_json::Value;
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

/// Hands `event` to the store's saga step as the saga's handler would (with the command the
/// saga makes of it), and the consumer runner: again after a transient error (a write conflict
/// on MongoDB), never after a permanent one.
pub async fn deliver(store: &dyn InventoryStore, event: &Envelope) -> Outcome {
    let command = inventory::saga::command(event).expect("an event inventory applies");
    for _ in 0..500 {
        match store.apply(event, command.clone()).await {
            Ok(outcome) => return outcome,
            Err(HandlerError::Transient(_) | HandlerError::Unavailable(_)) => {
                tokio::time::sleep(Duration::from_millis(10)).await
            }
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
    service: TestService<Arc<dyn InventoryStore>>,
    /// The store's URL, for a successor on the same store and for looking inside it.
    pub store_url: String,
}

impl TestApp {
    /// The service on a fresh PostgreSQL database and topic namespace.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_on(
            fresh_database_url("inventory").await,
            provisioned_kafka(&INVENTORY).await,
        )
        .await
    }

    /// The service on an existing store and namespace (a restart).
    pub async fn spawn_on(store_url: String, kafka: KafkaConfig) -> TestApp {
        let settings = Settings {
            service: ServiceSettings::loopback(kafka.clone()),
            store: StoreSettings::read_for(&Env::process(), store_url.clone()).unwrap(),
        };
        let build = |shutdown| inventory::startup::build(settings, shutdown);
        let service = TestService::start(kafka, build).await;
        TestApp { service, store_url }
    }

    /// `POST /stock`.
    pub async fn post_stock(&self, body: Value) -> (u16, Value) {
        self.post("/stock", &body).await
    }

    /// `POST /stock/reserve`.
    pub async fn reserve(&self, body: Value) -> (u16, Value) {
        self.post("/stock/reserve", &body).await
    }

    /// Creates a product over HTTP; panics unless 201.
    pub async fn create(&self, sku: &str, quantity: u64, threshold: u64) -> Value {
        let (status, body) = self
            .post_stock(serde_json::json!({
                "sku": sku, "name": format!("Product {sku}"), "price": "2.50",
                "quantity": quantity, "low_stock_threshold": threshold
            }))
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }

    pub async fn stock(&self, sku: &str) -> Value {
        let (status, body) = self.get(&format!("/stock/{sku}")).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Once the service (on PostgreSQL) has settled, its consumer group caught up and its
    /// relay caught up, reads `reader` to the end of its topics: with what it read before,
    /// everything the service emitted there.
    pub async fn read_settled(&self, reader: &StreamConsumer) -> Vec<OwnedMessage> {
        let options = saga_messaging::postgres::connect_options(&self.store_url)
            .expect("the store is a PostgreSQL database");
        let outbox = sqlx::PgPool::connect_with(options).await.unwrap();
        wait_settled(&self.kafka, &INVENTORY, &outbox, PATIENCE).await;
        read_to_end(reader, PATIENCE).await
    }

    /// Everything the service (on PostgreSQL) has emitted so far, in the order it published
    /// it: once it has settled, its topics read from their beginning to their end.
    pub async fn emitted(&self) -> Vec<Envelope> {
        let reader = self.reader(INVENTORY.publishes);
        in_publish_order(self.read_settled(&reader).await)
            .iter()
            .map(|m| Envelope::decode(m.payload().expect("a payload")).expect("an envelope"))
            .collect()
    }
}

impl Deref for TestApp {
    type Target = TestService<Arc<dyn InventoryStore>>;

    fn deref(&self) -> &Self::Target {
        &self.service
    }
}
