//! The orders service's HTTP API against real PostgreSQL and the broker: placing, reading and
//! listing orders, every documented error, and the idempotency key.

mod common;

use common::*;
use saga_contracts::EventPayload;
use saga_kit::testing::{assert_error, assert_ops_endpoints, Ops};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_is_priced_from_the_replica_stored_pending_and_announced_once() {
    let app = TestApp::spawn().await;
    let events = app.emitted_reader();
    let (sku_a, sku_b) = (unique_sku(), unique_sku());
    let (customer, first) = app.seed(&sku_a, "12.5").await;
    app.publish(&stock_updated(&sku_b, "0.99")).await;
    let body = json!({"customer_id": customer, "items": [
        {"sku": sku_a, "quantity": 2, "unit_price": "0.01"},
        {"sku": sku_b, "quantity": 3}
    ]});
    let placed = app.place_when_ready(&body).await;
    assert_eq!(placed["status"], "PENDING");
    assert_eq!(placed["customer_id"], customer.to_string());
    assert_eq!(placed["reason"], Value::Null);
    assert_eq!(
        placed["items"],
        json!([
            {"sku": sku_a, "quantity": 2, "unit_price": "12.50"},
            {"sku": sku_b, "quantity": 3, "unit_price": "0.99"}
        ])
    );
    assert_eq!(placed["total"], "27.97");
    assert!(placed["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(history(&placed), ["order.created"]);
    let id = order_id_of(&placed);

    // GET shows the same order.
    let fetched = app.order(id).await;
    assert_eq!(fetched, placed);

    // A later price change does not touch a placed order; new orders get the new price.
    let update = stock_updated(&sku_a, "20.00");
    app.publish(&update).await;
    app.wait_consumed(&[&update]).await;
    assert_eq!(app.order(id).await["total"], "27.97");
    let (status, repriced) = app
        .post_order(
            &json!({"customer_id": customer, "items": [{"sku": sku_a, "quantity": 1}]}),
            None,
        )
        .await;
    assert_eq!(status, 202, "{repriced}");
    assert_eq!(repriced["total"], "20.00");

    // The customer's orders, newest first; other customers have none.
    let (status, list) = app.get(&format!("/orders?customer_id={customer}")).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            repriced["id"].as_str().unwrap(),
            placed["id"].as_str().unwrap(),
            first["id"].as_str().unwrap()
        ]
    );
    assert_eq!(list[1], placed);
    let (status, none) = app
        .get(&format!("/orders?customer_id={}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!((status, none), (200, json!([])));

    // Exactly one order.created per order, with the priced lines.
    let emitted = app.read_events(&events, 3).await;
    assert_eq!(emitted.len(), 3);
    let created = emitted
        .iter()
        .find(|e| e.correlation_id == id.to_string())
        .expect("order.created of the order");
    assert_eq!(created.producer, "orders");
    let EventPayload::OrderCreated(c) = &created.payload else {
        panic!("not order.created: {created:?}")
    };
    assert_eq!(c.customer_id, customer);
    assert_eq!(c.total.to_string(), "27.97");
    assert_eq!(serde_json::to_value(&c.items).unwrap(), placed["items"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_orders_get_the_documented_errors() {
    let app = TestApp::spawn().await;
    let sku = unique_sku();
    let (customer, _) = app.seed(&sku, "1.00").await;
    let line = |q: Value| json!({"sku": sku, "quantity": q});
    let lines = |n: usize| {
        (0..n)
            .map(|i| json!({"sku": format!("{sku}-{i}"), "quantity": 1}))
            .collect::<Vec<_>>()
    };
    let cases = [
        (
            json!({"customer_id": uuid::Uuid::now_v7(), "items": [line(json!(1))]}),
            422,
            "unknown_customer",
        ),
        (
            json!({"customer_id": "not-a-uuid", "items": [line(json!(1))]}),
            422,
            "unknown_customer",
        ),
        (
            json!({"customer_id": customer, "items": [{"sku": "NOPE", "quantity": 1}]}),
            422,
            "unknown_sku",
        ),
        // Text no SKU can be; PostgreSQL would refuse the NUL outright.
        (
            json!({"customer_id": customer, "items": [{"sku": "a\u{0}", "quantity": 1}]}),
            422,
            "unknown_sku",
        ),
        (
            json!({"customer_id": customer, "items": [{"sku": "a b/c", "quantity": 1}]}),
            422,
            "unknown_sku",
        ),
        (
            json!({"customer_id": customer, "items": [line(json!(0))]}),
            422,
            "invalid_quantity",
        ),
        (
            json!({"customer_id": customer, "items": [line(json!(1001))]}),
            422,
            "invalid_quantity",
        ),
        (
            json!({"customer_id": customer, "items": [line(json!(-3))]}),
            422,
            "invalid_quantity",
        ),
        (
            json!({"customer_id": customer, "items": [line(json!(1.5))]}),
            422,
            "invalid_quantity",
        ),
        (
            json!({"customer_id": customer, "items": [line(json!("2"))]}),
            422,
            "invalid_quantity",
        ),
        (
            json!({"customer_id": customer, "items": lines(101)}),
            422,
            "too_many_items",
        ),
        (
            json!({"customer_id": customer, "items": []}),
            422,
            "empty_order",
        ),
        (
            json!({"customer_id": customer, "items": [line(json!(1)), line(json!(2))]}),
            422,
            "duplicate_sku",
        ),
        (json!({"customer_id": customer}), 422, "invalid_request"),
        (
            json!({"customer_id": customer, "items": "many"}),
            422,
            "invalid_request",
        ),
        (
            json!({"customer_id": customer, "items": [{"quantity": 1}]}),
            422,
            "invalid_request",
        ),
    ];
    for (body, status, code) in cases {
        assert_error(&app.post_order(&body, None).await, status, code, &body);
    }
    // The limits themselves are accepted: 1000 of one SKU, 100 lines.
    let (status, resp) = app
        .post_order(
            &json!({"customer_id": customer, "items": [line(json!(1000))]}),
            None,
        )
        .await;
    assert_eq!(status, 202, "{resp}");
    assert_eq!(resp["total"], "1000.00");
    let hundred: Vec<_> = (0..100).map(|i| format!("{sku}-{i}")).collect();
    for s in &hundred {
        app.publish(&stock_updated(s, "0.01")).await;
    }
    let order = app
        .place_when_ready(&json!({"customer_id": customer, "items": lines(100)}))
        .await;
    assert_eq!(order["total"], "1.00");

    // Nothing invalid left a trace: only the valid orders exist.
    let (_, list) = app.get(&format!("/orders?customer_id={customer}")).await;
    assert_eq!(list.as_array().unwrap().len(), 3);

    let (status, body) = app.post_order_raw("{\"customer_id\": ", None).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "malformed_json");

    let huge =
        json!({"customer_id": customer, "items": [{"sku": "x".repeat(200_000), "quantity": 1}]});
    let (status, body) = app.post_order_raw(huge.to_string(), None).await;
    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "payload_too_large");

    let (status, body) = app
        .post_order(
            &json!({"customer_id": customer, "items": [line(json!(1))]}),
            Some(&"k".repeat(256)),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_idempotency_key"))
    );

    let (status, body) = app.get(&format!("/orders/{}", uuid::Uuid::now_v7())).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("order_not_found"))
    );
    let (status, _) = app.get("/orders/not-a-uuid").await;
    assert_eq!(status, 404);
    // A bare `/orders` is the newest orders, a page at a time (tests/console.rs).
    for query in ["/orders?customer_id=", "/orders?customer_id=nope"] {
        let (status, body) = app.get(query).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert!(body["error"]["code"].is_string());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_returns_the_first_order_and_refuses_another_request() {
    let app = TestApp::spawn().await;
    let events = app.emitted_reader();
    let sku = unique_sku();
    let (customer, seeded) = app.seed(&sku, "3.00").await;
    let body = json!({"customer_id": customer, "items": [{"sku": sku, "quantity": 2}]});

    let (status, first) = app.post_order(&body, Some("key-1")).await;
    assert_eq!(status, 202, "{first}");
    // The same request again, even with the price changed meanwhile: the first order.
    let update = stock_updated(&sku, "4.00");
    app.publish(&update).await;
    app.wait_consumed(&[&update]).await;
    let (status, again) = app.post_order(&body, Some("key-1")).await;
    assert_eq!((status, &again), (202, &first));
    // The same request written differently (2.0 for 2) is still the same request.
    let same = json!({"items": [{"quantity": 2.0, "sku": sku}], "customer_id": customer.to_string().to_uppercase()});
    assert_eq!(
        app.post_order(&same, Some("key-1")).await,
        (202, first.clone())
    );

    // Another request with that key is refused and creates nothing.
    let other = json!({"customer_id": customer, "items": [{"sku": sku, "quantity": 3}]});
    let (status, resp) = app.post_order(&other, Some("key-1")).await;
    assert_eq!(
        (status, resp["error"]["code"].as_str()),
        (409, Some("idempotency_key_reused"))
    );

    // Concurrent requests with a fresh key: one order, every response that order.
    let requests = (0..10).map(|_| app.post_order(&body, Some("key-2")));
    let responses = futures::future::join_all(requests).await;
    let winner = &responses[0].1;
    for (status, resp) in &responses {
        assert_eq!((*status, resp), (202, winner));
    }
    assert_ne!(winner["id"], first["id"]);
    assert_eq!(winner["total"], "8.00");

    let (_, list) = app.get(&format!("/orders?customer_id={customer}")).await;
    let ids: Vec<&Value> = list.as_array().unwrap().iter().map(|o| &o["id"]).collect();
    assert_eq!(ids, [&winner["id"], &first["id"], &seeded["id"]]);
    // One order.created per order, none for the replays.
    let emitted = app.read_events(&events, 3).await;
    let mut keys: Vec<String> = emitted.iter().map(|e| e.correlation_id.clone()).collect();
    keys.sort();
    let mut expected: Vec<String> = ids.iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    expected.sort();
    assert_eq!(keys, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operational_endpoints_answer() {
    let app = TestApp::spawn().await;
    let ops = Ops {
        ready: &["postgres", "kafka"],
        ..Ops::default()
    };
    assert_ops_endpoints(&app.client, ops).await;
}
