//! Set-up shared by billing's integration tests: the service on a fresh database and a fresh
//! topic namespace of the real broker, a producer to inject upstream events, a reader of the
//! events billing emits, and checks of billing's invariants straight from its tables.

#![allow(dead_code)]

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use billing::configuration::Settings;
use rdkafka::consumer::StreamConsumer;
use rdkafka::message::OwnedMessage;
use rdkafka::Message;
use rust_decimal::Decimal;
use saga_contracts::events::{CustomerCreated, OrderCancelled, OrderCreated, OrderLine};
use saga_contracts::services::BILLING;
use saga_contracts::{Envelope, EventPayload, EventType, Money};
use saga_kit::service::PgServiceSettings;
use saga_kit::testing::TestService;
use saga_messaging::postgres::PgSettings;
use saga_messaging::testing::{fresh_database_url, provisioned_kafka, read_until, wait_for};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

pub use saga_messaging::testing::PATIENCE;

pub struct TestApp {
    service: TestService<PgPool>,
    /// The settings it runs with, for a successor on the same database and topics.
    pub settings: Settings,
}

pub async fn settings(account_wait: Duration) -> Settings {
    Settings {
        postgres: PgServiceSettings::loopback(provisioned_kafka(&BILLING).await, String::new()),
        account_wait,
    }
}

