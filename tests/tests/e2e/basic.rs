//! Scenarios 1–5 and 10: the saga's outcomes one order at a time, and poison messages.
//! Scenarios 1–3 are also run with inventory on MongoDB (`mongo.rs`), through the functions
//! that take the system's [`Options`].

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rdkafka::producer::{FutureProducer, FutureRecord};
use saga_contracts::EventType;
use saga_messaging::testing::{header, read_until, reader, wait_for};
use serde_json::json;
use uuid::Uuid;

use super::actions::{money, Actor};
use super::client::{Notification, Order};
use super::harness::{Options, Service, System};

const SLACK: Duration = Duration::from_secs(20);

fn kinds_for(notes: &[Notification], order: Uuid) -> Vec<String> {
    let mut kinds: Vec<String> = notes
        .iter()
        .filter(|n| n.order_id == Some(order))
        .map(|n| n.kind.clone())
        .collect();
    kinds.sort();
    kinds
}

/// Waits until the customer's notifications for `order` are exactly `expected` (sorted kinds).
async fn wait_for_notifications(a: &Actor, customer: Uuid, order: Uuid, expected: &[&str]) {
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    let api = a.api.clone();
    let want = expected.clone();
    wait_for(
        &format!("notifications {expected:?} for order {order}"),
        Duration::from_secs(30),
        || {
            let api = api.clone();
            let want = want.clone();
            async move {
                let notes = api.notifications(customer).await.ok()?;
                (kinds_for(&notes, order) == want).then_some(())
            }
        },
    )
    .await;
}

/// Waits until the stock numbers of `sku` are (available, reserved, sold).
pub(super) async fn wait_for_stock(a: &Actor, sku: &str, numbers: (i64, i64, i64)) {
    let api = a.api.clone();
    wait_for(
        &format!("stock of {sku} to be (available, reserved, sold) = {numbers:?}"),
        Duration::from_secs(30),
        || {
            let api = api.clone();
            async move {
                let p = api.product(sku).await.ok()?;
                ((p.available, p.reserved, p.sold) == numbers).then_some(())
            }
        },
    )
    .await;
}

/// Waits until the order's payment has `status`.
pub(super) async fn wait_for_payment(a: &Actor, order: &Order, status: &str) {
    let api = a.api.clone();
    let (customer, id) = (order.customer_id, order.id);
    wait_for(
        &format!("payment of order {id} to be {status}"),
        Duration::from_secs(40),
        || {
            let api = api.clone();
            async move {
                let account = api.account(customer).await.ok()?;
                account
                    .payments
                    .iter()
                    .any(|p| p.order_id == id && p.status == status)
                    .then_some(())
            }
        },
    )
    .await;
}

/// Waits until notification has seen the SKU's `stock.updated`: proof that inventory published
/// it (the orders service prices from the same event).
pub(super) async fn wait_for_published(a: &Actor, sku: &str) {
    let api = a.api.clone();
    wait_for(
        &format!("stock.updated of {sku} to be published"),
        Duration::from_secs(30),
        || {
            let api = api.clone();
            async move {
                let alerts = api.stock_alerts().await.ok()?;
                alerts["stock"]
                    .as_array()?
                    .iter()
                    .any(|s| s["sku"] == sku)
                    .then_some(())
            }
        },
    )
    .await;
}

/// 1. Happy path: an order of several lines is confirmed, its stock sold, its total charged,
/// and the customer told: `welcome`, `order_paid`, `order_confirmed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s01_happy_path() {
    happy_path(Options::default()).await;
}

