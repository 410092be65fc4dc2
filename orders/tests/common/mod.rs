//! The orders service under test: spawned against a fresh database and topic namespace, with
//! helpers to play the other services (publishing their events into the real topics) and to
//! read what the service emitted.
#![allow(dead_code)]

use std::ops::Deref;
use std::time::Duration;

use orders::configuration::Settings;
use rdkafka::consumer::StreamConsumer;
use rdkafka::Message;
use saga_contracts::events::{
    CustomerCreated, OrderPaid, PaymentFailed, StockLine, StockRejected, StockReserved,
    StockUpdated,
};
use saga_contracts::services::ORDERS;
use saga_contracts::{Envelope, EventPayload, EventType, Money};
use saga_kit::service::PgServiceSettings;
use saga_kit::testing::{TestClient, TestService};
use saga_messaging::testing::{fresh_database_url, provisioned_kafka, read_until, wait_for};
use saga_messaging::KafkaConfig;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

pub use saga_messaging::testing::PATIENCE;

pub struct TestApp(TestService<PgPool>);

pub fn settings(database_url: String, kafka: KafkaConfig, order_timeout: Duration) -> Settings {
    Settings {
        postgres: PgServiceSettings::loopback(kafka, database_url),
        order_timeout,
        deadline_poll: Duration::from_millis(200),
        stream_max_age: orders::routes::DEFAULT_STREAM_MAX_AGE,
    }
}

impl TestApp {
    /// A service with a deadline far beyond any test, so only the events decide.
    pub async fn spawn() -> TestApp {
        Self::spawn_with_timeout(Duration::from_secs(600)).await
    }

    pub async fn spawn_with_timeout(order_timeout: Duration) -> TestApp {
        let s = settings(
            fresh_database_url("orders").await,
            provisioned_kafka(&ORDERS).await,
            order_timeout,
        );
        Self::spawn_from(s).await
    }

    pub async fn spawn_from(settings: Settings) -> TestApp {
        let kafka = settings.postgres.service.kafka.clone();
        let build = |shutdown| orders::startup::build(settings, shutdown);
        TestApp(TestService::start(kafka, build).await)
    }

    /// POSTs `body` to `/orders` as it is, with an `Idempotency-Key` if `key` is given.
    pub async fn post_order_raw(
        &self,
        body: impl Into<reqwest::Body>,
        key: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self.post_request("/orders").await.body(body);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        TestClient::send(req).await
    }

    pub async fn post_order(&self, body: &Value, key: Option<&str>) -> (u16, Value) {
        self.post_order_raw(body.to_string(), key).await
    }

    pub async fn order(&self, id: Uuid) -> Value {
        let (status, body) = self.get(&format!("/orders/{id}")).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Announces a customer and a priced product, and waits until the service takes an order
    /// for them (the replicas have caught up). Returns that first order.
    pub async fn seed(&self, sku: &str, price: &str) -> (Uuid, Value) {
        let customer = customer_created();
        let EventPayload::CustomerCreated(c) = &customer.payload else {
            unreachable!()
        };
        let customer_id = c.customer_id;
        self.publish(&customer).await;
        self.publish(&stock_updated(sku, price)).await;
        let order = self
            .place_when_ready(
                &json!({"customer_id": customer_id, "items": [{"sku": sku, "quantity": 1}]}),
            )
            .await;
        (customer_id, order)
    }

    /// POSTs `body` until the replicas know its customer and SKUs (422 until then).
    pub async fn place_when_ready(&self, body: &Value) -> Value {
        wait_for("the replicas to accept the order", PATIENCE, || async {
            let (status, resp) = self.post_order(body, None).await;
            match status {
                202 => Some(resp),
                422 => None,
                other => panic!("unexpected {other}: {resp}"),
            }
        })
        .await
    }

    /// Waits until the service has applied (or recognised as duplicates) every one of `events`.
    pub async fn wait_consumed(&self, events: &[&Envelope]) {
        let mut ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
        ids.sort();
        ids.dedup();
        wait_for("the events to be consumed", PATIENCE, || async {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM inbox WHERE consumer = 'orders' AND event_id = ANY($1)",
            )
            .bind(&ids)
            .fetch_one(&self.store)
            .await
            .unwrap();
            (n as usize == ids.len()).then_some(())
        })
        .await
    }

