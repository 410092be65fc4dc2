//! A small pool under orders that wait for their accounts: with `DATABASE_MAX_CONNECTIONS=4`,
//! orders from customers billing has not seen yet, arriving on several partitions at once,
//! retry while HTTP keeps getting connections (never 503 for want of one), and once the
//! accounts open every order is charged exactly once.
//!
//! The pool's size is read from the environment when the service opens its store, so this
//! file holds a single test: its binary's environment is its own.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::*;
use rdkafka::Message;
use saga_contracts::{Envelope, EventPayload, EventType};
use saga_messaging::testing::read_until;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

/// Orders for brand-new customers; enough that they land on at least four of the six
/// partitions, so that four workers wait for accounts at once.
const ORDERS: usize = 16;

/// How many attempts billing has made at `order.created` events, from its `/metrics`.
async fn order_created_attempts(app: &TestApp) -> u64 {
    let (status, text) = app.get_text("/metrics").await;
    assert_eq!(status, 200, "{text}");
    text.lines()
        .find_map(|line| {
            line.strip_prefix("event_handle_seconds_count{event_type=\"order.created\"} ")
                .map(|n| n.trim().parse().expect("a count"))
        })
        .unwrap_or(0)
}

fn customer_of(event: &Envelope) -> Uuid {
    match &event.payload {
        EventPayload::CustomerCreated(c) => c.customer_id,
        other => panic!("not a customer.created: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_waiting_for_their_accounts_leave_connections_for_http() {
    // Read by the service when it opens its pool; no other test runs in this binary.
    std::env::set_var("DATABASE_MAX_CONNECTIONS", "4");
    let app = TestApp::spawn_waiting(Duration::from_secs(600)).await;
    // The test's own connection, so that its checks never compete for the service's pool.
    let own = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(app.settings.postgres.database.connect_options().unwrap())
        .await
        .unwrap();
    let mut out = emitted(&app);

    let customers: Vec<Envelope> = (0..ORDERS).map(|_| customer_created("100")).collect();
    let orders: Vec<Envelope> = customers
        .iter()
        .map(|c| order_created(customer_of(c), "10"))
        .collect();
    futures::future::join_all(orders.iter().map(|o| app.publish(o))).await;
    let published = read_until(&app.reader(&[EventType::OrderCreated]), PATIENCE, |m| {
        m.len() >= ORDERS
    })
    .await;
    let partitions: HashSet<i32> = published.iter().map(|m| m.partition()).collect();
    assert!(
        partitions.len() >= 4,
        "the orders should span at least four partitions: {partitions:?}"
    );

    // While the orders wait for their accounts, HTTP is answered: 404 for an account billing
    // does not have, 200 from /ready. A partition's worker takes its orders in turn, so the
    // first order of each partition waits and the rest queue behind it. The probing lasts
    // until each of those has begun its wait and they have been retried twice more each on
    // average.
    let unknown = Uuid::now_v7();
    let deadline = Instant::now() + PATIENCE;
    let mut probes = 0;
    let mut target = None;
    loop {
        let (status, body) = app.get(&format!("/billing/{unknown}")).await;
        assert_eq!(
            status, 404,
            "GET /billing/{{unknown}} while orders wait: {body}"
        );
        let (status, body) = app.get("/ready").await;
        assert_eq!(status, 200, "GET /ready while orders wait: {body}");
        probes += 1;
        let attempts = order_created_attempts(&app).await;
        match target {
            None => {
                let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM account_waits")
                    .fetch_one(&own)
                    .await
                    .unwrap();
                if waiting as usize == partitions.len() {
                    target = Some(attempts + 2 * partitions.len() as u64);
                }
            }
            Some(t) if attempts >= t => break,
            Some(_) => {}
        }
        assert!(
            Instant::now() < deadline,
            "the orders did not all wait and retry within {PATIENCE:?} ({attempts} attempts, {probes} probes)"
        );
    }
    let paid: i64 = sqlx::query_scalar("SELECT count(*) FROM payments")
        .fetch_one(&own)
        .await
        .unwrap();
    assert_eq!(paid, 0, "no order is settled before its account opens");

    // The accounts open: every order is charged, once.
    futures::future::join_all(customers.iter().map(|c| app.publish(c))).await;
    out.until(ORDERS).await;
    out.settled(&app).await;
    assert_eq!(out.events.len(), ORDERS, "one outcome per order");
    assert_eq!(out.of_type(EventType::OrderPaid).len(), ORDERS);
    let settled: HashSet<Uuid> = out.events.iter().map(order_id).collect();
    let placed: HashSet<Uuid> = orders.iter().map(order_id).collect();
    assert_eq!(settled, placed);
    for c in &customers {
        assert_eq!(app.balance(customer_of(c)).await, "90.00");
    }
    let waits: i64 = sqlx::query_scalar("SELECT count(*) FROM account_waits")
        .fetch_one(&own)
        .await
        .unwrap();
    assert_eq!(
        waits, 0,
        "every wait is forgotten once its order is settled"
    );
    app.assert_invariants().await;
}
