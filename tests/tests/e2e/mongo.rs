//! Scenarios m01–m08: the saga with inventory on MongoDB (SecantusDB, the stack's
//! MongoDB-protocol server, or one of the test's own), everything else as in the other
//! scenarios. Each runs inventory in a fresh database `t_<uuid>` and ends with the invariant
//! checker and with every dead-letter topic of the run empty.
//!
//! SecantusDB is 30–50 times slower than `mongod` (a transaction takes about 40 ms, a saga
//! step 150–250 ms), so the bursts here are paced: `E2E_MONGO_BURST` orders (default 60) at
//! `E2E_MONGO_RATE` per second (default 3), and the hot-SKU burst `E2E_MONGO_HOT` orders
//! (default 150) at `E2E_MONGO_HOT_RATE` per second (default 6).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use saga_contracts::EventType;
use saga_messaging::testing::wait_for;

use super::actions::money;
use super::basic;
use super::faults::{self, finish_burst, reasons, start_burst_with, wait_placed};
use super::groups;
use super::harness::{shared_mongodb, Options, Service, System};
use super::outages::{assert_no_dead_letters, hold_outage, unavailable_retries, wait_unready};
use super::secantus::PrivateSecantus;
use super::workload::{self, BurstSpec, Mix, MixSpec};

/// Orders in the fault bursts: `E2E_MONGO_BURST`, or 60.
fn burst_size() -> usize {
    env_or("E2E_MONGO_BURST", 60)
}

/// Orders offered per second in every burst: `E2E_MONGO_RATE`, or 3.
fn rate() -> f64 {
    env_or("E2E_MONGO_RATE", 3.0)
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The system with inventory on `server` (a fresh database there).
fn on(server: String) -> Options {
    Options {
        inventory_mongodb: Some(server),
        ..Options::default()
    }
}

/// The system with inventory on the stack's SecantusDB.
fn on_stack() -> Options {
    on(shared_mongodb())
}

/// A paced burst of `n` orders with the fault scenarios' settings.
fn paced(n: usize, new_customer_every: usize, seed: u64) -> BurstSpec {
    BurstSpec {
        n,
        concurrency: 4,
        new_customer_every,
        per_second: Some(rate()),
        seed,
    }
}

/// m01. Scenario 1 (happy path) with inventory on MongoDB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m01_happy_path() {
    let sys = basic::happy_path(on_stack()).await;
    assert_no_dead_letters(&sys.kafka).await;
}

/// m02. Scenario 2 (out of stock after the charge: cancelled, refunded) with inventory on
/// MongoDB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m02_out_of_stock_refunds_the_payment() {
    let sys = basic::out_of_stock_refunds_the_payment(on_stack()).await;
    assert_no_dead_letters(&sys.kafka).await;
}

/// m03. Scenario 3 (payment failed after the reservation: cancelled, stock released) with
/// inventory on MongoDB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m03_insufficient_funds_releases_the_stock() {
    let sys = basic::insufficient_funds_releases_the_stock(on_stack()).await;
    assert_no_dead_letters(&sys.kafka).await;
}

/// Inventory's consumer groups with their topics, from its log, once it has started them.
async fn inventory_groups(sys: &System) -> BTreeMap<String, Vec<String>> {
    let prefix = sys.kafka.group_id("inventory");
    wait_for(
        "inventory's consumer group in its log",
        Duration::from_secs(30),
        || {
            let found: BTreeMap<String, Vec<String>> = groups::groups(sys)
                .into_iter()
                .filter(|(g, _)| g.starts_with(&prefix))
                .collect();
            async move { (!found.is_empty()).then_some(found) }
        },
    )
    .await
}

/// Waits until inventory has logged its reservation step for `order` with `note`.
async fn wait_for_step(sys: &System, order: uuid::Uuid, note: &str) {
    let id = order.to_string();
    wait_for(
        &format!("inventory's step {note:?} for order {order}"),
        Duration::from_secs(60),
        || {
            let seen = sys
                .log(Service::Inventory)
                .lines()
                .any(|l| l.contains("reservation step") && l.contains(&id) && l.contains(note));
            async move { seen.then_some(()) }
        },
    )
    .await;
}

