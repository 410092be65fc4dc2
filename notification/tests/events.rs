//! Each consumed event type, published into the real topics, shows through the HTTP API as
//! the right notification or stock record; redeliveries, replays and second events of the same
//! (order, kind) add nothing.

mod common;

use std::collections::BTreeSet;

use common::{customer_created, money, reissued, TestApp};
use saga_contracts::events::{
    LowStock, OrderCancelled, OrderConfirmed, OrderLine, OrderPaid, PaymentRefunded, StockUpdated,
};
use saga_contracts::Envelope;
use saga_messaging::testing::wait_for;
use serde_json::Value;
use uuid::Uuid;

fn kinds_and_orders(list: &[Value]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|n| {
            (
                n["kind"].as_str().unwrap().to_owned(),
                n["order_id"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_customer_event_becomes_exactly_one_notification_however_often_it_arrives() {
    let app = TestApp::spawn().await;
    let (cid, created) = customer_created("Ada");
    app.publish(&created).await;
    let welcome = app.wait_delivered(cid, 1).await;
    assert_eq!(welcome.len(), 1);
    assert_eq!(welcome[0]["kind"], "welcome");
    assert_eq!(welcome[0]["customer_id"], cid.to_string());
    assert!(welcome[0]["order_id"].is_null());
    assert!(welcome[0]["subject"].as_str().unwrap().contains("Ada"));

    let (confirmed_order, cancelled_order, timed_out_order) =
        (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let line = |sku: &str, quantity, price| OrderLine {
        sku: sku.into(),
        quantity,
        unit_price: money(price),
    };
    let events = vec![
        Envelope::new(
            "billing",
            OrderPaid {
                order_id: confirmed_order,
                customer_id: cid,
                amount: money("12.50"),
            },
        ),
        Envelope::new(
            "orders",
            OrderConfirmed {
                order_id: confirmed_order,
                customer_id: cid,
                items: vec![line("SKU-1", 2, "5.00"), line("SKU-2", 1, "2.50")],
                total: money("12.50"),
            },
        ),
        Envelope::new(
            "billing",
            OrderPaid {
                order_id: cancelled_order,
                customer_id: cid,
                amount: money("30.00"),
            },
        ),
        Envelope::new(
            "orders",
            OrderCancelled {
                order_id: cancelled_order,
                customer_id: cid,
                reason: "out_of_stock".into(),
            },
        ),
        Envelope::new(
            "billing",
            PaymentRefunded {
                order_id: cancelled_order,
                customer_id: cid,
                amount: money("30.00"),
            },
        ),
        Envelope::new(
            "orders",
            OrderCancelled {
                order_id: timed_out_order,
                customer_id: cid,
                reason: "timeout".into(),
            },
        ),
    ];
    for e in &events {
        app.publish(e).await;
    }
    let list = app.wait_delivered(cid, 7).await;
    let expected: BTreeSet<(String, String)> = [
        ("welcome", "-".to_owned()),
        ("order_paid", confirmed_order.to_string()),
        ("order_confirmed", confirmed_order.to_string()),
        ("order_paid", cancelled_order.to_string()),
        ("order_cancelled", cancelled_order.to_string()),
        ("payment_refunded", cancelled_order.to_string()),
        ("order_cancelled", timed_out_order.to_string()),
    ]
    .into_iter()
    .map(|(k, o)| (k.to_owned(), o))
    .collect();
    assert_eq!(list.len(), 7);
    assert_eq!(kinds_and_orders(&list), expected);

    // Newest first.
    let times: Vec<&str> = list
        .iter()
        .map(|n| n["created_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    // The words of each message.
    let find = |kind: &str, order: Uuid| {
        list.iter()
            .find(|n| n["kind"] == kind && n["order_id"] == order.to_string())
            .unwrap()["body"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let out_of_stock = find("order_cancelled", cancelled_order);
    assert!(
        out_of_stock.contains("because some items are out of stock"),
        "{out_of_stock}"
    );
    assert!(!out_of_stock.contains("out_of_stock"));
    let timed_out = find("order_cancelled", timed_out_order);
    assert!(
        timed_out.contains("because it could not be completed in time"),
        "{timed_out}"
    );
    assert!(find("order_paid", confirmed_order).contains("12.50"));
    assert!(find("order_confirmed", confirmed_order).contains("3 items"));
    assert!(find("payment_refunded", cancelled_order).contains("30.00"));

    // Every notification was delivered once, to the replica's email.
    let deliveries = app.recorder.deliveries();
    assert_eq!(deliveries.len(), 7, "{deliveries:?}");
    let delivered: BTreeSet<String> = deliveries.iter().map(|d| d.0.to_string()).collect();
    let listed: BTreeSet<String> = list
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(delivered, listed);
    assert!(deliveries
        .iter()
        .all(|d| d.2.as_deref() == Some("ada@example.com")));

    // Redelivery of every event, then a second event of the same (order, kind) (or the same
    // customer). The second one shares the first's key, hence its partition: once it is
    // handled, the redelivered copy before it was handled too.
    for e in std::iter::once(&created).chain(&events) {
        app.publish(e).await;
        let second = reissued(e);
        app.publish(&second).await;
        app.wait_handled(&second).await;
    }
    let after = app.notifications(cid).await;
    assert_eq!(after.len(), 7, "{after:#?}");
    assert_eq!(kinds_and_orders(&after), expected);
    assert_eq!(app.recorder.deliveries().len(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_updates_keep_the_latest_numbers_and_each_low_stock_is_one_alert() {
    let app = TestApp::spawn().await;
    let numbers = |sku: &str, available, reserved, sold| StockUpdated {
        sku: sku.into(),
        name: format!("Widget {sku}"),
        price: money("2.50"),
        available,
        reserved,
        sold,
        low_stock_threshold: 5,
    };
    let first = Envelope::new("inventory", numbers("SKU-A", 10, 0, 0));
    let latest = Envelope::new("inventory", numbers("SKU-A", 3, 2, 5));
    let other = Envelope::new("inventory", numbers("SKU-B", 40, 1, 0));
    let low = |available| {
        Envelope::new(
            "inventory",
            LowStock {
                sku: "SKU-A".into(),
                name: "Widget SKU-A".into(),
                available,
                low_stock_threshold: 5,
            },
        )
    };
    let low_3 = low(3);
    for e in [&first, &latest, &other, &low_3] {
        app.publish(e).await;
    }
    for e in [&first, &latest, &other, &low_3] {
        app.wait_handled(e).await;
    }

    // A replay of the older numbers under a new event id does not turn the clock back;
    // a redelivered alert is not a second alert.
    let mut stale = reissued(&first);
    stale.occurred_at = first.occurred_at;
    app.publish(&stale).await;
    app.publish(&low_3).await;
    let low_2 = low(2);
    app.publish(&low_2).await;
    app.wait_handled(&stale).await;
    app.wait_handled(&low_2).await;

    let (status, body) = app.get("/stock-alerts").await;
    assert_eq!(status, 200, "{body}");
    let alerts = body["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2, "{body:#}");
    assert_eq!(alerts[0]["available"], 2);
    assert_eq!(alerts[1]["available"], 3);
    for a in alerts {
        assert_eq!(a["sku"], "SKU-A");
        assert_eq!(a["name"], "Widget SKU-A");
        assert_eq!(a["low_stock_threshold"], 5);
        assert!(a["at"].is_string());
    }
    let stock = body["stock"].as_array().unwrap();
    assert_eq!(stock.len(), 2, "{body:#}");
    assert_eq!(stock[0]["sku"], "SKU-A");
    assert_eq!(
        (
            &stock[0]["available"],
            &stock[0]["reserved"],
            &stock[0]["sold"]
        ),
        (&3.into(), &2.into(), &5.into())
    );
    assert_eq!(stock[0]["price"], "2.50");
    assert_eq!(stock[0]["low_stock_threshold"], 5);
    assert_eq!(stock[1]["sku"], "SKU-B");
    assert_eq!(stock[1]["available"], 40);
}

/// A replay after the inbox keys expired (a broker keeps records for longer than the inbox
/// TTL) sends nothing again: the once-guards of notifications and alerts outlive the inbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_after_the_inbox_expired_sends_nothing_again() {
    let app = TestApp::spawn_with_inbox_ttl(std::time::Duration::from_secs(1)).await;
    let (cid, created) = customer_created("Grace");
    app.publish(&created).await;
    app.wait_delivered(cid, 1).await;
    let paid = Envelope::new(
        "billing",
        OrderPaid {
            order_id: Uuid::now_v7(),
            customer_id: cid,
            amount: money("3.00"),
        },
    );
    let low = Envelope::new(
        "inventory",
        LowStock {
            sku: "SKU-R".into(),
            name: "Widget SKU-R".into(),
            available: 1,
            low_stock_threshold: 5,
        },
    );
    let events = [created.clone(), paid.clone(), low.clone()];
    for e in &events[1..] {
        app.publish(e).await;
    }
    app.wait_delivered(cid, 2).await;
    app.wait_handled(&low).await;

    // The inbox keys expire; then everything is delivered again, as a replay would.
    for e in &events {
        wait_for(
            "the inbox key to expire",
            std::time::Duration::from_secs(30),
            || async { (!app.handled(e.event_id).await).then_some(()) },
        )
        .await;
    }
    for e in &events {
        app.publish(e).await;
    }
    for e in &events {
        app.wait_handled(e).await;
    }
    assert_eq!(
        app.notifications(cid).await.len(),
        2,
        "welcome and paid, once each"
    );
    let (status, body) = app.get("/stock-alerts").await;
    assert_eq!(status, 200, "{body}");
    let alerts = body["alerts"].as_array().unwrap();
    assert_eq!(
        alerts.iter().filter(|a| a["sku"] == "SKU-R").count(),
        1,
        "{body}"
    );
}