    /// Waits until order `id` has status `status`, and returns it.
    pub async fn wait_status(&self, id: Uuid, status: &str) -> Value {
        wait_for(&format!("order {id} to be {status}"), PATIENCE, || async {
            let order = self.order(id).await;
            (order["status"] == status).then_some(order)
        })
        .await
    }

    /// The event types the service emitted for order `id`, in order.
    pub async fn outbox_of(&self, id: Uuid) -> Vec<String> {
        let key = id.to_string();
        self.emitted(&ORDERS)
            .await
            .into_iter()
            .filter(|e| e.key() == key)
            .map(|e| e.event_type().as_str().to_owned())
            .collect()
    }

    /// Reads `expected` events from `consumer` (a reader of the topics the service publishes
    /// to), then, once the service has settled, whatever else is there up to the topics' end:
    /// everything it emitted, so that more than `expected` shows.
    pub async fn read_events(&self, consumer: &StreamConsumer, expected: usize) -> Vec<Envelope> {
        let mut messages = read_until(consumer, PATIENCE, |m| m.len() >= expected).await;
        messages.extend(self.read_settled(&ORDERS, consumer).await);
        messages
            .iter()
            .map(|m| Envelope::decode(m.payload().unwrap()).expect("a valid envelope"))
            .collect()
    }

    /// A reader of the topics the service publishes to, from their beginning.
    pub fn emitted_reader(&self) -> StreamConsumer {
        self.reader(&[
            EventType::OrderCreated,
            EventType::OrderConfirmed,
            EventType::OrderCancelled,
        ])
    }
}

impl Deref for TestApp {
    type Target = TestService<PgPool>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

pub fn order_id_of(order: &Value) -> Uuid {
    order["id"].as_str().unwrap().parse().unwrap()
}

pub fn customer_created() -> Envelope {
    let id = Uuid::now_v7();
    Envelope::new(
        "customer",
        CustomerCreated {
            customer_id: id,
            name: "Ada".into(),
            email: format!("{id}@example.com"),
            credit_limit: "1000.00".parse().unwrap(),
        },
    )
}

pub fn stock_updated(sku: &str, price: &str) -> Envelope {
    Envelope::new(
        "inventory",
        StockUpdated {
            sku: sku.into(),
            name: format!("product {sku}"),
            price: price.parse().unwrap(),
            available: 100,
            reserved: 0,
            sold: 0,
            low_stock_threshold: 5,
        },
    )
}

pub fn unique_sku() -> String {
    format!("SKU-{}", &Uuid::new_v4().simple().to_string()[..10])
}

/// Inventory's answer to an order's `order.created`, as the saga's step publishes it: caused by
/// that event (here an id standing for it).
fn answering_the_order(answer: Envelope) -> Envelope {
    Envelope {
        causation_id: Some(Uuid::now_v7()),
        ..answer
    }
}

/// The same event as a manual `POST /stock/reserve` publishes it: caused by no event.
pub fn by_hand(answer: Envelope) -> Envelope {
    Envelope {
        causation_id: None,
        ..answer
    }
}

pub fn stock_reserved(order_id: Uuid) -> Envelope {
    answering_the_order(Envelope::new(
        "inventory",
        StockReserved {
            order_id,
            items: vec![StockLine {
                sku: "ANY".into(),
                quantity: 1,
            }],
        },
    ))
}

pub fn stock_rejected(order_id: Uuid) -> Envelope {
    answering_the_order(Envelope::new(
        "inventory",
        StockRejected {
            order_id,
            reason: "out_of_stock".into(),
            short_skus: vec!["ANY".into()],
        },
    ))
}

pub fn order_paid(order_id: Uuid, customer_id: Uuid) -> Envelope {
    Envelope::new(
        "billing",
        OrderPaid {
            order_id,
            customer_id,
            amount: Money::ZERO,
        },
    )
}

pub fn payment_failed(order_id: Uuid, customer_id: Uuid) -> Envelope {
    Envelope::new(
        "billing",
        PaymentFailed {
            order_id,
            customer_id,
            amount: Money::ZERO,
            reason: "insufficient_funds".into(),
        },
    )
}

/// The history's event types, in order.
pub fn history(order: &Value) -> Vec<String> {
    order["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event_type"].as_str().unwrap().to_owned())
        .collect()
}
