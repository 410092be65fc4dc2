//! Who may do what on the orders service (SPEC §7), with real tokens of the stack's Keycloak:
//! every closed operation of the document refuses a request without a token (401 with a
//! `WWW-Authenticate` challenge), and a customer on an operator's operation (403); a customer
//! places, reads and lists its own orders only; an operator does all of it for anyone. The
//! feed's own door (its token or ticket) is in `console.rs`.

mod common;

use common::*;
use reqwest::Method;
use saga_contracts::events::CustomerCreated;
use saga_contracts::Envelope;
use saga_kit::testing::{Account, TestClient};
use serde_json::{json, Value};
use uuid::Uuid;

/// Announces customer `id`, as the customer service would.
async fn announce(app: &TestApp, id: Uuid) {
    let created = Envelope::new(
        "customer",
        CustomerCreated {
            customer_id: id,
            name: "Dev".into(),
            email: format!("{id}@example.com"),
            credit_limit: "1000.00".parse().unwrap(),
        },
    );
    app.publish(&created).await;
}

/// An order of one `sku` for `customer`.
fn order_for(customer: Uuid, sku: &str) -> Value {
    json!({"customer_id": customer, "items": [{"sku": sku, "quantity": 1}]})
}

/// `client` POSTs `body` to `/orders`.
async fn place(client: &TestClient, body: &Value) -> (u16, Value) {
    client.post("/orders", body).await
}

/// The ids of a listing.
fn ids(list: &Value) -> Vec<Uuid> {
    list.as_array()
        .unwrap_or_else(|| panic!("a listing: {list}"))
        .iter()
        .map(order_id_of)
        .collect()
}