/// Scenario 1 on a system started with `options`; returns the system, still running.
pub(super) async fn happy_path(options: Options) -> System {
    let sys = System::start_with(options).await;
    let a = sys.actor();
    let customer = a.customer(money("1000.00")).await;
    let p1 = a.product("HAPPY", money("12.50"), 10).await;
    let p2 = a.product("HAPPY", money("3.99"), 5).await;
    let p3 = a.product("HAPPY", money("100.00"), 3).await;
    let items = vec![(p1.clone(), 2), (p2.clone(), 3), (p3.clone(), 1)];

    let (placed, _) = a.order(customer, &items).await;
    assert_eq!(placed.status, "PENDING");
    assert_eq!(
        placed.total,
        money("136.97"),
        "2 × 12.50 + 3 × 3.99 + 100.00"
    );
    let order = a.terminal(placed.id, sys.order_timeout + SLACK).await;
    assert_eq!(order.status, "CONFIRMED", "{order:#?}");
    assert_eq!(order.reason, None);

    wait_for_notifications(&a, customer, order.id, &["order_paid", "order_confirmed"]).await;
    let world = sys.check(SLACK).await;
    for (sku, qty, initial) in [(&p1, 2, 10), (&p2, 3, 5), (&p3, 1, 3)] {
        let p = &world.products[sku];
        assert_eq!(
            (p.available, p.reserved, p.sold),
            (initial - qty, 0, qty),
            "{sku}"
        );
    }
    let account = &world.accounts[&customer];
    assert_eq!(account.balance, money("863.03"));
    let payment = world.payment(&order).expect("a payment");
    assert_eq!(
        (payment.status.as_str(), payment.amount),
        ("CHARGED", order.total)
    );
    let kinds: BTreeSet<&str> = world.notifications[&customer]
        .iter()
        .map(|n| n.kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["welcome", "order_paid", "order_confirmed"])
    );
    sys
}

/// 2. Out of stock while the payment succeeds: inventory is held back until billing has
/// charged, then rejects; the order is cancelled and the charge refunded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s02_out_of_stock_refunds_the_payment() {
    out_of_stock_refunds_the_payment(Options::default()).await;
}

/// Scenario 2 on a system started with `options`; returns the system, still running.
pub(super) async fn out_of_stock_refunds_the_payment(options: Options) -> System {
    let sys = System::start_with(options).await;
    let a = sys.actor();
    let customer = a.customer(money("500.00")).await;
    let sku = a.product("SCARCE", money("5.00"), 1).await;
    wait_for_published(&a, &sku).await;

    sys.stop(Service::Inventory).await;
    let (placed, _) = a.order(customer, &[(sku.clone(), 3)]).await;
    wait_for_payment(&a, &placed, "CHARGED").await;
    sys.start_service(Service::Inventory).await;

    let order = a.terminal(placed.id, sys.order_timeout + SLACK).await;
    assert_eq!(order.status, "CANCELLED", "{order:#?}");
    assert_eq!(order.reason.as_deref(), Some("out_of_stock"));
    wait_for_payment(&a, &order, "REFUNDED").await;
    wait_for_notifications(
        &a,
        customer,
        order.id,
        &["order_paid", "order_cancelled", "payment_refunded"],
    )
    .await;
    let world = sys.check(SLACK).await;
    let p = &world.products[&sku];
    assert_eq!((p.available, p.reserved, p.sold), (1, 0, 0));
    assert_eq!(world.accounts[&customer].balance, money("500.00"));
    sys
}

/// 3. Insufficient funds while the stock is reserved: billing is held back until inventory has
/// reserved, then fails the payment; the order is cancelled and the stock released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s03_insufficient_funds_releases_the_stock() {
    insufficient_funds_releases_the_stock(Options::default()).await;
}

/// Scenario 3 on a system started with `options`; returns the system, still running.
pub(super) async fn insufficient_funds_releases_the_stock(options: Options) -> System {
    let sys = System::start_with(options).await;
    let a = sys.actor();
    let customer = a.customer(money("10.00")).await;
    let sku = a.product("PRICEY", money("25.00"), 5).await;
    let api = a.api.clone();
    wait_for(
        "billing to open the account",
        Duration::from_secs(30),
        || {
            let api = api.clone();
            async move { api.account(customer).await.ok() }
        },
    )
    .await;

    sys.stop(Service::Billing).await;
    let (placed, _) = a.order(customer, &[(sku.clone(), 2)]).await;
    wait_for_stock(&a, &sku, (3, 2, 0)).await;
    sys.start_service(Service::Billing).await;

    let order = a.terminal(placed.id, sys.order_timeout + SLACK).await;
    assert_eq!(order.status, "CANCELLED", "{order:#?}");
    assert_eq!(order.reason.as_deref(), Some("insufficient_funds"));
    wait_for_stock(&a, &sku, (5, 0, 0)).await;
    wait_for_notifications(&a, customer, order.id, &["order_cancelled"]).await;
    let world = sys.check(SLACK).await;
    let payment = world.payment(&order).expect("a payment record");
    assert_eq!(payment.status, "FAILED");
    assert_eq!(payment.reason.as_deref(), Some("insufficient_funds"));
    assert_eq!(world.accounts[&customer].balance, money("10.00"));
    sys
}

