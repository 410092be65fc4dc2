//! A crash between effects and offset commits: the first instance runs on a runtime of its own,
//! which is dropped while events stream in (every task stopped at its next await: no graceful
//! shutdown, no final commit by the runner, the relay cut off mid-batch), and a new instance
//! takes over the same database and consumer group. Every order is reserved exactly once.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::{assert_balanced, order_created, TestApp};
use inventory::configuration::{Settings, StoreSettings};
use inventory::domain::{ReservationStatus, Sku};
use inventory::startup;
use inventory::store::postgres::PgStore;
use inventory::store::InventoryStore;
use rdkafka::Message;
use saga_contracts::services::INVENTORY;
use saga_contracts::{Envelope, EventPayload, EventType};
use saga_kit::service::ServiceSettings;
use saga_kit::testing::TestClient;
use saga_kit::CancellationToken;
use saga_messaging::env::Env;
use saga_messaging::postgres::PgSettings;
use saga_messaging::producer::{build_producer, publish};
use saga_messaging::testing::{
    fresh_database_url, provisioned_kafka, read_until, reader_of, wait_for,
};
use saga_messaging::KafkaConfig;
use tokio::runtime::Runtime;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(90);

/// The service on a runtime of its own, so that it can be killed by dropping that runtime.
async fn start_on_own_runtime(store_url: String, kafka: KafkaConfig) -> (Runtime, u16) {
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let port = rt.block_on(async {
            let settings = Settings {
                service: ServiceSettings::loopback(kafka),
                store: StoreSettings::read_for(&Env::process(), store_url).unwrap(),
            };
            // Never cancelled: the instance ends by its runtime being dropped.
            let app = startup::build(settings, CancellationToken::new())
                .await
                .expect("the first instance starts");
            let port = app.port();
            tokio::spawn(app.run_until_stopped());
            port
        });
        (rt, port)
    })
    .await
    .unwrap()
}

async fn reserved(store: &PgStore) -> u64 {
    store
        .product(&Sku::parse("P").unwrap())
        .await
        .unwrap()
        .map_or(0, |p| p.reserved)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instance_loses_no_effect_and_its_successor_doubles_none() {
    let store_url = fresh_database_url("inventory").await;
    let kafka = provisioned_kafka(&INVENTORY).await;
    let (first, port) = start_on_own_runtime(store_url.clone(), kafka.clone()).await;
    let created = TestClient::new(port)
        .post(
            "/stock",
            &serde_json::json!({"sku": "P", "name": "P", "price": "1", "quantity": 1000}),
        )
        .await;
    assert_eq!(created.0, 201, "{}", created.1);
    let store = PgStore::connect(&PgSettings::at(&store_url)).await.unwrap();

    let orders: Vec<Uuid> = (0..60).map(|_| Uuid::now_v7()).collect();
    let events: Vec<Envelope> = orders
        .iter()
        .map(|&o| order_created(o, &[("P", 1)]))
        .collect();
    // The test publishes and reads as the operator: inventory's principal may do neither.
    let operator = kafka.as_local_principal("operator");
    let producer = build_producer(&operator).unwrap();
    for e in &events[..30] {
        publish(&producer, &operator, e).await.unwrap();
    }
    // The first half applied (offsets stored after each effect, committed by a timer), the
    // second half in flight: now the instance dies.
    wait_for("the first half applied", WAIT, || async {
        (reserved(&store).await >= 30).then_some(())
    })
    .await;
    for e in &events[30..] {
        publish(&producer, &operator, e).await.unwrap();
    }
    tokio::task::spawn_blocking(move || first.shutdown_background())
        .await
        .unwrap();
    let at_crash = reserved(&store).await;
    eprintln!("killed with {at_crash} of 60 orders reserved");

    // The successor; the first half is published again too, as a replay would.
    let app = TestApp::spawn_on(store_url.clone(), kafka.clone()).await;
    for e in &events[..30] {
        publish(&producer, &operator, e).await.unwrap();
    }
    wait_for("every order applied after the restart", WAIT, || async {
        (reserved(&store).await >= 60).then_some(())
    })
    .await;

    let consumer = reader_of(&operator, &[EventType::StockReserved]);
    let mut event_ids: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
    read_until(&consumer, WAIT, |messages| {
        event_ids.clear();
        for m in messages {
            let e = Envelope::decode(m.payload().unwrap()).unwrap();
            let EventPayload::StockReserved(r) = e.payload else {
                unreachable!()
            };
            event_ids.entry(r.order_id).or_default().insert(e.event_id);
        }
        event_ids.len() == 60
    })
    .await;
    // Exactly once: each order reserved one unit, by one event (the relay may publish one
    // again after the crash, but always the same event).
    assert!(
        event_ids.values().all(|ids| ids.len() == 1),
        "an order was reserved by two different events: {event_ids:?}"
    );
    let p = store
        .product(&Sku::parse("P").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_balanced(&p);
    assert_eq!((p.available, p.reserved, p.sold), (940, 60, 0));
    for &o in &orders {
        let r = store.reservation(o).await.unwrap().unwrap();
        assert_eq!(r.status, ReservationStatus::Reserved);
    }
    let (_, metrics) = app.get_text("/metrics").await;
    let duplicates: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("events_handled_total") && l.contains("duplicate"))
        .collect();
    eprintln!("dropped by the inbox as duplicates: {duplicates:?}");
}
