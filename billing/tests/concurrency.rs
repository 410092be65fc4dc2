//! Concurrent orders of one customer never overdraw the account, and concurrent deliveries
//! of one order's events settle it once: through the real topics and, to make the races as
//! tight as possible, through the handler itself with every call released at once.

mod common;

use std::sync::Arc;
use std::time::Duration;

use billing::saga::SagaHandler;
use common::*;
use saga_contracts::services::BILLING;
use saga_contracts::{Envelope, EventPayload, EventType};
use saga_messaging::postgres::PgIdempotent;
use saga_messaging::{Handler, HandlerError};
use tokio::sync::Barrier;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_orders_against_a_balance_for_five_charge_exactly_five() {
    let app = TestApp::spawn().await;
    let mut out = emitted(&app);
    let customer = app.open_account("50").await;
    let orders: Vec<Envelope> = (0..20).map(|_| order_created(customer, "10")).collect();
    futures::future::join_all(orders.iter().map(|o| app.publish(o))).await;

    out.until(20).await;
    out.settled(&app).await;
    assert_eq!(out.events.len(), 20, "one outcome per order");
    assert_eq!(out.of_type(EventType::OrderPaid).len(), 5);
    let failed = out.of_type(EventType::PaymentFailed);
    assert_eq!(failed.len(), 15);
    for f in failed {
        let EventPayload::PaymentFailed(f) = &f.payload else {
            unreachable!()
        };
        assert_eq!(f.reason, "insufficient_funds");
    }
    let mut settled: Vec<Uuid> = out.events.iter().map(order_id).collect();
    settled.sort();
    settled.dedup();
    assert_eq!(settled.len(), 20, "every order settled once");

    let account = app.account(customer).await;
    assert_eq!(account["balance"], "0.00");
    let payments = account["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 20);
    let charged = payments.iter().filter(|p| p["status"] == "CHARGED").count();
    assert_eq!(charged, 5);
    app.assert_invariants().await;
}

/// The handler as the runner drives it: transient errors are retried.
async fn deliver(handler: &PgIdempotent<SagaHandler>, event: &Envelope) {
    for _ in 0..50 {
        match handler.handle(event).await {
            Ok(_) => return,
            Err(HandlerError::Transient(_) | HandlerError::Unavailable(_)) => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("handler failed: {e}"),
        }
    }
    panic!("still failing after 50 attempts");
}

/// Runs every delivery at once (released together by a barrier).
async fn all_at_once(handler: &Arc<PgIdempotent<SagaHandler>>, events: Vec<Envelope>) {
    let barrier = Arc::new(Barrier::new(events.len()));
    let tasks: Vec<_> = events
        .into_iter()
        .map(|event| {
            let handler = handler.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                deliver(&handler, &event).await;
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

/// How many of `events` are of `event_type` for one order.
fn count(events: &[Envelope], order: Uuid, event_type: EventType) -> i64 {
    let key = order.to_string();
    events
        .iter()
        .filter(|e| e.key() == key && e.event_type() == event_type)
        .count() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_deliveries_never_overdraw_nor_settle_an_order_twice() {
    let app = TestApp::spawn().await;
    let handler = Arc::new(PgIdempotent::new(
        app.store.clone(),
        "billing-direct",
        SagaHandler::new(Duration::from_secs(20)),
    ));
    let opening = customer_created("50");
    deliver(&handler, &opening).await;
    let EventPayload::CustomerCreated(c) = &opening.payload else {
        unreachable!()
    };
    let customer = c.customer_id;

    // Twenty orders of one customer at once, each delivered twice, against a balance for five.
    let orders: Vec<Envelope> = (0..20).map(|_| order_created(customer, "10")).collect();
    let twice: Vec<Envelope> = orders.iter().chain(&orders).cloned().collect();
    all_at_once(&handler, twice).await;
    assert_eq!(app.balance(customer).await, "0.00");
    let emitted = app.emitted(&BILLING).await;
    let mut paid = 0;
    for o in &orders {
        let p = count(&emitted, order_id(o), EventType::OrderPaid);
        let f = count(&emitted, order_id(o), EventType::PaymentFailed);
        assert_eq!(p + f, 1, "one outcome for order {}", order_id(o));
        paid += p;
    }
    assert_eq!(paid, 5);

    // Two distinct order.created events for one order, racing: one payment.
    let (status, _) = app
        .post_deposit(&serde_json::json!({ "customer_id": customer, "amount": "500" }))
        .await;
    assert_eq!(status, 200);
    let order = order_created(customer, "10");
    let mut copy = order.clone();
    copy.event_id = Uuid::now_v7();
    all_at_once(&handler, vec![order.clone(), copy]).await;
    let emitted = app.emitted(&BILLING).await;
    assert_eq!(count(&emitted, order_id(&order), EventType::OrderPaid), 1);
    assert_eq!(app.balance(customer).await, "490.00");

    // Each order's create and cancel racing: whichever wins, the order costs nothing in the
    // end, and a refund is emitted exactly when a charge was.
    let orders: Vec<Envelope> = (0..20).map(|_| order_created(customer, "10")).collect();
    let mut racing = Vec::new();
    for o in &orders {
        racing.push(o.clone());
        racing.push(order_cancelled(o, "timeout"));
    }
    all_at_once(&handler, racing).await;
    assert_eq!(app.balance(customer).await, "490.00");
    let emitted = app.emitted(&BILLING).await;
    for o in &orders {
        let id = order_id(o);
        let paid = count(&emitted, id, EventType::OrderPaid);
        let refunded = count(&emitted, id, EventType::PaymentRefunded);
        assert_eq!(paid, refunded, "order {id}");
        let status = app.payment_status(id).await.unwrap();
        let expected = if paid == 1 {
            "REFUNDED"
        } else {
            "CANCELLED_BEFORE_CHARGE"
        };
        assert_eq!(status, expected, "order {id}");
    }
    app.assert_invariants().await;
}

/// A deposit may fill an account only so far that every outstanding charge can still be
/// refunded: the refund of a charged order can then never overflow the balance column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposit_leaves_room_for_every_refund() {
    let app = TestApp::spawn().await;
    let handler = PgIdempotent::new(
        app.store.clone(),
        "billing-direct",
        SagaHandler::new(Duration::from_secs(20)),
    );
    let opening = customer_created("100");
    deliver(&handler, &opening).await;
    let EventPayload::CustomerCreated(c) = &opening.payload else {
        unreachable!()
    };
    let customer = c.customer_id;
    let order = order_created(customer, "100");
    deliver(&handler, &order).await;
    assert_eq!(app.balance(customer).await, "0.00");

    // As if after many deposits (each is at most 1e9): the column holds 999999999999.99, and
    // 100.00 is charged and may come back.
    sqlx::query(
        "UPDATE accounts SET balance = 999999999399.99, deposits = 999999999399.99 \
         WHERE customer_id = $1",
    )
    .bind(customer)
    .execute(&app.store)
    .await
    .unwrap();
    let (status, body) = app
        .post_deposit(&serde_json::json!({ "customer_id": customer, "amount": "600" }))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("balance_limit_exceeded")),
        "{body}"
    );
    let (status, body) = app
        .post_deposit(&serde_json::json!({ "customer_id": customer, "amount": "500" }))
        .await;
    assert_eq!(status, 200, "{body}");

    deliver(&handler, &order_cancelled(&order, "test")).await;
    assert_eq!(app.balance(customer).await, "999999999999.99");
    assert_eq!(
        app.payment_status(order_id(&order)).await.as_deref(),
        Some("REFUNDED")
    );
}
