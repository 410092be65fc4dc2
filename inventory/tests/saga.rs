//! The saga through the real topics: order events published as the orders service would, the
//! service's answers read back from its topics, and the stock numbers checked over HTTP.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::{assert_balanced, order_cancelled, order_confirmed, order_created, TestApp};
use inventory::domain::{ReservationStatus, Sku};
use rdkafka::message::OwnedMessage;
use rdkafka::Message;
use saga_contracts::{Envelope, EventPayload, EventType};
use saga_messaging::testing::{read_until, wait_for};
use serde_json::Value;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(60);

async fn send(app: &TestApp, events: &[&Envelope]) {
    for e in events {
        app.publish(e).await;
    }
}

/// Waits until the product's numbers are `(available, reserved, sold)`.
async fn wait_numbers(app: &TestApp, sku: &str, expected: (u64, u64, u64)) -> Value {
    wait_for(&format!("{sku} at {expected:?}"), WAIT, || async {
        let s = app.stock(sku).await;
        let got = (
            s["available"].as_u64()?,
            s["reserved"].as_u64()?,
            s["sold"].as_u64()?,
        );
        (got == expected).then_some(s)
    })
    .await
}

fn decode(messages: &[OwnedMessage]) -> Vec<Envelope> {
    messages
        .iter()
        .map(|m| {
            let e = Envelope::decode(m.payload().unwrap()).unwrap();
            assert_eq!(
                m.key().unwrap(),
                e.key().as_bytes(),
                "keyed as SPEC §3 says"
            );
            e
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_saga_reserves_sells_releases_and_rejects_through_the_topics() {
    let app = TestApp::spawn().await;
    app.create("X", 10, 6).await;
    let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (a_created, b_created) = (order_created(a, &[("X", 2)]), order_created(b, &[("X", 3)]));
    let c_created = order_created(c, &[("X", 100), ("GONE", 1)]);
    send(&app, &[&a_created, &b_created]).await;
    wait_numbers(&app, "X", (5, 5, 0)).await;
    let (a_confirmed, b_cancelled) = (order_confirmed(a), order_cancelled(b));
    send(&app, &[&a_confirmed, &b_cancelled, &c_created]).await;
    let x = wait_numbers(&app, "X", (8, 0, 2)).await;
    assert_eq!(x["price"], "2.50");

    let answers = [
        EventType::StockReserved,
        EventType::StockReleased,
        EventType::StockRejected,
        EventType::LowStock,
    ];
    // Once the service has settled (every event above handled, its outbox sent), the topics
    // up to their end are all it answered.
    let consumer = app.reader(&answers);
    let events = decode(&app.read_settled(&consumer).await);
    let by_type = |t: EventType| -> Vec<&Envelope> {
        events.iter().filter(|e| e.event_type() == t).collect()
    };

    let reserved = by_type(EventType::StockReserved);
    let causes: HashSet<_> = reserved.iter().map(|e| e.causation_id.unwrap()).collect();
    assert_eq!(
        causes,
        HashSet::from([a_created.event_id, b_created.event_id])
    );
    for e in &reserved {
        let EventPayload::StockReserved(r) = &e.payload else {
            unreachable!()
        };
        assert_eq!(e.correlation_id, r.order_id.to_string());
    }
    let released = by_type(EventType::StockReleased);
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].causation_id, Some(b_cancelled.event_id));
    let rejected = by_type(EventType::StockRejected);
    assert_eq!(rejected.len(), 1);
    let EventPayload::StockRejected(r) = &rejected[0].payload else {
        unreachable!()
    };
    assert_eq!((r.order_id, r.reason.as_str()), (c, "unknown_sku"));
    assert_eq!(r.short_skus, ["GONE"]);
    // 10 → 8 → 5 crosses 6 once; the release back to 8 and the sale do not alert.
    let low = by_type(EventType::LowStock);
    assert_eq!(low.len(), 1);
    let EventPayload::LowStock(l) = &low[0].payload else {
        unreachable!()
    };
    assert_eq!(
        (l.sku.as_str(), l.available, l.low_stock_threshold),
        ("X", 5, 6)
    );
    assert_eq!(events.len(), 5, "{events:?}");

    // stock.updated follows every change: creation, two reservations, sale, release.
    let consumer = app.reader(&[EventType::StockUpdated]);
    let updates = read_until(&consumer, WAIT, |m| m.len() >= 5).await;
    let last = decode(&updates).pop().unwrap();
    let EventPayload::StockUpdated(u) = last.payload else {
        unreachable!()
    };
    assert_eq!((u.available, u.reserved, u.sold), (8, 0, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_twice_and_in_the_worst_order_changes_nothing_twice() {
    let app = TestApp::spawn().await;
    app.create("P", 10, 0).await;
    let inbox = sqlx::PgPool::connect_with(
        saga_messaging::postgres::connect_options(&app.store_url).unwrap(),
    )
    .await
    .unwrap();
    let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());

    // C's cancel overtakes its creation: delivered twice, it leaves a tombstone.
    let c_cancelled = order_cancelled(c);
    send(&app, &[&c_cancelled, &c_cancelled]).await;
    wait_for("C's tombstone", WAIT, || async {
        let r = app.store.reservation(c).await.unwrap()?;
        (r.status == ReservationStatus::Tombstone).then_some(())
    })
    .await;

    let created = [
        order_created(c, &[("P", 4)]),
        order_created(a, &[("P", 2)]),
        order_created(b, &[("P", 3)]),
    ];
    let twice: Vec<&Envelope> = created.iter().chain(&created).collect();
    send(&app, &twice).await;
    wait_numbers(&app, "P", (5, 5, 0)).await;
    // Every creation has been handled (C's one did nothing: its effect is only the inbox row).
    let ids: Vec<Uuid> = created.iter().map(|e| e.event_id).collect();
    wait_for("all creations in the inbox", WAIT, || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox WHERE event_id = ANY($1)")
            .bind(&ids)
            .fetch_one(&inbox)
            .await
            .unwrap();
        (n == 3).then_some(())
    })
    .await;

    let outcomes = [order_confirmed(a), order_cancelled(b)];
    let twice: Vec<&Envelope> = outcomes.iter().chain(&outcomes).collect();
    send(&app, &twice).await;
    wait_numbers(&app, "P", (8, 0, 2)).await;

    let consumer = app.reader(&[
        EventType::StockReserved,
        EventType::StockReleased,
        EventType::StockRejected,
    ]);
    // Once the service has settled (every copy handled, its outbox sent), the topics up to
    // their end are all it answered.
    let messages = app.read_settled(&consumer).await;
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for e in decode(&messages) {
        *seen
            .entry((e.event_type().to_string(), e.correlation_id.clone()))
            .or_default() += 1;
    }
    assert_eq!(
        seen,
        HashMap::from([
            (("stock.reserved".into(), a.to_string()), 1),
            (("stock.reserved".into(), b.to_string()), 1),
            (("stock.released".into(), b.to_string()), 1),
        ])
    );
    let p = app
        .store
        .product(&Sku::parse("P").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_balanced(&p);
    assert_eq!((p.reserved, p.sold, p.available), (0, 2, 8));
    for (order, expected) in [
        (a, ReservationStatus::Sold),
        (b, ReservationStatus::Released),
        (c, ReservationStatus::Tombstone),
    ] {
        let r = app.store.reservation(order).await.unwrap().unwrap();
        assert_eq!(r.status, expected);
    }
}