/// Every operation the document says needs a token: its method, its path with `{…}` filled
/// with a fresh UUID, and the roles (or, for the feed's ticket scheme, none) it names.
async fn closed_operations(app: &TestApp) -> Vec<(Method, String, Vec<String>)> {
    let (status, doc) = app.anonymous().get("/openapi.json").await;
    assert_eq!(status, 200);
    let mut closed = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(security) = operation["security"].as_array() else {
                continue;
            };
            let roles = security
                .iter()
                .find_map(|r| r.get("bearer"))
                .map(|roles| {
                    roles
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r.as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            let filled = path
                .split('/')
                .map(|part| {
                    if part.starts_with('{') {
                        Uuid::now_v7().to_string()
                    } else {
                        part.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            closed.push((method.to_uppercase().parse().unwrap(), filled, roles));
        }
    }
    closed
}

/// Without a token, every closed operation is 401 `unauthorized` with the challenge, before
/// anything else about the request is looked at; with a customer's token, every operation
/// only an operator may call is 403 `forbidden`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_closed_operation_refuses_no_token_and_a_customer_where_only_an_operator_may() {
    let app = TestApp::spawn().await;
    let closed = closed_operations(&app).await;
    let documented: Vec<String> = closed.iter().map(|(m, p, _)| format!("{m} {p}")).collect();
    for expected in [
        "POST /orders",
        "GET /orders",
        "GET /orders/summary",
        "GET /orders/stream",
        "POST /console/ticket",
        "GET /metrics",
    ] {
        assert!(
            documented.iter().any(|d| d == expected),
            "{expected} is not documented as closed: {documented:?}"
        );
    }
    for (method, path, roles) in &closed {
        let what = format!("{method} {path}");
        // A body that would be a valid order: the refusal must not depend on it.
        let body = order_for(Account::Alice.id(), "ANY").to_string();
        let response = app
            .anonymous()
            .request(method.clone(), path)
            .await
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{what}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert_eq!(challenge, "Bearer realm=\"saga\"", "{what}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "unauthorized", "{what}: {error}");

        if roles.iter().any(|r| r == "customer") {
            continue;
        }
        let as_alice = app.as_account(Account::Alice);
        let request = as_alice.request(method.clone(), path).await;
        let (status, error) = TestClient::send(
            request
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
        assert_eq!(status, 403, "{what} as a customer: {error}");
        assert_eq!(error["error"]["code"], "forbidden", "{what}");
    }
}

/// A customer places orders for itself only; an operator for anyone. The refusal comes before
/// the order is looked at, so it says nothing about the other customer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_places_orders_for_itself_only() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (Account::Alice.id(), Account::Bob.id());
    let sku = unique_sku();
    announce(&app, alice).await;
    app.publish(&stock_updated(&sku, "4.00")).await;
    let as_alice = app.as_account(Account::Alice);
    let as_bob = app.as_account(Account::Bob);

    let own = wait_placed(&as_alice, &order_for(alice, &sku)).await;
    assert_eq!(own["customer_id"], alice.to_string());
    assert_eq!(own["status"], "PENDING");

    for (who, client, body) in [
        ("alice for bob", &as_alice, order_for(bob, &sku)),
        ("bob for alice", &as_bob, order_for(alice, &sku)),
        (
            "alice for nobody known",
            &as_alice,
            order_for(Uuid::now_v7(), &sku),
        ),
        (
            "alice with an id that is not one",
            &as_alice,
            json!({"customer_id": "alice", "items": [{"sku": sku, "quantity": 1}]}),
        ),
        (
            "alice for bob, an invalid order",
            &as_alice,
            json!({"customer_id": bob, "items": []}),
        ),
    ] {
        let (status, error) = place(client, &body).await;
        assert_eq!(status, 403, "{who}: {error}");
        assert_eq!(error["error"]["code"], "forbidden", "{who}");
    }
    // An invalid order of one's own is still the order's 422.
    let (status, error) = place(&as_alice, &json!({"customer_id": alice, "items": []})).await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (422, &json!("empty_order"))
    );

    let (status, for_alice) = place(&app, &order_for(alice, &sku)).await;
    assert_eq!(
        status, 202,
        "the operator places alice's order: {for_alice}"
    );
    assert_eq!(for_alice["customer_id"], alice.to_string());
}

/// POSTs `body` as `client` until the replicas know its customer and SKU.
async fn wait_placed(client: &TestClient, body: &Value) -> Value {
    saga_messaging::testing::wait_for("the replicas to take the order", PATIENCE, || async {
        let (status, order) = place(client, body).await;
        match status {
            202 => Some(order),
            422 => None,
            other => panic!("unexpected {other}: {order}"),
        }
    })
    .await
}

/// A customer reads its own orders only: another customer's order is 403, a missing one 404;
/// `GET /orders` gives it its own, with or without naming itself, and 403 for another
/// customer's; an operator reads and lists anyone's, and everyone's without `customer_id`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_reads_and_lists_its_own_orders_only() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (Account::Alice.id(), Account::Bob.id());
    let sku = unique_sku();
    announce(&app, alice).await;
    announce(&app, bob).await;
    app.publish(&stock_updated(&sku, "1.00")).await;
    let as_alice = app.as_account(Account::Alice);
    let as_bob = app.as_account(Account::Bob);

    let first = wait_placed(&as_alice, &order_for(alice, &sku)).await;
    let (_, second) = place(&as_alice, &order_for(alice, &sku)).await;
    let bobs = wait_placed(&as_bob, &order_for(bob, &sku)).await;
    let (alices_first, alices_second, bobs) = (
        order_id_of(&first),
        order_id_of(&second),
        order_id_of(&bobs),
    );

    // One order: one's own, or an operator's reading.
    let (status, read) = as_alice.get(&format!("/orders/{alices_first}")).await;
    assert_eq!((status, &read), (200, &first));
    let (status, error) = as_alice.get(&format!("/orders/{bobs}")).await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (403, &json!("forbidden"))
    );
    let (status, error) = as_bob.get(&format!("/orders/{alices_first}")).await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (403, &json!("forbidden"))
    );
    let (status, error) = as_alice.get(&format!("/orders/{}", Uuid::now_v7())).await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (404, &json!("order_not_found"))
    );
    let (status, _) = app.get(&format!("/orders/{bobs}")).await;
    assert_eq!(status, 200, "the operator reads bob's order");

    // Listings: a customer's are its own, whatever it asks.
    let named = format!("?customer_id={alice}");
    for query in ["", "?limit=500", named.as_str()] {
        let (status, list) = as_alice.get(&format!("/orders{query}")).await;
        assert_eq!(status, 200, "{query}: {list}");
        assert_eq!(
            ids(&list),
            [alices_second, alices_first],
            "alice, {query:?}"
        );
    }
    let (status, list) = as_bob.get("/orders").await;
    assert_eq!((status, ids(&list)), (200, vec![bobs]));
    for (client, other) in [(&as_alice, bob), (&as_bob, alice)] {
        let (status, error) = client.get(&format!("/orders?customer_id={other}")).await;
        assert_eq!(
            (status, &error["error"]["code"]),
            (403, &json!("forbidden"))
        );
    }

    // The operator: everyone's without customer_id (today's listing), anyone's with it.
    let (status, all) = app.get("/orders").await;
    assert_eq!(status, 200);
    assert_eq!(ids(&all), [bobs, alices_second, alices_first]);
    let (_, alices) = app.get(&format!("/orders?customer_id={alice}")).await;
    assert_eq!(ids(&alices), [alices_second, alices_first]);
}

/// The counts are of everyone's orders: the operator's. The console's page, its assets and its
/// configuration load without a token; what they show does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_summary_is_the_operators_and_the_console_page_is_public() {
    let app = TestApp::spawn().await;
    let (status, summary) = app.get("/orders/summary").await;
    assert_eq!(status, 200, "{summary}");
    let (status, error) = app.as_account(Account::Bob).get("/orders/summary").await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (403, &json!("forbidden"))
    );
    for path in [
        "/console",
        "/console/console.js",
        "/console/console.css",
        "/console/config.json",
    ] {
        let response = app
            .anonymous()
            .request(Method::GET, path)
            .await
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
}
