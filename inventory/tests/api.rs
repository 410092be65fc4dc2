//! The HTTP API (SPEC §4) against the running service on PostgreSQL and the broker: every
//! success, every error code, and the events an HTTP change emits.

mod common;

use common::TestApp;
use futures::future::join_all;
use rdkafka::Message;
use saga_contracts::{Envelope, EventPayload, EventType};
use saga_kit::testing::{assert_error, assert_ops_endpoints, Ops};
use serde_json::{json, Value};
use uuid::Uuid;

fn reserve_body(order_id: Uuid, items: &[(&str, u32)]) -> Value {
    json!({
        "order_id": order_id,
        "items": items.iter().map(|(s, q)| json!({"sku": s, "quantity": q})).collect::<Vec<_>>(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_reading_and_restocking_a_product() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_stock(
            json!({"sku": "W-1", "name": " Widget ", "price": 12.5, "quantity": 10,
                   "low_stock_threshold": 3}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body,
        json!({"sku": "W-1", "name": "Widget", "price": "12.50", "available": 10,
               "reserved": 0, "sold": 0, "low_stock_threshold": 3})
    );
    assert_eq!(app.stock("W-1").await, body);

    let (status, restocked) = app
        .post("/stock/W-1/restock", &json!({"quantity": 5}))
        .await;
    assert_eq!(status, 200, "{restocked}");
    assert_eq!(restocked["available"], 15);
    assert_eq!(app.stock("W-1").await, restocked);

    // Both changes reach the topic, keyed by SKU, with the full numbers.
    // Once the service has settled, the topic up to its end is all it emitted.
    let consumer = app.reader(&[EventType::StockUpdated]);
    let messages = app.read_settled(&consumer).await;
    assert_eq!(messages.len(), 2);
    let available: Vec<u64> = messages
        .iter()
        .map(|m| {
            assert_eq!(m.key(), Some(&b"W-1"[..]));
            match Envelope::decode(m.payload().unwrap()).unwrap().payload {
                EventPayload::StockUpdated(u) => u.available,
                other => panic!("{other:?}"),
            }
        })
        .collect();
    assert_eq!(available, [10, 15]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_products_get_the_documented_errors() {
    let app = TestApp::spawn().await;
    app.create("TAKEN", 1, 0).await;
    let good = json!({"sku": "S-1", "name": "N", "price": "1.00", "quantity": 1,
                      "low_stock_threshold": 0});
    let with = |field: &str, value: Value| {
        let mut b = good.clone();
        b[field] = value;
        b
    };
    let cases = [
        (with("sku", json!("TAKEN")), 409, "sku_exists"),
        (with("sku", json!("")), 422, "invalid_sku"),
        (with("sku", json!("a b")), 422, "invalid_sku"),
        (with("sku", json!("x".repeat(65))), 422, "invalid_sku"),
        (with("sku", json!(7)), 422, "invalid_sku"),
        (with("name", json!("  ")), 422, "invalid_name"),
        (with("price", json!("-1")), 422, "invalid_price"),
        (with("price", json!("1.001")), 422, "invalid_price"),
        (with("price", json!("cheap")), 422, "invalid_price"),
        (with("quantity", json!(-1)), 422, "invalid_quantity"),
        (with("quantity", json!(1.5)), 422, "invalid_quantity"),
        (with("quantity", json!("3")), 422, "invalid_quantity"),
        (
            with("low_stock_threshold", json!(-2)),
            422,
            "invalid_threshold",
        ),
        (
            json!({"sku": "S-1", "name": "N", "price": "1"}),
            422,
            "invalid_request",
        ),
    ];
    for (body, status, code) in cases {
        assert_error(&app.post_stock(body.clone()).await, status, code, &body);
    }
    let (status, body) = app.post_raw("/stock", "{\"sku\": ").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("malformed_json"))
    );

    // Restock and read.
    for (path, body, status, code) in [
        (
            "/stock/NOPE/restock",
            json!({"quantity": 1}),
            404,
            "sku_not_found",
        ),
        (
            "/stock/a%20b/restock",
            json!({"quantity": 1}),
            404,
            "sku_not_found",
        ),
        (
            "/stock/TAKEN/restock",
            json!({"quantity": 0}),
            422,
            "invalid_quantity",
        ),
        (
            "/stock/TAKEN/restock",
            json!({"quantity": -3}),
            422,
            "invalid_quantity",
        ),
        ("/stock/TAKEN/restock", json!({}), 422, "invalid_request"),
    ] {
        assert_error(&app.post(path, &body).await, status, code, path);
    }
    for path in ["/stock/NOPE", "/stock/a%20b"] {
        let (status, body) = app.get(path).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("sku_not_found"))
        );
    }
    assert_eq!(app.stock("TAKEN").await["available"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_reservations_answer_as_documented() {
    let app = TestApp::spawn().await;
    app.create("A", 5, 0).await;
    app.create("B", 1, 0).await;

    let order = Uuid::now_v7();
    let body = reserve_body(order, &[("B", 1), ("A", 2), ("A", 1)]);
    let (status, first) = app.reserve(body.clone()).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        first,
        json!({"order_id": order, "status": "RESERVED",
               "items": [{"sku": "A", "quantity": 3}, {"sku": "B", "quantity": 1}]})
    );
    let (status, again) = app.reserve(body).await;
    assert_eq!((status, &again), (200, &first), "a repeat answers the same");
    assert_eq!(app.stock("A").await["available"], 2);
    assert_eq!(app.stock("A").await["reserved"], 3);

    // Short: nothing reserved, the short SKUs listed.
    let (status, short) = app
        .reserve(reserve_body(Uuid::now_v7(), &[("A", 2), ("B", 1)]))
        .await;
    assert_eq!(status, 409, "{short}");
    assert_eq!(short["error"]["code"], "insufficient_stock");
    assert_eq!(short["error"]["short_skus"], json!(["B"]));
    assert!(short["error"]["message"].as_str().unwrap().contains('B'));
    assert_eq!(app.stock("A").await["available"], 2);

    let (status, unknown) = app
        .reserve(reserve_body(Uuid::now_v7(), &[("A", 1), ("GHOST", 1)]))
        .await;
    assert_eq!(status, 422, "{unknown}");
    assert_eq!(unknown["error"]["code"], "unknown_sku");
    assert_eq!(unknown["error"]["short_skus"], json!(["GHOST"]));

    let items101: Vec<(&str, u32)> = (0..101).map(|_| ("A", 1)).collect();
    let cases = [
        (
            json!({"order_id": "nope", "items": [{"sku": "A", "quantity": 1}]}),
            "invalid_order_id",
        ),
        (reserve_body(Uuid::now_v7(), &[]), "invalid_items"),
        (reserve_body(Uuid::now_v7(), &items101), "too_many_items"),
        (
            reserve_body(Uuid::now_v7(), &[("A", 0)]),
            "invalid_quantity",
        ),
        (
            json!({"order_id": Uuid::now_v7(), "items": [{"sku": "A", "quantity": -1}]}),
            "invalid_quantity",
        ),
        (
            json!({"order_id": Uuid::now_v7(), "items": [{"sku": "A", "quantity": 1.5}]}),
            "invalid_quantity",
        ),
        (
            reserve_body(Uuid::now_v7(), &[("bad sku", 1)]),
            "invalid_sku",
        ),
        (json!({"order_id": Uuid::now_v7()}), "invalid_request"),
    ];
    for (body, code) in cases {
        assert_error(&app.reserve(body.clone()).await, 422, code, &body);
    }
    assert_eq!(
        app.stock("A").await["reserved"],
        3,
        "no error reserved anything"
    );

    // The manual reservation's events, as the saga's.
    // Once the service has settled, the topics up to their end are all it emitted.
    let consumer = app.reader(&[EventType::StockReserved, EventType::StockRejected]);
    let messages = app.read_settled(&consumer).await;
    let mut kinds: Vec<String> = messages
        .iter()
        .map(|m| {
            let e = Envelope::decode(m.payload().unwrap()).unwrap();
            assert_eq!(m.key().unwrap(), e.key().as_bytes());
            e.event_type().to_string()
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["stock.rejected", "stock.rejected", "stock.reserved"]
    );
}

/// SPEC §7: an order id the saga has seen, cancelled (a tombstone) or reserved, is the saga's
/// alone: reserving under it by hand is a 409 that reserves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_id_the_saga_has_seen_cannot_be_reserved_by_hand() {
    let app = TestApp::spawn().await;
    app.create("A", 5, 0).await;
    let (cancelled, reserved) = (Uuid::now_v7(), Uuid::now_v7());
    common::deliver(app.store.as_ref(), &common::order_cancelled(cancelled)).await;
    common::deliver(
        app.store.as_ref(),
        &common::order_created(reserved, &[("A", 2)]),
    )
    .await;
    for order in [cancelled, reserved] {
        let (status, body) = app.reserve(reserve_body(order, &[("A", 1)])).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (409, Some("order_belongs_to_saga")),
            "{body}"
        );
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(&order.to_string()), "{body}");
    }
    let stock = app.stock("A").await;
    assert_eq!(
        (&stock["available"], &stock["reserved"]),
        (&json!(3), &json!(2))
    );
}

/// A reservation made by hand is given back by hand, once (SPEC §5.2: `reserved` returns to
/// 0); the saga's reservations are not the caller's to release.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_reservation_is_released_by_hand_and_a_saga_one_is_not() {
    let app = TestApp::spawn().await;
    app.create("R", 5, 0).await;
    let manual = Uuid::now_v7();
    let (status, body) = app.reserve(reserve_body(manual, &[("R", 3)])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.stock("R").await["reserved"], 3);

    for _ in 0..2 {
        let (status, body) = app.delete(&format!("/stock/reserve/{manual}")).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("RELEASED")),
            "{body}"
        );
        let stock = app.stock("R").await;
        assert_eq!(
            (&stock["available"], &stock["reserved"]),
            (&json!(5), &json!(0))
        );
    }
    let released: Vec<Envelope> = app
        .emitted()
        .await
        .into_iter()
        .filter(|e| e.event_type() == EventType::StockReleased)
        .collect();
    assert_eq!(released.len(), 1, "one stock.released for two releases");

    // The saga's reservation, and one that does not exist.
    let saga = Uuid::now_v7();
    common::deliver(
        app.store.as_ref(),
        &common::order_created(saga, &[("R", 2)]),
    )
    .await;
    let (status, body) = app.delete(&format!("/stock/reserve/{saga}")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("reservation_owned_by_saga"))
    );
    assert_eq!(app.stock("R").await["reserved"], 2);
    let (status, body) = app
        .delete(&format!("/stock/reserve/{}", Uuid::now_v7()))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("reservation_not_found"))
    );
    let (status, body) = app.delete("/stock/reserve/not-a-uuid").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_requests_for_the_last_ten_units_reserve_exactly_ten() {
    let app = TestApp::spawn().await;
    app.create("LAST", 10, 0).await;
    let requests = (0..50).map(|_| app.reserve(reserve_body(Uuid::now_v7(), &[("LAST", 1)])));
    let answers = join_all(requests).await;
    let ok = answers.iter().filter(|(s, _)| *s == 200).count();
    let short = answers
        .iter()
        .filter(|(s, b)| *s == 409 && b["error"]["code"] == "insufficient_stock")
        .count();
    assert_eq!((ok, short), (10, 40), "{answers:?}");
    let stock = app.stock("LAST").await;
    assert_eq!(
        (&stock["available"], &stock["reserved"]),
        (&json!(0), &json!(10))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operational_endpoints_answer() {
    let app = TestApp::spawn().await;
    app.create("M", 1, 0).await;
    let ops = Ops {
        ready: &["postgres", "kafka"],
        ..Ops::default()
    };
    assert_ops_endpoints(&app.client, ops).await;
    let (status, body) = app.get("/nowhere").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}

/// SPEC §7: no token is 401; products, stock and manual reservations are the operator's (403
/// for a customer, whatever it sends); a customer reads a product.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_operation_needs_a_token_and_only_reading_a_product_is_a_customers() {
    use reqwest::Method;
    use saga_kit::testing::{assert_closed, assert_forbidden, Account};

    let app = TestApp::spawn().await;
    let product = json!({"sku": "A-1", "name": "A", "price": "1.00", "quantity": 5});
    let (status, created) = app.post_stock(product.clone()).await;
    assert_eq!(status, 201, "{created}");
    let order = Uuid::now_v7();
    let release = format!("/stock/reserve/{order}");
    let calls = [
        (
            Method::POST,
            "/stock",
            Some(json!({"sku": "B-1", "name": "B", "price": "1.00", "quantity": 5})),
        ),
        (
            Method::POST,
            "/stock/A-1/restock",
            Some(json!({"quantity": 5})),
        ),
        (
            Method::POST,
            "/stock/reserve",
            Some(reserve_body(order, &[("A-1", 1)])),
        ),
        (Method::DELETE, &release, None),
    ];
    assert_closed(&app, &calls).await;
    assert_closed(&app, &[(Method::GET, "/stock/A-1", None)]).await;
    for customer in [Account::Alice, Account::Bob] {
        assert_forbidden(&app, customer, &calls).await;
        assert_forbidden(
            &app,
            customer,
            &[(Method::POST, "/stock/A-1/restock", Some(json!({})))],
        )
        .await;
    }
    // Nothing a refused request asked for happened.
    let (status, read) = app.as_account(Account::Alice).get("/stock/A-1").await;
    assert_eq!(
        (status, &read),
        (200, &created),
        "a customer reads a product, unchanged"
    );
    assert_error(
        &app.as_account(Account::Bob).get("/stock/B-1").await,
        404,
        "sku_not_found",
        "B-1 was never created",
    );
}
