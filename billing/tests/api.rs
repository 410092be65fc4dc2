//! Billing's HTTP API against real PostgreSQL and the broker: deposits, the account
//! statement, every documented error, and the operational endpoints.

mod common;

use common::TestApp;
use saga_kit::testing::{assert_error, assert_ops_endpoints, Ops};
use serde_json::{json, Value};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_opened_by_customer_created_takes_deposits_atomically() {
    let app = TestApp::spawn().await;
    let customer = app.open_account("100").await;
    let account = app.account(customer).await;
    assert_eq!(
        account,
        json!({
            "customer_id": customer.to_string(),
            "balance": "100.00",
            "credit_limit": "100.00",
            "deposits": "0.00",
            "payments": [],
        })
    );

    let (status, body) = app
        .post_deposit(&json!({ "customer_id": customer, "amount": "25.5" }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({ "customer_id": customer.to_string(), "balance": "125.50" })
    );
    let (status, body) = app
        .post_deposit(&json!({ "customer_id": customer, "amount": 4 }))
        .await;
    assert_eq!((status, &body["balance"]), (200, &json!("129.50")));

    // Twenty deposits at once: none lost to a read-modify-write race.
    let deposits = (0..20).map(|_| {
        let client = app.client.clone();
        async move {
            client
                .post_request("/billing")
                .await
                .json(&json!({ "customer_id": customer, "amount": "1.25" }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures::future::join_all(deposits).await;
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");

    let account = app.account(customer).await;
    assert_eq!(account["balance"], "154.50");
    assert_eq!(account["credit_limit"], "100.00");
    assert_eq!(account["deposits"], "54.50");
    app.assert_invariants().await;
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_requests_get_the_documented_errors() {
    let app = TestApp::spawn().await;
    let customer = app.open_account("10").await;

    let unknown = Uuid::now_v7();
    let deposit = json!({ "customer_id": unknown, "amount": "5" });
    assert_error(
        &app.post_deposit(&deposit).await,
        404,
        "account_not_found",
        &deposit,
    );

    let cases = [
        (
            json!({ "customer_id": customer, "amount": "0" }),
            "invalid_amount",
        ),
        (
            json!({ "customer_id": customer, "amount": 0 }),
            "invalid_amount",
        ),
        (
            json!({ "customer_id": customer, "amount": "0.00" }),
            "invalid_amount",
        ),
        (
            json!({ "customer_id": customer, "amount": "-5" }),
            "invalid_amount",
        ),
        (
            json!({ "customer_id": customer, "amount": -5 }),
            "invalid_amount",
        ),
        (
            json!({ "customer_id": customer, "amount": "1.001" }),
            "invalid_amount",
        ),
        (
            json!({ "customer_id": customer, "amount": "lots" }),
            "invalid_amount",
        ),
        (
            json!({ "customer_id": customer, "amount": null }),
            "invalid_amount",
        ),
        (
            json!({ "customer_id": customer, "amount": "1000000000.01" }),
            "invalid_amount",
        ),
        (
            json!({ "customer_id": "nope", "amount": "5" }),
            "invalid_customer_id",
        ),
        (
            json!({ "customer_id": 7, "amount": "5" }),
            "invalid_customer_id",
        ),
        (json!({ "customer_id": customer }), "invalid_request"),
        (json!({ "amount": "5" }), "invalid_request"),
        (json!("a string"), "invalid_request"),
    ];
    for (request, expected) in cases {
        assert_error(&app.post_deposit(&request).await, 422, expected, &request);
    }

    let (status, body) = app.post_deposit_raw("{\"customer_id\": ").await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "malformed_json");

    let huge = json!({ "customer_id": customer, "amount": "1", "memo": "x".repeat(200_000) });
    let (status, body) = app.post_deposit_raw(huge.to_string()).await;
    assert_eq!(status, 413);
    assert_eq!(code(&body), "payload_too_large");

    // None of the rejected deposits touched the account.
    assert_eq!(app.balance(customer).await, "10.00");

    // An account as full as it can be refuses a deposit instead of failing or wrapping.
    sqlx::query("UPDATE accounts SET balance = 999999999999.00 WHERE customer_id = $1")
        .bind(customer)
        .execute(&app.store)
        .await
        .unwrap();
    let (status, body) = app
        .post_deposit(&json!({ "customer_id": customer, "amount": "1000" }))
        .await;
    assert_eq!(
        (status, code(&body)),
        (422, "balance_limit_exceeded"),
        "{body}"
    );
    assert_eq!(app.balance(customer).await, "999999999999.00");

    let (status, body) = app.get(&format!("/billing/{unknown}")).await;
    assert_eq!((status, code(&body)), (404, "account_not_found"));
    let (status, body) = app.get("/billing/not-a-uuid").await;
    assert_eq!((status, code(&body)), (404, "not_found"));
    // A path the service has, asked with a method it does not serve there.
    let (status, body) = app.get("/billing").await;
    assert_eq!((status, code(&body)), (405, "method_not_allowed"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operational_endpoints_answer() {
    let app = TestApp::spawn().await;
    app.get("/billing/00000000-0000-0000-0000-000000000000")
        .await;
    let ops = Ops {
        ready: &["postgres", "kafka"],
        ..Ops::default()
    };
    assert_ops_endpoints(&app.client, ops).await;
}

/// SPEC §7: no token is 401; only an operator deposits; a customer reads its own statement and
/// no other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_operation_needs_a_token_deposits_are_the_operators_and_statements_their_owners() {
    use reqwest::Method;
    use saga_kit::testing::{assert_closed, assert_forbidden, Account};

    let app = TestApp::spawn().await;
    let alice = Account::Alice.id();
    app.publish(&common::customer_created_for(alice, "0")).await;
    app.wait_account(alice).await;
    let other = app.open_account("50").await;

    let deposit = |customer: Uuid| json!({ "customer_id": customer, "amount": "10.00" });
    let alice_path = format!("/billing/{alice}");
    let other_path = format!("/billing/{other}");
    assert_closed(
        &app,
        &[
            (Method::POST, "/billing", Some(deposit(alice))),
            (Method::GET, &alice_path, None),
        ],
    )
    .await;
    // Money is the operator's: not even into her own account, and not with a body that would
    // fail anyway.
    assert_forbidden(
        &app,
        Account::Alice,
        &[
            (Method::POST, "/billing", Some(deposit(alice))),
            (Method::POST, "/billing", Some(json!({ "amount": "x" }))),
            (Method::GET, &other_path, None),
        ],
    )
    .await;
    assert_forbidden(&app, Account::Bob, &[(Method::GET, &alice_path, None)]).await;
    assert_eq!(app.balance(alice).await, "0.00", "no deposit got through");

    let (status, statement) = app.as_account(Account::Alice).get(&alice_path).await;
    assert_eq!(status, 200, "{statement}");
    assert_eq!(statement["customer_id"], alice.to_string());
    assert_eq!(
        app.post_deposit(&deposit(alice)).await.0,
        200,
        "the operator deposits"
    );
    assert_eq!(app.balance(alice).await, "10.00");
}
