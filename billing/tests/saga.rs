//! Billing's part of the saga through the real topics: charges, failures, refunds, the worst
//! delivery orders, duplicates, and orders that arrive before their account.

mod common;

use std::time::Duration;

use common::*;
use saga_contracts::services::BILLING;
use saga_contracts::{EventPayload, EventType};
use saga_messaging::testing::{read_to_end, reader, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_covered_order_is_paid_and_its_cancel_refunds_it_exactly_once() {
    let app = TestApp::spawn().await;
    let mut out = emitted(&app);
    let customer = app.open_account("100").await;
    let order = order_created(customer, "30.50");
    let id = order_id(&order);
    app.publish(&order).await;

    let paid = out.until(1).await[0].clone();
    let EventPayload::OrderPaid(p) = &paid.payload else {
        panic!("expected order.paid, got {paid:?}")
    };
    assert_eq!((p.order_id, p.customer_id), (id, customer));
    assert_eq!(p.amount.to_string(), "30.50");
    assert_eq!(paid.producer, "billing");
    assert_eq!(paid.causation_id, Some(order.event_id));
    assert_eq!(paid.correlation_id, id.to_string());
    let account = app.account(customer).await;
    assert_eq!(account["balance"], "69.50");
    assert_eq!(account["payments"].as_array().unwrap().len(), 1);
    assert_eq!(account["payments"][0]["order_id"], id.to_string());
    assert_eq!(account["payments"][0]["amount"], "30.50");
    assert_eq!(account["payments"][0]["status"], "CHARGED");
    assert!(account["payments"][0]["reason"].is_null());
    assert!(account["payments"][0]["at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));

    // The same cancel twice, and a second cancel event for the same order.
    let cancel = order_cancelled(&order, "stock_rejected");
    let again = order_cancelled(&order, "timeout");
    app.publish(&cancel).await;
    app.publish(&cancel).await;
    app.publish(&again).await;
    out.until(2).await;
    app.wait_handled(&again).await;
    out.settled(&app).await;
    assert_eq!(
        out.events.len(),
        2,
        "order.paid and one refund: {:?}",
        out.events
    );
    let refunds = out.of_type(EventType::PaymentRefunded);
    assert_eq!(refunds.len(), 1);
    let EventPayload::PaymentRefunded(r) = &refunds[0].payload else {
        unreachable!()
    };
    assert_eq!((r.order_id, r.customer_id), (id, customer));
    assert_eq!(r.amount.to_string(), "30.50");
    assert_eq!(refunds[0].correlation_id, id.to_string());
    assert!([cancel.event_id, again.event_id].contains(&refunds[0].causation_id.unwrap()));

    let account = app.account(customer).await;
    assert_eq!(account["balance"], "100.00");
    assert_eq!(account["payments"][0]["status"], "REFUNDED");
    assert_eq!(account["payments"].as_array().unwrap().len(), 1);
    app.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_the_balance_cannot_cover_fails_and_its_cancel_refunds_nothing() {
    let app = TestApp::spawn().await;
    let mut out = emitted(&app);
    let customer = app.open_account("50").await;
    let big = order_created(customer, "80");
    app.publish(&big).await;
    let failed = out.until(1).await[0].clone();
    let EventPayload::PaymentFailed(f) = &failed.payload else {
        panic!("expected payment.failed, got {failed:?}")
    };
    assert_eq!(f.order_id, order_id(&big));
    assert_eq!(f.customer_id, customer);
    assert_eq!(f.amount.to_string(), "80.00");
    assert_eq!(f.reason, "insufficient_funds");
    assert_eq!(failed.causation_id, Some(big.event_id));

    let cancel = order_cancelled(&big, "insufficient_funds");
    app.publish(&cancel).await;
    app.wait_handled(&cancel).await;
    // An order the balance covers exactly still goes through, down to zero.
    let exact = order_created(customer, "50");
    app.publish(&exact).await;
    out.until(2).await;
    out.settled(&app).await;
    assert_eq!(
        out.events.len(),
        2,
        "no refund for a failed payment: {:?}",
        out.events
    );
    assert_eq!(out.events[1].event_type(), EventType::OrderPaid);
    assert_eq!(order_id(&out.events[1]), order_id(&exact));

    let account = app.account(customer).await;
    assert_eq!(account["balance"], "0.00");
    let payments = account["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 2);
    // Newest first.
    assert_eq!(payments[0]["order_id"], order_id(&exact).to_string());
    assert_eq!(payments[0]["status"], "CHARGED");
    assert_eq!(payments[1]["order_id"], order_id(&big).to_string());
    assert_eq!(payments[1]["status"], "FAILED");
    assert_eq!(payments[1]["reason"], "insufficient_funds");
    assert_eq!(payments[1]["amount"], "80.00");
    app.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_seen_before_its_order_leaves_a_tombstone_and_the_late_order_is_not_charged() {
    let app = TestApp::spawn().await;
    let mut out = emitted(&app);
    let customer = app.open_account("100").await;
    let order = order_created(customer, "40");
    let cancel = order_cancelled(&order, "timeout");
    // The worst order: the cancel is applied before the order.created is even sent.
    app.publish(&cancel).await;
    app.wait_payment_status(order_id(&order), "CANCELLED_BEFORE_CHARGE")
        .await;
    app.publish(&order).await;
    app.publish(&cancel).await;
    app.publish(&order).await;
    app.wait_handled(&order).await;

    out.settled(&app).await;
    assert!(out.events.is_empty(), "nothing emitted: {:?}", out.events);
    let account = app.account(customer).await;
    assert_eq!(account["balance"], "100.00");
    assert_eq!(
        account["payments"],
        serde_json::json!([]),
        "a tombstone is no payment"
    );
    assert_eq!(
        app.payment_status(order_id(&order)).await.as_deref(),
        Some("CANCELLED_BEFORE_CHARGE")
    );
    app.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_that_arrives_before_its_account_is_charged_once_the_account_opens() {
    let app = TestApp::spawn().await;
    let mut out = emitted(&app);
    let opening = customer_created("75");
    let EventPayload::CustomerCreated(c) = &opening.payload else {
        unreachable!()
    };
    let customer = c.customer_id;
    let order = order_created(customer, "60");
    let id = order_id(&order);
    app.publish(&order).await;
    // Billing has seen the order and is waiting (retrying) for the account.
    wait_for("billing to wait for the account", PATIENCE, || async {
        sqlx::query_scalar::<_, bool>("SELECT count(*) > 0 FROM account_waits WHERE order_id = $1")
            .bind(id)
            .fetch_one(&app.store)
            .await
            .unwrap()
            .then_some(())
    })
    .await;
    assert!(!app.handled(&order).await);
    app.publish(&opening).await;

    let paid = out.until(1).await[0].clone();
    assert_eq!(paid.event_type(), EventType::OrderPaid, "{paid:?}");
    assert_eq!(order_id(&paid), id);
    assert_eq!(app.balance(customer).await, "15.00");
    let waits: i64 = sqlx::query_scalar("SELECT count(*) FROM account_waits")
        .fetch_one(&app.store)
        .await
        .unwrap();
    assert_eq!(waits, 0, "the settled order's wait is forgotten");
    app.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_for_a_customer_that_never_appears_fails_after_the_bounded_wait() {
    let wait = Duration::from_secs(2);
    let app = TestApp::spawn_waiting(wait).await;
    let mut out = emitted(&app);
    let customer = uuid::Uuid::now_v7();
    let order = order_created(customer, "10");
    app.publish(&order).await;

    let failed = out.until(1).await[0].clone();
    let EventPayload::PaymentFailed(f) = &failed.payload else {
        panic!("expected payment.failed, got {failed:?}")
    };
    assert_eq!(f.reason, "unknown_customer");
    assert_eq!((f.order_id, f.customer_id), (order_id(&order), customer));
    assert_eq!(f.amount.to_string(), "10.00");
    // It was retried, not failed on the spot: billing waited out the bound first.
    let waited = failed.occurred_at - order.occurred_at;
    assert!(waited.to_std().unwrap() >= wait, "failed after {waited}");
    assert_eq!(
        app.payment_status(order_id(&order)).await.as_deref(),
        Some("FAILED")
    );
    // Billing's group has committed past the order: a dead letter of it would be on the DLQ
    // topic by now (the runner stores an offset only once its letter is acknowledged).
    app.settled(&BILLING).await;
    let dlq = app.kafka.dlq_topic(EventType::OrderCreated);
    let dead = read_to_end(&reader(&app.kafka, &[&dlq]), PATIENCE).await;
    assert!(dead.is_empty(), "failed, not dead-lettered");

    // Should the account open after all, the failed order stays failed (one outcome per
    // order) and shows on the statement with its reason.
    app.publish(&customer_created_for(customer, "10")).await;
    let account = app.wait_account(customer).await;
    assert_eq!(account["balance"], "10.00");
    assert_eq!(account["payments"][0]["status"], "FAILED");
    assert_eq!(account["payments"][0]["reason"], "unknown_customer");
    app.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_delivered_twice_charges_once_and_refunds_once() {
    let app = TestApp::spawn().await;
    let mut out = emitted(&app);
    let opening = customer_created("100");
    let EventPayload::CustomerCreated(c) = &opening.payload else {
        unreachable!()
    };
    let customer = c.customer_id;
    app.publish(&opening).await;
    app.publish(&opening).await;
    app.wait_account(customer).await;
    let (status, _) = app
        .post_deposit(&serde_json::json!({ "customer_id": customer, "amount": "20" }))
        .await;
    assert_eq!(status, 200);
    // A second customer.created for the same customer (another event id) resets nothing.
    let reopening = customer_created_for(customer, "999");
    app.publish(&reopening).await;
    app.publish(&reopening).await;

    let orders: Vec<_> = ["10", "20", "30"]
        .iter()
        .map(|t| order_created(customer, t))
        .collect();
    for o in &orders {
        app.publish(o).await;
        app.publish(o).await;
    }
    out.until(3).await;
    let cancel = order_cancelled(&orders[1], "stock_rejected");
    app.publish(&cancel).await;
    app.publish(&cancel).await;
    out.until(4).await;
    app.wait_handled(&reopening).await;
    out.settled(&app).await;
    assert_eq!(
        out.of_type(EventType::OrderPaid).len(),
        3,
        "{:?}",
        out.events
    );
    let refunds = out.of_type(EventType::PaymentRefunded);
    assert_eq!(refunds.len(), 1);
    assert_eq!(order_id(refunds[0]), order_id(&orders[1]));
    assert_eq!(out.events.len(), 4, "{:?}", out.events);

    let account = app.account(customer).await;
    assert_eq!(account["credit_limit"], "100.00");
    assert_eq!(account["deposits"], "20.00");
    assert_eq!(account["balance"], "80.00", "120 − 10 − 30");
    let statuses: Vec<_> = account["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses.iter().filter(|s| *s == "CHARGED").count(), 2);
    assert_eq!(statuses.iter().filter(|s| *s == "REFUNDED").count(), 1);
    assert_eq!(statuses.len(), 3);
    app.assert_invariants().await;
}