/// m04. Out of order: `order.cancelled` reaches inventory before `order.created` (SPEC §1.5).
/// With inventory stopped, an order is placed and cancelled at its deadline (5 s). Inventory's
/// consumer group is then moved past the order's `order.created`, so that, started again, it
/// sees the cancel alone and leaves a tombstone; stopped, moved back to the beginning of
/// `order.created` and started again, it sees the late `order.created`, which must reserve
/// nothing. The stock never moves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m04_cancel_before_created_leaves_a_tombstone() {
    let sys = System::start_with(Options {
        order_timeout_secs: 5.0,
        ..on_stack()
    })
    .await;
    let a = sys.actor();
    let customer = a.customer(money("100.00")).await;
    let sku = a.product("TOMB", money("4.00"), 10).await;
    basic::wait_for_published(&a, &sku).await;
    let inventory = inventory_groups(&sys).await;
    let created_topic = sys.kafka.topic(EventType::OrderCreated);
    let created: BTreeMap<String, Vec<String>> = inventory
        .iter()
        .filter(|(_, topics)| topics.contains(&created_topic))
        .map(|(g, _)| (g.clone(), vec![created_topic.clone()]))
        .collect();
    assert!(
        !created.is_empty(),
        "inventory reads {created_topic}: {inventory:?}"
    );

    sys.stop(Service::Inventory).await;
    let (placed, _) = a.order(customer, &[(sku.clone(), 2)]).await;
    // Billing has charged it: its `order.created` is in the topic.
    basic::wait_for_payment(&a, &placed, "CHARGED").await;
    let order = a
        .terminal(placed.id, sys.order_timeout + Duration::from_secs(20))
        .await;
    assert_eq!(order.status, "CANCELLED", "{order:#?}");
    assert_eq!(order.reason.as_deref(), Some("timeout"));

    let (kafka, held) = (sys.kafka.clone(), created.clone());
    tokio::task::spawn_blocking(move || groups::skip_to_end(&kafka, &held))
        .await
        .expect("moving inventory past order.created");
    sys.start_service(Service::Inventory).await;
    wait_for_step(&sys, order.id, "cancel before reservation: tombstone left").await;
    groups::wait_caught_up(&sys.kafka, &inventory, Duration::from_secs(60)).await;
    basic::wait_for_stock(&a, &sku, (10, 0, 0)).await;

    sys.stop(Service::Inventory).await;
    let (kafka, rewind) = (sys.kafka.clone(), created.clone());
    tokio::task::spawn_blocking(move || groups::reset_to_beginning(&kafka, &rewind))
        .await
        .expect("moving inventory back to the beginning of order.created");
    sys.start_service(Service::Inventory).await;
    wait_for_step(
        &sys,
        order.id,
        "order already cancelled (tombstone): nothing reserved",
    )
    .await;
    groups::wait_caught_up(&sys.kafka, &inventory, Duration::from_secs(60)).await;

    let world = sys.check(Duration::from_secs(30)).await;
    let p = &world.products[&sku];
    assert_eq!((p.available, p.reserved, p.sold), (10, 0, 0));
    assert_eq!(world.accounts[&customer].balance, money("100.00"));
    let dead = assert_no_dead_letters(&sys.kafka).await;
    eprintln!(
        "e2e: order {} cancelled before inventory saw it: tombstone, then the late \
         order.created reserved nothing; payment {:?}, {dead} dead letters",
        order.id,
        world.payment(&order).map(|p| &p.status)
    );
}

/// m05. Scenario 7 with inventory on MongoDB and inventory alone killed (`kill -9`) halfway
/// through a paced burst, restarted at once: it must take up its outbox relay's lease again
/// and finish every saga.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m05_kill_inventory_mid_burst() {
    let n = burst_size();
    let started = Instant::now();
    let (sys, world) =
        faults::kill_mid_burst(on_stack(), &[Service::Inventory], paced(n, 10, 105)).await;
    let dead = assert_no_dead_letters(&sys.kafka).await;
    eprintln!(
        "e2e: scenario m05 with {n} orders took {:.1}s: {dead} dead letters, invariants hold; \
         outcomes {:?}",
        started.elapsed().as_secs_f64(),
        reasons(&world)
    );
}

/// m06. Scenario 9 (every consumer group replayed from offset 0; nothing visible changes)
/// with inventory on MongoDB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m06_replay_from_the_beginning_changes_nothing() {
    let sys = faults::replay_from_the_beginning(on_stack()).await;
    assert_no_dead_letters(&sys.kafka).await;
}

/// The services' default `RUST_LOG` in the suite (the harness's).
const DEFAULT_LOG: &str = "info,sqlx=warn,rdkafka=warn";
/// The module that runs a MongoDB transaction again after a write conflict, at `debug`.
const CONFLICT_LOG: &str = "saga_messaging::mongo::with_transaction";
/// What it logs then.
const CONFLICT_LINE: &str = "MongoDB transaction conflicted; running it again";

