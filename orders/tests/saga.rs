//! The order saga end to end: the upstream events are published into the real topics, as
//! inventory and billing publish them, and the test checks the order's state, its history and
//! exactly what the service emitted — including under duplicates, reordering and the deadline.

mod common;

use std::time::Duration;

use common::*;
use saga_contracts::services::ORDERS;
use saga_contracts::{Envelope, EventPayload, EventType};
use serde_json::Value;
use uuid::Uuid;

/// Places an order (the replicas seeded) and returns (order id, customer id, the order).
async fn new_order(app: &TestApp) -> (Uuid, Uuid, Value) {
    let (customer, order) = app.seed(&unique_sku(), "5.25").await;
    (order_id_of(&order), customer, order)
}

/// The types of the events emitted about one order, sorted (they travel on different topics,
/// so their arrival order means nothing).
fn types_for(events: &[Envelope], id: Uuid) -> Vec<&'static str> {
    let mut types: Vec<&'static str> = events
        .iter()
        .filter(|e| e.key() == id.to_string())
        .map(|e| e.event_type().as_str())
        .collect();
    types.sort();
    types
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_successes_confirm_in_either_order_once_despite_duplicates_and_late_failures() {
    let app = TestApp::spawn().await;
    let events = app.emitted_reader();
    let (a, customer_a, placed_a) = new_order(&app).await;
    let (b, customer_b, _) = new_order(&app).await;

    // A: stock first, each event delivered twice; B: payment first, likewise.
    let (reserved_a, paid_a) = (stock_reserved(a), order_paid(a, customer_a));
    let (reserved_b, paid_b) = (stock_reserved(b), order_paid(b, customer_b));
    for e in [&reserved_a, &reserved_a] {
        app.publish(e).await;
    }
    app.wait_consumed(&[&reserved_a]).await;
    assert_eq!(app.order(a).await["status"], "PENDING");
    for e in [&paid_b, &paid_b] {
        app.publish(e).await;
    }
    app.wait_consumed(&[&paid_b]).await;
    assert_eq!(app.order(b).await["status"], "PENDING");
    for e in [&paid_a, &paid_a, &reserved_b, &reserved_b] {
        app.publish(e).await;
    }
    let order_a = app.wait_status(a, "CONFIRMED").await;
    let order_b = app.wait_status(b, "CONFIRMED").await;

    // Late failures, repeats under new event ids, and the same events again: nothing changes.
    // The last event of each topic is a new one, so once it is consumed all before it are.
    let late = [
        stock_rejected(a),
        payment_failed(a, customer_a),
        paid_a.clone(),
        order_paid(a, customer_a),
        stock_reserved(a),
        stock_rejected(b),
        payment_failed(b, customer_b),
        reserved_b.clone(),
        stock_reserved(b),
        order_paid(b, customer_b),
    ];
    for e in &late {
        app.publish(e).await;
    }
    app.wait_consumed(&late.iter().collect::<Vec<_>>()).await;

    for (id, before) in [(a, &order_a), (b, &order_b)] {
        let after = app.order(id).await;
        assert_eq!(after["status"], "CONFIRMED");
        assert_eq!(after["reason"], Value::Null);
        assert_eq!(
            after["updated_at"], before["updated_at"],
            "unchanged since confirmed"
        );
        assert_eq!(
            app.outbox_of(id).await,
            ["order.created", "order.confirmed"]
        );
    }
    // The history shows every saga event seen, the late ones after the confirmation (in the
    // order they happened to arrive: they travel on different topics).
    let mut seen = history(&app.order(a).await);
    assert_eq!(
        seen[..4],
        [
            "order.created",
            "stock.reserved",
            "order.paid",
            "order.confirmed"
        ]
    );
    seen[4..].sort();
    assert_eq!(seen[4..], ["payment.failed", "stock.rejected"]);
    assert_eq!(
        &history(&app.order(b).await)[..4],
        [
            "order.created",
            "order.paid",
            "stock.reserved",
            "order.confirmed"
        ]
    );

    // On the topics: one order.created and one order.confirmed each, nothing cancelled.
    let emitted = app.read_events(&events, 4).await;
    assert_eq!(types_for(&emitted, a), ["order.confirmed", "order.created"]);
    assert_eq!(types_for(&emitted, b), ["order.confirmed", "order.created"]);
    assert_eq!(emitted.len(), 4);
    let confirmed = emitted
        .iter()
        .find(|e| e.key() == a.to_string() && e.event_type() == EventType::OrderConfirmed)
        .unwrap();
    let EventPayload::OrderConfirmed(c) = &confirmed.payload else {
        unreachable!()
    };
    assert_eq!((c.order_id, c.customer_id), (a, customer_a));
    assert_eq!(c.total.to_string(), "5.25");
    assert_eq!(serde_json::to_value(&c.items).unwrap(), placed_a["items"]);
    assert_eq!(confirmed.producer, "orders");
    assert_eq!(confirmed.correlation_id, a.to_string());
    // It reacts to the event that completed the saga.
    assert!(
        [reserved_a.event_id, paid_a.event_id].contains(&confirmed.causation_id.unwrap()),
        "{confirmed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_cancels_once_with_its_reason_whatever_follows() {
    let app = TestApp::spawn().await;
    let events = app.emitted_reader();
    // By stock: the rejection (twice) arrives, then the payment succeeds late.
    let (by_stock, customer_s, _) = new_order(&app).await;
    // By payment: the payment fails after the stock was reserved; then the rejection too.
    let (by_payment, customer_p, _) = new_order(&app).await;

    let rejected = stock_rejected(by_stock);
    let reserved = stock_reserved(by_payment);
    let failed = payment_failed(by_payment, customer_p);
    for e in [&rejected, &rejected, &reserved] {
        app.publish(e).await;
    }
    app.wait_consumed(&[&reserved]).await;
    for e in [&failed, &failed] {
        app.publish(e).await;
    }
    let stock = app.wait_status(by_stock, "CANCELLED").await;
    let payment = app.wait_status(by_payment, "CANCELLED").await;
    assert_eq!(stock["reason"], "out_of_stock");
    assert_eq!(payment["reason"], "insufficient_funds");

    let late = [
        order_paid(by_stock, customer_s),
        stock_reserved(by_stock),
        payment_failed(by_stock, customer_s),
        stock_rejected(by_stock),
        stock_rejected(by_payment),
        failed.clone(),
        payment_failed(by_payment, customer_p),
        order_paid(by_payment, customer_p),
    ];
    for e in &late {
        app.publish(e).await;
    }
    app.wait_consumed(&late.iter().collect::<Vec<_>>()).await;
    for (id, reason, before) in [
        (by_stock, "out_of_stock", &stock),
        (by_payment, "insufficient_funds", &payment),
    ] {
        let after = app.order(id).await;
        assert_eq!(after["status"], "CANCELLED");
        assert_eq!(after["reason"], reason);
        assert_eq!(after["updated_at"], before["updated_at"]);
        assert_eq!(
            app.outbox_of(id).await,
            ["order.created", "order.cancelled"]
        );
    }
    assert_eq!(
        &history(&app.order(by_stock).await)[..3],
        ["order.created", "stock.rejected", "order.cancelled"]
    );
    assert_eq!(
        &history(&app.order(by_payment).await)[..4],
        [
            "order.created",
            "stock.reserved",
            "payment.failed",
            "order.cancelled"
        ]
    );

    let emitted = app.read_events(&events, 4).await;
    assert_eq!(emitted.len(), 4);
    for (id, customer, reason, cause) in [
        (by_stock, customer_s, "out_of_stock", &rejected),
        (by_payment, customer_p, "insufficient_funds", &failed),
    ] {
        assert_eq!(
            types_for(&emitted, id),
            ["order.cancelled", "order.created"]
        );
        let cancelled = emitted
            .iter()
            .find(|e| e.key() == id.to_string() && e.event_type() == EventType::OrderCancelled)
            .unwrap();
        let EventPayload::OrderCancelled(c) = &cancelled.payload else {
            unreachable!()
        };
        assert_eq!(
            (c.order_id, c.customer_id, c.reason.as_str()),
            (id, customer, reason)
        );
        assert_eq!(cancelled.causation_id, Some(cause.event_id));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_cancels_what_is_still_pending_and_only_that() {
    let app = TestApp::spawn_with_timeout(Duration::from_secs(2)).await;
    let events = app.emitted_reader();
    // Silent: nothing ever arrives. Half-done: only the reservation arrives.
    let (silent, _, _) = new_order(&app).await;
    let (half, _, _) = new_order(&app).await;
    // Failed both ways: the rejection, the payment failure and then the deadline.
    let (failed, customer_f, _) = new_order(&app).await;
    let upstream = [
        stock_reserved(half),
        stock_rejected(failed),
        payment_failed(failed, customer_f),
    ];
    for e in &upstream {
        app.publish(e).await;
    }

    let order = app.wait_status(silent, "CANCELLED").await;
    assert_eq!(order["reason"], "timeout");
    assert_eq!(history(&order), ["order.created", "order.cancelled"]);
    let order = app.wait_status(half, "CANCELLED").await;
    assert_eq!(order["reason"], "timeout");
    assert_eq!(
        history(&order),
        ["order.created", "stock.reserved", "order.cancelled"]
    );
    // Usually a failure event wins (whichever arrives first); on a slow broker the deadline may pass first. Either way
    // the order is cancelled once (checked on the topics below).
    let order = app.wait_status(failed, "CANCELLED").await;
    let reason = order["reason"].as_str().unwrap();
    assert!(
        ["out_of_stock", "insufficient_funds", "timeout"].contains(&reason),
        "{order}"
    );

    // After the deadline, late successes change nothing.
    let late = [stock_reserved(silent), order_paid(half, Uuid::now_v7())];
    for e in &late {
        app.publish(e).await;
    }
    app.wait_consumed(&upstream.iter().chain(&late).collect::<Vec<_>>())
        .await;
    let emitted = app.read_events(&events, 6).await;
    assert_eq!(emitted.len(), 6);
    for id in [silent, half, failed] {
        assert_eq!(
            types_for(&emitted, id),
            ["order.cancelled", "order.created"]
        );
        assert_eq!(app.order(id).await["status"], "CANCELLED");
    }
    let timeout = emitted
        .iter()
        .find(|e| e.key() == silent.to_string() && e.event_type() == EventType::OrderCancelled)
        .unwrap();
    assert_eq!(timeout.causation_id, None);
    assert_eq!(timeout.correlation_id, silent.to_string());
}

/// SPEC §7: inventory's answer to an order is caused by the order's `order.created`. A
/// `stock.reserved` or `stock.rejected` caused by no event (a manual `POST /stock/reserve`
/// under the order's id) is not the saga's answer: it is acknowledged and ignored, and the
/// order waits for inventory's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_answer_that_no_order_event_caused_is_ignored() {
    let app = TestApp::spawn().await;
    let (paid, customer, _) = new_order(&app).await;
    let (waiting, _, _) = new_order(&app).await;
    let manual = [
        by_hand(stock_reserved(paid)),
        by_hand(stock_rejected(waiting)),
    ];
    let payment = order_paid(paid, customer);
    for e in manual.iter().chain([&payment]) {
        app.publish(e).await;
    }
    app.wait_consumed(&manual.iter().chain([&payment]).collect::<Vec<_>>())
        .await;
    let order = app.order(paid).await;
    assert_eq!(order["status"], "PENDING", "{order}");
    assert_eq!(history(&order), ["order.created", "order.paid"]);
    let order = app.order(waiting).await;
    assert_eq!(order["status"], "PENDING", "{order}");
    assert_eq!(history(&order), ["order.created"]);
    for id in [paid, waiting] {
        assert_eq!(app.outbox_of(id).await, ["order.created"]);
    }

    // Inventory's own answers decide.
    let (reserved, rejected) = (stock_reserved(paid), stock_rejected(waiting));
    app.publish(&reserved).await;
    app.publish(&rejected).await;
    app.wait_status(paid, "CONFIRMED").await;
    let cancelled = app.wait_status(waiting, "CANCELLED").await;
    assert_eq!(cancelled["reason"], "out_of_stock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_about_unknown_orders_are_acknowledged_not_dead_lettered() {
    let app = TestApp::spawn().await;
    let stray = stock_reserved(Uuid::now_v7());
    let failed = payment_failed(Uuid::now_v7(), Uuid::now_v7());
    app.publish(&stray).await;
    app.publish(&failed).await;
    app.wait_consumed(&[&stray, &failed]).await;
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&app.store)
        .await
        .unwrap();
    assert_eq!(orders, 0);
    assert_eq!(app.emitted(&ORDERS).await, Vec::<Envelope>::new());
}
