//! Two orders-service instances sharing one database and one consumer group: a burst of
//! orders and their (duplicated) upstream events, and the deadline swept by both at once.
//! No order may be lost or finished twice.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use futures::future::join_all;
use saga_contracts::services::ORDERS;
use saga_contracts::{Envelope, EventPayload};
use saga_messaging::testing::{fresh_database_url, provisioned_kafka};
use serde_json::json;
use uuid::Uuid;

/// Two instances of the service in one consumer group, on one database.
async fn two_instances(order_timeout: Duration) -> (TestApp, TestApp) {
    let (url, kafka) = (
        fresh_database_url("orders").await,
        provisioned_kafka(&ORDERS).await,
    );
    let a = TestApp::spawn_from(settings(url.clone(), kafka.clone(), order_timeout)).await;
    let b = TestApp::spawn_from(settings(url, kafka, order_timeout)).await;
    (a, b)
}

/// Places `n` orders for one customer, alternating between the instances, all at once.
async fn burst(a: &TestApp, b: &TestApp, n: usize) -> (Uuid, Vec<Uuid>) {
    let sku = unique_sku();
    let (customer, first) = a.seed(&sku, "2.00").await;
    let body = json!({"customer_id": customer, "items": [{"sku": sku, "quantity": 2}]});
    let posts = (1..n).map(|i| {
        let app = if i % 2 == 0 { a } else { b };
        let body = body.clone();
        async move { app.post_order(&body, None).await }
    });
    let mut ids = vec![order_id_of(&first)];
    for (status, order) in join_all(posts).await {
        assert_eq!(status, 202, "{order}");
        ids.push(order_id_of(&order));
    }
    (customer, ids)
}

/// The terminal event (`order.confirmed` / `order.cancelled`) of each order, from the topics:
/// exactly one per order, none for unknown orders.
fn one_terminal_each(emitted: &[Envelope], ids: &[Uuid]) -> HashMap<Uuid, Envelope> {
    let mut terminal: HashMap<Uuid, Envelope> = HashMap::new();
    for e in emitted {
        let id = match &e.payload {
            EventPayload::OrderConfirmed(c) => c.order_id,
            EventPayload::OrderCancelled(c) => c.order_id,
            _ => continue,
        };
        assert!(ids.contains(&id), "an event about a stranger: {e:?}");
        if let Some(before) = terminal.insert(id, e.clone()) {
            panic!("order {id} finished twice: {before:?} and {e:?}");
        }
    }
    assert_eq!(terminal.len(), ids.len(), "every order finished");
    terminal
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_finish_every_order_of_a_burst_exactly_once() {
    let (a, b) = two_instances(Duration::from_secs(600)).await;
    let events = a.emitted_reader();
    let (customer, ids) = burst(&a, &b, 40).await;

    // Upstream events by the order's index: confirm (stock first / payment first), cancel by
    // stock, cancel by payment after a reservation. Every event is published twice.
    let mut upstream = Vec::new();
    for (i, &id) in ids.iter().enumerate() {
        upstream.extend(match i % 4 {
            0 => vec![stock_reserved(id), order_paid(id, customer)],
            1 => vec![order_paid(id, customer), stock_reserved(id)],
            2 => vec![stock_rejected(id), order_paid(id, customer)],
            _ => vec![stock_reserved(id), payment_failed(id, customer)],
        });
    }
    join_all(upstream.iter().chain(&upstream).map(|e| a.publish(e))).await;

    let emitted = a.read_events(&events, ids.len() * 2).await;
    let terminal = one_terminal_each(&emitted, &ids);
    let created = emitted
        .iter()
        .filter(|e| matches!(e.payload, EventPayload::OrderCreated(_)))
        .count();
    assert_eq!(created, ids.len(), "one order.created per order");
    assert_eq!(emitted.len(), ids.len() * 2);

    a.wait_consumed(&upstream.iter().collect::<Vec<_>>()).await;
    for (i, &id) in ids.iter().enumerate() {
        let (status, reason) = match i % 4 {
            0 | 1 => ("CONFIRMED", None),
            2 => ("CANCELLED", Some("out_of_stock")),
            _ => ("CANCELLED", Some("insufficient_funds")),
        };
        let order = if i % 2 == 0 { &a } else { &b }.order(id).await;
        assert_eq!(order["status"], status, "{order}");
        assert_eq!(order["reason"].as_str(), reason, "{order}");
        let expected_type = if status == "CONFIRMED" {
            "order.confirmed"
        } else {
            "order.cancelled"
        };
        assert_eq!(terminal[&id].event_type().as_str(), expected_type);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_deadline_sweepers_cancel_each_overdue_order_once() {
    let (a, b) = two_instances(Duration::from_secs(1)).await;
    let events = a.emitted_reader();
    let (_, ids) = burst(&a, &b, 20).await;

    let emitted = a.read_events(&events, ids.len() * 2).await;
    let terminal = one_terminal_each(&emitted, &ids);
    assert_eq!(emitted.len(), ids.len() * 2);
    for id in &ids {
        let EventPayload::OrderCancelled(c) = &terminal[id].payload else {
            panic!("not cancelled: {:?}", terminal[id])
        };
        assert_eq!(c.reason, "timeout");
        assert_eq!(a.outbox_of(*id).await, ["order.created", "order.cancelled"]);
    }
}