impl TestApp {
    /// The service with the default 20 s wait for accounts.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_waiting(Duration::from_secs(20)).await
    }

    pub async fn spawn_waiting(account_wait: Duration) -> TestApp {
        let mut settings = settings(account_wait).await;
        settings.postgres.database = PgSettings::at(fresh_database_url("billing").await);
        TestApp::start(settings).await
    }

    /// Starts the service with these settings (e.g. those of a crashed instance).
    pub async fn start(settings: Settings) -> TestApp {
        let kafka = settings.postgres.service.kafka.clone();
        let build = |shutdown| billing::startup::build(settings.clone(), shutdown);
        let service = TestService::start(kafka, build).await;
        TestApp { service, settings }
    }

    /// Opens an account through `customer.created` and waits until billing has it.
    pub async fn open_account(&self, credit_limit: &str) -> Uuid {
        let event = customer_created(credit_limit);
        let EventPayload::CustomerCreated(c) = &event.payload else {
            unreachable!()
        };
        let customer_id = c.customer_id;
        self.publish(&event).await;
        self.wait_account(customer_id).await;
        customer_id
    }

    pub async fn wait_account(&self, customer_id: Uuid) -> Value {
        wait_for("the account to open", PATIENCE, || async move {
            let (status, body) = self.get(&format!("/billing/{customer_id}")).await;
            (status == 200).then_some(body)
        })
        .await
    }

    pub async fn account(&self, customer_id: Uuid) -> Value {
        let (status, body) = self.get(&format!("/billing/{customer_id}")).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn balance(&self, customer_id: Uuid) -> String {
        self.account(customer_id).await["balance"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A deposit: `POST /billing`.
    pub async fn post_deposit(&self, body: &Value) -> (u16, Value) {
        self.post("/billing", body).await
    }

    pub async fn post_deposit_raw(&self, body: impl Into<reqwest::Body>) -> (u16, Value) {
        self.post_raw("/billing", body).await
    }

    /// The stored status of an order's payment (tombstones included).
    pub async fn payment_status(&self, order_id: Uuid) -> Option<String> {
        sqlx::query_scalar("SELECT status FROM payments WHERE order_id = $1")
            .bind(order_id)
            .fetch_optional(&self.store)
            .await
            .unwrap()
    }

    pub async fn wait_payment_status(&self, order_id: Uuid, status: &str) {
        wait_for(
            &format!("order {order_id}'s payment to be {status}"),
            PATIENCE,
            || async move {
                (self.payment_status(order_id).await.as_deref() == Some(status)).then_some(())
            },
        )
        .await
    }

    /// Whether billing has applied the event (its inbox record is written with the effect).
    pub async fn handled(&self, event: &Envelope) -> bool {
        sqlx::query_scalar("SELECT count(*) > 0 FROM inbox WHERE event_id = $1")
            .bind(event.event_id)
            .fetch_one(&self.store)
            .await
            .unwrap()
    }

    pub async fn wait_handled(&self, event: &Envelope) {
        wait_for("billing to handle the event", PATIENCE, || async move {
            self.handled(event).await.then_some(())
        })
        .await
    }

    /// Checks SPEC §5.4/5.5 on billing's own tables: every balance equals
    /// credit_limit + deposits − its CHARGED payments and is not negative, and no order has
    /// more than one payment row (the primary key guarantees it; counted anyway).
    pub async fn assert_invariants(&self) {
        let broken: Vec<(Uuid, Decimal, Decimal)> = sqlx::query_as(
            "SELECT a.customer_id, a.balance, \
                    a.credit_limit + a.deposits - coalesce(sum(p.amount) \
                        FILTER (WHERE p.status = 'CHARGED'), 0) AS expected \
             FROM accounts a LEFT JOIN payments p ON p.customer_id = a.customer_id \
             GROUP BY a.customer_id \
             HAVING a.balance <> a.credit_limit + a.deposits - coalesce(sum(p.amount) \
                        FILTER (WHERE p.status = 'CHARGED'), 0) OR a.balance < 0",
        )
        .fetch_all(&self.store)
        .await
        .unwrap();
        assert!(broken.is_empty(), "balance invariant broken: {broken:?}");
    }
}

impl Deref for TestApp {
    type Target = TestService<PgPool>;

    fn deref(&self) -> &Self::Target {
        &self.service
    }
}

impl DerefMut for TestApp {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.service
    }
}

pub fn money(s: &str) -> Money {
    s.parse().unwrap()
}

/// A `customer.created` for a new customer.
pub fn customer_created(credit_limit: &str) -> Envelope {
    customer_created_for(Uuid::now_v7(), credit_limit)
}

pub fn customer_created_for(customer_id: Uuid, credit_limit: &str) -> Envelope {
    Envelope::new(
        "customer",
        CustomerCreated {
            customer_id,
            name: "Ada Lovelace".into(),
            email: format!("{customer_id}@example.com"),
            credit_limit: money(credit_limit),
        },
    )
}

pub fn order_created(customer_id: Uuid, total: &str) -> Envelope {
    Envelope::new(
        "orders",
        OrderCreated {
            order_id: Uuid::now_v7(),
            customer_id,
            items: vec![OrderLine {
                sku: "SKU-1".into(),
                quantity: 1,
                unit_price: money(total),
            }],
            total: money(total),
        },
    )
}

pub fn order_id(event: &Envelope) -> Uuid {
    match &event.payload {
        EventPayload::OrderCreated(o) => o.order_id,
        EventPayload::OrderCancelled(c) => c.order_id,
        EventPayload::OrderPaid(p) => p.order_id,
        EventPayload::PaymentFailed(p) => p.order_id,
        EventPayload::PaymentRefunded(p) => p.order_id,
        other => panic!("not an order event: {other:?}"),
    }
}

pub fn order_cancelled(order: &Envelope, reason: &str) -> Envelope {
    let EventPayload::OrderCreated(o) = &order.payload else {
        panic!("not an order.created")
    };
    Envelope::new(
        "orders",
        OrderCancelled {
            order_id: o.order_id,
            customer_id: o.customer_id,
            reason: reason.into(),
        },
    )
}

/// Everything billing emits, read from the beginning of its topics and kept, each event
/// once: delivery is at least once, so a copy of an event (same id) is not a second effect.
pub struct Emitted {
    consumer: StreamConsumer,
    pub events: Vec<Envelope>,
}

pub fn emitted(app: &TestApp) -> Emitted {
    Emitted {
        consumer: app.reader(&[
            EventType::OrderPaid,
            EventType::PaymentFailed,
            EventType::PaymentRefunded,
        ]),
        events: Vec::new(),
    }
}

impl Emitted {
    fn keep(&mut self, messages: &[OwnedMessage]) {
        for m in messages {
            let event = Envelope::decode(m.payload().unwrap()).expect("billing emits valid events");
            if !self.events.iter().any(|e| e.event_id == event.event_id) {
                self.events.push(event);
            }
        }
    }

    /// Reads until at least `n` distinct events have been read in all.
    pub async fn until(&mut self, n: usize) -> &[Envelope] {
        let have = self.events.clone();
        let messages = read_until(&self.consumer, PATIENCE, |m| {
            let mut ids: Vec<_> = have.iter().map(|e| e.event_id).collect();
            for msg in m {
                let e = Envelope::decode(msg.payload().unwrap()).unwrap();
                if !ids.contains(&e.event_id) {
                    ids.push(e.event_id);
                }
            }
            ids.len() >= n
        })
        .await;
        self.keep(&messages);
        &self.events
    }

    /// Reads, once `app` has settled (every event it was given handled, its outbox sent), to
    /// the end of its topics: everything it emitted, to show that nothing more was.
    pub async fn settled(&mut self, app: &TestApp) -> &[Envelope] {
        let messages = app.read_settled(&BILLING, &self.consumer).await;
        self.keep(&messages);
        &self.events
    }

    pub fn of_type(&self, t: EventType) -> Vec<&Envelope> {
        self.events.iter().filter(|e| e.event_type() == t).collect()
    }
}