/// 4. Both fail: not enough stock and not enough money. Cancelled once, nothing moved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s04_both_fail() {
    let sys = System::start().await;
    let a = sys.actor();
    let customer = a.customer(money("5.00")).await;
    let sku = a.product("BOTHFAIL", money("20.00"), 1).await;

    let (placed, _) = a.order(customer, &[(sku.clone(), 2)]).await;
    let order = a.terminal(placed.id, sys.order_timeout + SLACK).await;
    assert_eq!(order.status, "CANCELLED", "{order:#?}");
    let reason = order.reason.clone().unwrap_or_default();
    assert!(
        reason == "out_of_stock" || reason == "insufficient_funds",
        "reason {reason}"
    );
    wait_for_notifications(&a, customer, order.id, &["order_cancelled"]).await;
    let world = sys.check(SLACK).await;
    let p = &world.products[&sku];
    assert_eq!((p.available, p.reserved, p.sold), (1, 0, 0));
    assert_eq!(world.accounts[&customer].balance, money("5.00"));
    if let Some(payment) = world.payment(&order) {
        assert_eq!(payment.status, "FAILED", "{payment:?}");
    }
    eprintln!(
        "e2e: both failed; cancelled for {reason}, payment {:?}",
        world.payment(&order).map(|p| &p.status)
    );
}

/// 5. Orders placed the instant their customers were created: the orders service is retried
/// while it answers 422 `unknown_customer`; billing may not have the account yet when the order
/// reaches it and must wait for it, not fail. Every order is confirmed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s05_order_right_after_the_customer_is_created() {
    let sys = System::start().await;
    let a = sys.actor();
    let sku = a.product("INSTANT", money("9.99"), 100).await;
    // A first order makes sure the orders service knows the SKU, so that only the customer's
    // replicas lag below.
    let warm = a.customer(money("100.00")).await;
    let (w, _) = a.order(warm, &[(sku.clone(), 1)]).await;
    a.terminal(w.id, sys.order_timeout + SLACK).await;

    let mut tasks = Vec::new();
    for _ in 0..5 {
        let a = a.clone();
        let sku = sku.clone();
        tasks.push(tokio::spawn(async move {
            let started = Instant::now();
            let customer = a.customer(money("50.00")).await;
            let (order, attempts) = a.order(customer, &[(sku, 2)]).await;
            let placed_after = started.elapsed();
            let billing_knew = a.api.account(customer).await.is_ok();
            (order, attempts, placed_after, billing_knew)
        }));
    }
    let mut orders = Vec::new();
    for t in tasks {
        let (order, attempts, after, billing_knew) = t.await.unwrap();
        eprintln!(
            "e2e: order {} accepted {:.0} ms after POST /customers, after {attempts} attempt(s); billing had the account then: {billing_knew}",
            order.id,
            after.as_secs_f64() * 1000.0
        );
        orders.push(order);
    }
    // And one whose customer and order both wait in billing's backlog while it is down: when it
    // starts, its two consumers (accounts, orders) race, and the order may arrive first.
    sys.stop(Service::Billing).await;
    let late = a.customer(money("50.00")).await;
    let (o, attempts) = a.order(late, &[(sku.clone(), 1)]).await;
    eprintln!(
        "e2e: order {} placed while billing was down, after {attempts} attempt(s)",
        o.id
    );
    orders.push(o);
    sys.start_service(Service::Billing).await;
    for o in &orders {
        let o = a.terminal(o.id, sys.order_timeout + SLACK).await;
        assert_eq!(o.status, "CONFIRMED", "{o:#?}");
    }
    let waits = sys
        .log(Service::Billing)
        .lines()
        .filter(|l| l.contains("transient failure; retrying"))
        .count();
    eprintln!("e2e: billing retried an event {waits} time(s) (waiting for an account)");
    let world = sys.check(SLACK).await;
    assert_eq!(world.count("CONFIRMED"), 7);
}

