//! The customer service's HTTP API and its event, against real PostgreSQL and the broker.

mod common;

use common::spawn_app;
use rdkafka::Message;
use saga_contracts::services::CUSTOMER;
use saga_contracts::{Envelope, EventPayload, EventType};
use saga_kit::testing::{assert_error, assert_ops_endpoints, Ops};
use serde_json::{json, Value};

fn ada(email: &str) -> Value {
    json!({ "name": "Ada Lovelace", "email": email, "credit_limit": "500.5" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_a_customer_returns_it_and_emits_customer_created() {
    let app = spawn_app().await;
    let (status, body) = app.post_customer(&ada("Ada@Example.com")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["name"], "Ada Lovelace");
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(body["credit_limit"], "500.50");
    let id = body["id"].as_str().unwrap().to_owned();
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));

    let (status, fetched) = app.get_customer(&id).await;
    assert_eq!(status, 200);
    assert_eq!(fetched, body);

    // Once the service's outbox is sent, the topic up to its end is all it emitted.
    let consumer = app.reader(&[EventType::CustomerCreated]);
    let messages = app.read_settled(&CUSTOMER, &consumer).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].key(), Some(id.as_bytes()));
    let event = Envelope::decode(messages[0].payload().unwrap()).unwrap();
    assert_eq!(event.producer, "customer");
    assert_eq!(event.correlation_id, id);
    let EventPayload::CustomerCreated(c) = event.payload else {
        panic!("wrong payload")
    };
    assert_eq!(c.customer_id.to_string(), id);
    assert_eq!(c.email, "ada@example.com");
    assert_eq!(c.credit_limit.to_string(), "500.50");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_email_is_a_conflict_whatever_its_case_and_however_many_race() {
    let app = spawn_app().await;
    let mut requests = Vec::new();
    for i in 0..10 {
        let email = if i % 2 == 0 {
            "race@example.com"
        } else {
            "RACE@example.com"
        };
        let body = ada(email);
        let client = app.client.clone();
        requests.push(tokio::spawn(async move {
            client.post("/customers", &body).await
        }));
    }
    let mut created = 0;
    for r in requests {
        let (status, body) = r.await.unwrap();
        match status {
            201 => created += 1,
            409 => assert_eq!(body["error"]["code"], "email_taken"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_input_gets_the_documented_errors() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"name": "  ", "email": "a@b.co", "credit_limit": "1"}),
            422,
            "invalid_name",
        ),
        (
            json!({"name": "A", "email": "not-an-email", "credit_limit": "1"}),
            422,
            "invalid_email",
        ),
        (
            json!({"name": "A", "email": "a@b.co", "credit_limit": "-1"}),
            422,
            "invalid_credit_limit",
        ),
        (
            json!({"name": "A", "email": "a@b.co", "credit_limit": -1}),
            422,
            "invalid_credit_limit",
        ),
        (
            json!({"name": "A", "email": "a@b.co", "credit_limit": "1.001"}),
            422,
            "invalid_credit_limit",
        ),
        (
            json!({"name": "A", "email": "a@b.co", "credit_limit": "lots"}),
            422,
            "invalid_credit_limit",
        ),
        (
            json!({"name": "A", "email": "a@b.co"}),
            422,
            "invalid_request",
        ),
        (
            json!({"name": 5, "email": "a@b.co", "credit_limit": "1"}),
            422,
            "invalid_request",
        ),
    ];
    for (body, status, code) in cases {
        assert_error(&app.post_customer(&body).await, status, code, &body);
    }

    let (status, body) = app.post_customer_raw("{\"name\": \"A\",").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "malformed_json");

    let huge = json!({"name": "x".repeat(200_000), "email": "a@b.co", "credit_limit": "1"});
    let (status, _) = app.post_customer_raw(huge.to_string()).await;
    assert_eq!(status, 413);

    for path in [
        "/customers/00000000-0000-0000-0000-000000000000",
        "/customers/nope",
    ] {
        let (status, body) = app.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(body["error"]["code"]
            .as_str()
            .unwrap()
            .ends_with("not_found"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operational_endpoints_answer() {
    let app = spawn_app().await;
    let ops = Ops {
        ready: &["postgres", "kafka"],
        ..Ops::default()
    };
    assert_ops_endpoints(&app.client, ops).await;
}

/// SPEC §7 for both operations: no token is 401; a customer registers only itself, with no
/// credit, and reads only itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_operation_needs_a_token_and_a_customer_acts_only_as_itself() {
    use reqwest::Method;
    use saga_kit::testing::{assert_closed, assert_forbidden, Account};

    let app = spawn_app().await;
    let alice = Account::Alice.id();
    let (status, other) = app.post_customer(&ada("other@example.com")).await;
    assert_eq!(status, 201, "{other}");
    let other_id = other["id"].as_str().unwrap().to_owned();

    let other_path = format!("/customers/{other_id}");
    assert_closed(
        &app,
        &[
            (Method::POST, "/customers", Some(ada("anon@example.com"))),
            (Method::GET, &other_path, None),
        ],
    )
    .await;

    // Alice registers herself: the id is her token's subject, and credit is the operator's.
    let as_alice = app.as_account(Account::Alice);
    let with_credit =
        json!({ "name": "Alice", "email": "alice@example.com", "credit_limit": "10.00" });
    assert_forbidden(
        &app,
        Account::Alice,
        &[(Method::POST, "/customers", Some(with_credit))],
    )
    .await;
    let herself = json!({ "name": "Alice", "email": "alice@example.com", "credit_limit": "0.00" });
    let (status, created) = as_alice.post("/customers", &herself).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["id"], alice.to_string());
    assert_eq!(created["credit_limit"], "0.00");
    let again = json!({ "name": "Alice", "email": "alice2@example.com", "credit_limit": "0.00" });
    assert_error(
        &as_alice.post("/customers", &again).await,
        409,
        "customer_exists",
        "a second time",
    );

    // She reads herself, and nobody else, whether or not they exist.
    let (status, read) = as_alice.get(&format!("/customers/{alice}")).await;
    assert_eq!((status, &read), (200, &created));
    let missing = format!("/customers/{}", uuid::Uuid::now_v7());
    assert_forbidden(
        &app,
        Account::Alice,
        &[
            (Method::GET, &other_path, None),
            (Method::GET, &missing, None),
        ],
    )
    .await;
    assert_forbidden(
        &app,
        Account::Bob,
        &[(Method::GET, &format!("/customers/{alice}"), None)],
    )
    .await;
    // The operator reads anyone.
    assert_eq!(app.get_customer(&alice.to_string()).await.0, 200);
}
