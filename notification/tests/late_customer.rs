//! An order event that arrives before its customer's `customer.created` is retried through
//! the runtime, not dropped, and becomes its notification once the customer is known.
//! (Its own test binary: it reads a process-wide retry counter.)

mod common;

use std::collections::BTreeSet;

use common::{customer_created, money, TestApp, WAIT};
use notification::metrics::CUSTOMER_NOT_YET_KNOWN;
use saga_contracts::events::{OrderCancelled, OrderPaid};
use saga_contracts::Envelope;
use saga_messaging::testing::wait_for;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_events_wait_for_their_customer_and_are_then_delivered() {
    let app = TestApp::spawn().await;
    let (cid, created) = customer_created("Grace");
    let order = Uuid::now_v7();
    let before = CUSTOMER_NOT_YET_KNOWN.get();
    app.publish(&Envelope::new(
        "billing",
        OrderPaid {
            order_id: order,
            customer_id: cid,
            amount: money("20.00"),
        },
    ))
    .await;
    app.publish(&Envelope::new(
        "orders",
        OrderCancelled {
            order_id: order,
            customer_id: cid,
            reason: "insufficient_funds".into(),
        },
    ))
    .await;
    wait_for("an attempt on the order event", WAIT, || async {
        (CUSTOMER_NOT_YET_KNOWN.get() > before).then_some(())
    })
    .await;
    assert!(app.notifications(cid).await.is_empty());

    app.publish(&created).await;
    let list = app.wait_delivered(cid, 3).await;
    let kinds: BTreeSet<&str> = list.iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["welcome", "order_paid", "order_cancelled"])
    );
    let cancelled = list
        .iter()
        .find(|n| n["kind"] == "order_cancelled")
        .unwrap();
    assert!(cancelled["body"]
        .as_str()
        .unwrap()
        .contains("because your account balance was too low"));
    assert_eq!(list.len(), 3);
}