/// 10. Poison: on every partition of `order.created`, a malformed message and an envelope with
/// an unknown `schema_version`. Inventory and billing both dead-letter each of them to
/// `order.created.dlq`, unchanged, and the next order's saga completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s10_poison_messages_go_to_the_dlq() {
    let sys = System::start().await;
    let a = sys.actor();
    let customer = a.customer(money("100.00")).await;
    let sku = a.product("POISON", money("1.00"), 10).await;

    let producer: FutureProducer = sys.kafka.producer_config().create().expect("a producer");
    let topic = sys.kafka.topic(EventType::OrderCreated);
    let mut poison: BTreeSet<Vec<u8>> = BTreeSet::new();
    for partition in 0..sys.kafka.partitions {
        let malformed = format!(
            "{{\"event_type\": \"order.created\", \"marker\": \"{}\"",
            Uuid::new_v4()
        )
        .into_bytes();
        let order_id = Uuid::new_v4();
        let future = serde_json::to_vec(&json!({
            "event_id": Uuid::now_v7(),
            "event_type": "order.created",
            "schema_version": 99,
            "occurred_at": chrono::Utc::now().to_rfc3339(),
            "producer": "orders",
            "correlation_id": order_id.to_string(),
            "causation_id": null,
            "data": {"order_id": order_id, "customer_id": customer,
                     "items": [{"sku": sku, "quantity": 1, "unit_price": "1.00"}], "total": "1.00"}
        }))
        .unwrap();
        for (key, payload) in [
            (Uuid::new_v4().to_string(), &malformed),
            (order_id.to_string(), &future),
        ] {
            producer
                .send(
                    FutureRecord::to(&topic)
                        .partition(partition)
                        .key(&key)
                        .payload(payload)
                        .headers(saga_messaging::producer::event_headers(
                            "order.created",
                            None,
                        )),
                    Duration::from_secs(30),
                )
                .await
                .map_err(|(e, _)| e)
                .expect("producing a poison message");
            poison.insert(payload.clone());
        }
    }

    let (placed, _) = a.order(customer, &[(sku.clone(), 2)]).await;
    let order = a.terminal(placed.id, sys.order_timeout + SLACK).await;
    assert_eq!(order.status, "CONFIRMED", "{order:#?}");

    let groups = [
        sys.kafka.group_id("inventory"),
        sys.kafka.group_id("billing"),
    ];
    let dlq = sys.kafka.dlq_topic(EventType::OrderCreated);
    let consumer = reader(&sys.kafka, &[&dlq]);
    let expected = poison.len() * groups.len();
    let letters = read_until(&consumer, Duration::from_secs(60), |msgs| {
        let seen: BTreeSet<(Vec<u8>, String)> = msgs
            .iter()
            .filter_map(|m| {
                use rdkafka::Message;
                Some((m.payload()?.to_vec(), header(m, "dlq.consumer_group")?))
            })
            .collect();
        seen.len() >= expected
    })
    .await;
    let mut seen = BTreeSet::new();
    for m in &letters {
        use rdkafka::Message;
        let payload = m.payload().unwrap_or_default().to_vec();
        assert!(
            poison.contains(&payload),
            "an unexpected message in {dlq}: {}",
            String::from_utf8_lossy(&payload)
        );
        let group = header(m, "dlq.consumer_group").unwrap_or_default();
        assert!(groups.contains(&group), "dead-lettered by {group}");
        assert_eq!(
            header(m, "dlq.reason").as_deref(),
            Some("undecodable"),
            "{:?}",
            header(m, "dlq.error")
        );
        seen.insert((payload, group));
    }
    assert_eq!(
        seen.len(),
        expected,
        "each poison message once per consumer group"
    );
    eprintln!(
        "e2e: {} poison messages dead-lettered by {groups:?}; e.g. {:?}",
        poison.len(),
        header(&letters[0], "dlq.error")
    );
    sys.check(SLACK).await;
}