/// m07. Hot SKUs: `E2E_MONGO_HOT` orders (default 150) from 10 customers (every 5th poor) on
/// two SKUs only, `E2E_MONGO_HOT_RATE` a second (default 6) by up to 8 clients at once, so
/// that most steps touch the same two product documents. One SKU has stock for about a third
/// of the orders and sells out during the burst. Concurrent steps on one document conflict
/// and are run again in place; the scenario prints how many were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m07_hot_skus_burst() {
    let n: usize = env_or("E2E_MONGO_HOT", 150);
    let started = Instant::now();
    // A deadline long enough that a backlog is not what cancels orders (as in scenario 11);
    // inventory logs each transaction it runs again after a write conflict.
    let sys = System::start_with(Options {
        order_timeout_secs: 120.0,
        env: vec![(
            "RUST_LOG".into(),
            format!("{DEFAULT_LOG},{CONFLICT_LOG}=debug"),
        )],
        ..on_stack()
    })
    .await;
    let a = sys.actor();
    let customers = workload::setup(
        &a,
        &MixSpec {
            customers: 10,
            poor_every: 5,
            skus: 0,
            scarce_every: 0,
        },
    )
    .await
    .customers;
    let plenty = a.product("HOT", money("2.50"), 100_000).await;
    // Orders have 1 or 2 lines of 1–3 units: about 1.5 lines, 2 units each.
    let scarce = a
        .product("HOTSCARCE", money("4.00"), (n as u64) * 2 / 3)
        .await;
    let mix = Mix {
        customers,
        skus: vec![plenty.clone(), scarce.clone()],
    };
    let spec = BurstSpec {
        n,
        concurrency: 8,
        new_customer_every: 0,
        per_second: Some(env_or("E2E_MONGO_HOT_RATE", 6.0)),
        seed: 107,
    };
    let burst = workload::burst_with(&a, &mix, &spec, Arc::new(AtomicUsize::new(0))).await;
    eprintln!(
        "e2e: {n} orders on 2 SKUs placed in {:.1}s",
        burst.posted_in.as_secs_f64()
    );
    assert!(
        burst.failures.is_empty(),
        "{} orders could not be placed:\n{}",
        burst.failures.len(),
        burst.failures.join("\n")
    );
    let world = sys.check(Duration::from_secs(120)).await;
    assert_eq!(world.orders.len(), n);
    let (hot, short) = (&world.products[&plenty], &world.products[&scarce]);
    assert!(hot.sold > 0, "nothing of {plenty} sold: {hot:?}");
    assert!(short.sold > 0, "nothing of {scarce} sold: {short:?}");
    let dead = assert_no_dead_letters(&sys.kafka).await;
    let conflicts = sys
        .log(Service::Inventory)
        .lines()
        .filter(|l| l.contains(CONFLICT_LINE))
        .count();
    eprintln!(
        "e2e: scenario m07 with {n} orders took {:.1}s: {plenty} sold {}, {scarce} sold {} \
         (left {}), {conflicts} transactions run again after a write conflict, {dead} dead \
         letters, invariants hold; outcomes {:?}",
        started.elapsed().as_secs_f64(),
        hot.sold,
        short.sold,
        short.available,
        reasons(&world)
    );
}

/// How long m08 keeps inventory's MongoDB server down.
const MONGODB_OUTAGE: Duration = Duration::from_secs(45);

/// m08. MongoDB down for 45 s: inventory's server (a SecantusDB of the test's own on a free
/// port) is stopped (`kill`, SIGTERM) a third of the way into a paced burst and started again
/// on the same data directory. Meanwhile inventory's `/ready` answers 503 naming `mongodb`;
/// orders go on being placed and timing out, so compensations queue up for inventory, which
/// waits, retrying, and applies every event once the server is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m08_mongodb_down_45s_mid_burst() {
    let n = burst_size();
    let started = Instant::now();
    let mut server = PrivateSecantus::start().await;
    let sys = System::start_with(on(server.url())).await;
    let (placed, burst) = start_burst_with(&sys.actor(), paced(n, 10, 108)).await;
    wait_placed(&placed, n / 3, &burst).await;
    eprintln!(
        "e2e: {} of {n} orders placed; stopping inventory's MongoDB server",
        placed.load(Ordering::Relaxed)
    );
    let how = server.stop_server().await;
    let down = Instant::now();
    eprintln!("e2e: SecantusDB {how}");
    let body = wait_unready(&sys.api, Service::Inventory, "mongodb").await;
    eprintln!("e2e: inventory /ready: {body}");
    hold_outage(
        "inventory's MongoDB",
        MONGODB_OUTAGE.saturating_sub(down.elapsed()),
    )
    .await;
    server.start_server().await;
    eprintln!(
        "e2e: SecantusDB started again after {:.1}s",
        down.elapsed().as_secs_f64()
    );
    let back = Instant::now();
    sys.wait_ready(Service::Inventory).await;
    eprintln!(
        "e2e: inventory ready {:.1}s after the server was",
        back.elapsed().as_secs_f64()
    );
    finish_burst(n, burst).await;
    let world = sys.check(Duration::from_secs(180)).await;
    assert_eq!(world.orders.len(), n);
    let retries = unavailable_retries(&sys.api, &[Service::Inventory]).await;
    assert!(
        retries > 0.0,
        "no attempt waited for MongoDB: the outage did not meet the consumer"
    );
    let dead = assert_no_dead_letters(&sys.kafka).await;
    eprintln!(
        "e2e: scenario m08 with {n} orders took {:.1}s: {retries} attempts retried while \
         MongoDB was down, {dead} dead letters, invariants hold; outcomes {:?}",
        started.elapsed().as_secs_f64(),
        reasons(&world)
    );
    drop(sys);
}
