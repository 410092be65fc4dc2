//! A crash between effects and offset commits: the service is killed mid-stream (its tasks
//! dropped, nothing flushed or committed on the way out), a new instance starts on the same
//! database and topics, and every event is delivered again. Nothing is charged or refunded
//! twice, and nothing is lost.

mod common;

use std::collections::HashMap;

use common::*;
use saga_contracts::{Envelope, EventPayload, EventType};
use saga_messaging::testing::wait_for;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_stream_then_redelivery_of_everything_changes_nothing() {
    let mut first = TestApp::spawn().await;
    let opening = customer_created("1000");
    let EventPayload::CustomerCreated(c) = &opening.payload else {
        unreachable!()
    };
    let customer = c.customer_id;
    first.publish(&opening).await;
    first.wait_account(customer).await;

    // Thirty orders of 10; every third one is cancelled right after it is placed.
    let mut events: Vec<Envelope> = vec![opening];
    let mut cancelled = Vec::new();
    for i in 0..30 {
        let order = order_created(customer, "10");
        events.push(order.clone());
        if i % 3 == 0 {
            cancelled.push(order_id(&order));
            events.push(order_cancelled(&order, "timeout"));
        }
    }
    for e in &events[1..] {
        first.publish(e).await;
    }
    // Crash once some, but typically not all, of them are settled.
    wait_for("some orders to be settled", PATIENCE, || async {
        let settled: i64 = sqlx::query_scalar("SELECT count(*) FROM payments")
            .fetch_one(&first.store)
            .await
            .unwrap();
        (settled >= 3).then_some(())
    })
    .await;
    first.crash();

    let second = TestApp::start(first.settings.clone()).await;
    for e in &events {
        second.publish(e).await;
    }
    for e in &events {
        second.wait_handled(e).await;
    }

    // Every order settled once: the cancelled ones cost nothing, the others 10 each.
    let mut statuses = HashMap::new();
    for e in &events[1..] {
        let id = order_id(e);
        let status = second.payment_status(id).await.unwrap();
        let allowed: &[&str] = if cancelled.contains(&id) {
            &["REFUNDED", "CANCELLED_BEFORE_CHARGE"]
        } else {
            &["CHARGED"]
        };
        assert!(allowed.contains(&status.as_str()), "order {id}: {status}");
        statuses.insert(id, status);
    }
    assert_eq!(second.balance(customer).await, "800.00", "1000 − 20 × 10");
    second.assert_invariants().await;

    // On the topics: one order.paid per order ever charged, one refund per refunded order,
    // a copy republished after the crash being the same event (same id), not a second one.
    let charged_ever = statuses
        .values()
        .filter(|s| *s != "CANCELLED_BEFORE_CHARGE")
        .count();
    let refunded = statuses.values().filter(|s| *s == "REFUNDED").count();
    let mut out = emitted(&second);
    out.until(charged_ever + refunded).await;
    out.settled(&second).await;
    let mut per_order: HashMap<(Uuid, EventType), usize> = HashMap::new();
    for e in &out.events {
        *per_order.entry((order_id(e), e.event_type())).or_default() += 1;
    }
    assert!(
        per_order.values().all(|&n| n == 1),
        "an order settled twice: {per_order:?}"
    );
    assert_eq!(out.of_type(EventType::OrderPaid).len(), charged_ever);
    assert_eq!(out.of_type(EventType::PaymentRefunded).len(), refunded);
    assert!(out.of_type(EventType::PaymentFailed).is_empty());
}
