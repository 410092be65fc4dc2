//! The HTTP API: manual notifications, listing with its limit, every documented error, and
//! the operational endpoints.

mod common;

use common::{TestApp, WAIT};
use saga_kit::testing::{assert_error, assert_ops_endpoints, Ops};
use serde_json::json;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_notification_is_accepted_listed_newest_first_and_delivered() {
    let app = TestApp::spawn().await;
    let customer = Uuid::now_v7();
    let mut ids = Vec::new();
    for i in 1..=3 {
        let (status, body) = app
            .post_notify(json!({"customer_id": customer, "subject": format!(" Note {i} "), "body": "Hello\nthere"}),
            )
            .await;
        assert_eq!(status, 202, "{body}");
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    let list = app.wait_delivered(customer, 3).await;
    let listed: Vec<&str> = list.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(listed, vec![&*ids[2], &*ids[1], &*ids[0]]);
    let newest = &list[0];
    assert_eq!(newest["kind"], "manual");
    assert_eq!(newest["subject"], "Note 3");
    assert_eq!(newest["body"], "Hello\nthere");
    assert_eq!(newest["customer_id"], customer.to_string());
    assert!(newest["order_id"].is_null());
    assert!(newest["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(newest["sent_at"].as_str().unwrap() >= newest["created_at"].as_str().unwrap());

    let deliveries = app.recorder.deliveries();
    assert_eq!(deliveries.len(), 3);
    assert!(deliveries.iter().all(|d| d.1 == "manual" && d.2.is_none()));

    let (status, two) = app
        .get(&format!("/notifications?customer_id={customer}&limit=2"))
        .await;
    assert_eq!(status, 200);
    let two: Vec<&str> = two
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(two, vec![&*ids[2], &*ids[1]]);

    // Another customer's list is theirs alone; an unknown customer has none.
    let (status, none) = app
        .get(&format!("/notifications?customer_id={}", Uuid::now_v7()))
        .await;
    assert_eq!((status, none), (200, json!([])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_requests_get_the_documented_errors_and_operational_endpoints_answer() {
    let app = TestApp::spawn().await;
    operational_endpoints_answer(&app).await;
    let customer = Uuid::now_v7().to_string();
    let cases = [
        (
            json!({"customer_id": "nope", "subject": "s", "body": "b"}),
            422,
            "invalid_customer_id",
        ),
        (
            json!({"customer_id": customer, "subject": "  ", "body": "b"}),
            422,
            "invalid_subject",
        ),
        (
            json!({"customer_id": customer, "subject": "s", "body": ""}),
            422,
            "invalid_body",
        ),
        (
            json!({"customer_id": customer, "subject": "a\nb", "body": "b"}),
            422,
            "invalid_subject",
        ),
        (
            json!({"customer_id": customer, "subject": "s"}),
            422,
            "invalid_request",
        ),
        (
            json!({"customer_id": 7, "subject": "s", "body": "b"}),
            422,
            "invalid_request",
        ),
    ];
    for (body, status, code) in cases {
        assert_error(&app.post_notify(body.clone()).await, status, code, &body);
    }

    // Cut-off JSON is malformed (400) even where its first token is of the wrong type for
    // the request (which alone would be 422); whole JSON of the wrong shape is 422.
    for (body, status, code) in [
        ("{\"customer_id\": ", 400, "malformed_json"),
        ("[1,2", 400, "malformed_json"),
        ("[1,2]", 422, "invalid_request"),
        ("\"a", 400, "malformed_json"),
    ] {
        let (got, resp) = app.post_raw("/notify", body).await;
        assert_eq!(
            (got, &resp["error"]["code"]),
            (status, &json!(code)),
            "{body}"
        );
    }

    let huge = json!({"customer_id": customer, "subject": "s", "body": "x".repeat(200_000)});
    let (status, resp) = app.post_raw("/notify", huge.to_string()).await;
    assert_eq!(
        (status, &resp["error"]["code"]),
        (413, &json!("payload_too_large"))
    );

    for (query, code) in [
        (String::new(), "invalid_customer_id"),
        ("?customer_id=42".to_owned(), "invalid_customer_id"),
        (format!("?customer_id={customer}&limit=0"), "invalid_limit"),
        (
            format!("?customer_id={customer}&limit=501"),
            "invalid_limit",
        ),
        (
            format!("?customer_id={customer}&limit=many"),
            "invalid_limit",
        ),
        (
            format!("?customer_id={customer}&kind=welcome"),
            "invalid_query",
        ),
    ] {
        let (status, resp) = app.get(&format!("/notifications{query}")).await;
        assert_eq!(
            (status, resp["error"]["code"].as_str().unwrap_or_default()),
            (422, code),
            "{query}: {resp}"
        );
    }

    let (status, resp) = app.get("/nowhere").await;
    assert_eq!((status, &resp["error"]["code"]), (404, &json!("not_found")));
    // Nothing was stored by any of the rejected requests.
    assert!(app
        .notifications(customer.parse().unwrap())
        .await
        .is_empty());
}

/// Part of the test above, to spare the broker one more service start.
async fn operational_endpoints_answer(app: &TestApp) {
    let ops = Ops {
        ready: &["redis", "kafka"],
        // A busy broker can miss /ready's two-second probe; readiness is a condition to reach.
        ready_within: WAIT,
    };
    let (_, metrics) = assert_ops_endpoints(&app.client, ops).await;
    assert!(metrics.contains("notification_customer_not_yet_known_total"));
    let (status, empty) = app.get("/stock-alerts").await;
    assert_eq!((status, empty), (200, json!({"alerts": [], "stock": []})));
}

/// SPEC §7: no token is 401; manual notifications and stock alerts are the operator's; a
/// customer lists its own notifications (without `customer_id` too) and no other's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_operation_needs_a_token_and_a_customer_reads_only_its_own_notifications() {
    use reqwest::Method;
    use saga_kit::testing::{assert_closed, assert_forbidden, Account};

    let app = TestApp::spawn().await;
    let (alice, bob) = (Account::Alice.id(), Account::Bob.id());
    let note = |to: Uuid| json!({ "customer_id": to, "subject": "Hi", "body": "Hello" });
    let alice_list = format!("/notifications?customer_id={alice}");
    let bob_list = format!("/notifications?customer_id={bob}");
    assert_closed(
        &app,
        &[
            (Method::POST, "/notify", Some(note(alice))),
            (Method::GET, &alice_list, None),
            (Method::GET, "/stock-alerts", None),
        ],
    )
    .await;
    assert_forbidden(
        &app,
        Account::Alice,
        &[
            (Method::POST, "/notify", Some(note(alice))),
            (Method::GET, "/stock-alerts", None),
            (Method::GET, &bob_list, None),
        ],
    )
    .await;

    let (status, body) = app.post_notify(note(alice)).await;
    assert_eq!(status, 202, "{body}");
    app.wait_delivered(alice, 1).await;
    let as_alice = app.as_account(Account::Alice);
    let (status, own) = as_alice.get("/notifications").await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own.as_array().map(Vec::len), Some(1), "{own}");
    assert_eq!(own[0]["id"], body["id"]);
    assert_eq!(as_alice.get(&alice_list).await, (200, own));
    // Bob has none, and sees none of hers.
    assert_eq!(
        app.as_account(Account::Bob).get("/notifications").await,
        (200, json!([]))
    );
    // An operator names whose.
    assert_error(
        &app.get("/notifications").await,
        422,
        "invalid_customer_id",
        "no customer_id",
    );
}
