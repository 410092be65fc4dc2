//! Scenario 20: a customer runs its own saga with its own token (SPEC §7), across the five
//! services. Alice registers herself (her token's `sub` becomes her customer id, with no
//! credit), the operator stocks a product and credits her, she places an order for herself and
//! follows it to CONFIRMED, then reads her statement and notifications. Bob, another customer,
//! is refused each of these on her behalf, and every operator-only call; the scenario ends with
//! the invariant checker.

use std::time::Duration;

use rust_decimal::Decimal;

use super::actions::{money, Actor};
use super::client::{Api, ApiError, ApiResult, Identity};
use super::harness::System;

const SLACK: Duration = Duration::from_secs(20);

/// `result` is the 403 `forbidden` of SPEC §7.
fn assert_forbidden<T: std::fmt::Debug>(what: &str, result: ApiResult<T>) {
    match result {
        Err(ApiError::Status {
            status: 403, code, ..
        }) if code == "forbidden" => {}
        other => panic!("{what}: expected 403 forbidden, got {other:?}"),
    }
}

/// 20. Alice's saga, on her token alone; Bob refused on hers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s20_a_customer_runs_its_own_saga_with_its_own_token() {
    let sys = System::start().await;
    let operator = sys.actor();
    let alice_api: Api = sys.api.as_identity(Identity::Alice);
    let bob: Api = sys.api.as_identity(Identity::Bob);
    let alice_id = Identity::Alice.id();

    // Alice registers herself: her id is her token's subject, and she grants herself no credit.
    assert_forbidden(
        "alice registering herself with credit",
        alice_api
            .create_customer("Alice", "alice-e2e@example.com", money("500.00"))
            .await,
    );
    let me = alice_api
        .create_customer("Alice", "alice-e2e@example.com", Decimal::ZERO)
        .await
        .unwrap_or_else(|e| panic!("alice's POST /customers: {e}"));
    assert_eq!(me.id, alice_id, "a customer's id is its token's sub");
    assert_eq!(me.credit_limit, Decimal::ZERO);
    sys.ledger.customer(alice_id, Decimal::ZERO);

    // The operator stocks a product and credits her; a customer may do neither.
    let sku = operator.product("IDENTITY", money("20.00"), 5).await;
    operator.deposit(alice_id, money("50.00")).await;
    assert_forbidden(
        "bob creating a product",
        bob.create_product(&format!("{sku}-BOB"), money("1.00"), 1, 0)
            .await,
    );
    assert_forbidden("bob restocking", bob.restock(&sku, 1).await);
    assert_forbidden(
        "bob depositing to alice",
        bob.deposit(alice_id, money("1.00")).await,
    );
    assert_forbidden("bob reading the stock alerts", bob.stock_alerts().await);

    // Alice orders for herself, on her own token, and follows the saga to its end.
    let alice = Actor {
        api: alice_api.clone(),
        ledger: sys.ledger.clone(),
    };
    assert_forbidden(
        "bob ordering for alice",
        bob.place_order(alice_id, &[(sku.clone(), 1)], None).await,
    );
    let (placed, _) = alice.order(alice_id, &[(sku.clone(), 2)]).await;
    let order = alice.terminal(placed.id, sys.order_timeout + SLACK).await;
    assert_eq!(order.status, "CONFIRMED", "{order:#?}");

    // Her own records are hers to read; Bob sees none of them.
    let mine = alice_api
        .orders_of(alice_id)
        .await
        .unwrap_or_else(|e| panic!("alice's orders: {e}"));
    assert_eq!(
        mine.iter().map(|o| o.id).collect::<Vec<_>>(),
        [order.id],
        "alice lists her one order"
    );
    let statement = alice_api
        .account(alice_id)
        .await
        .unwrap_or_else(|e| panic!("alice's statement: {e}"));
    assert_eq!(statement.balance, money("10.00"), "50.00 less 2 × 20.00");
    let alice_api_for_wait = alice_api.clone();
    let kinds = saga_messaging::testing::wait_for(
        "alice's order_paid and order_confirmed notifications",
        SLACK,
        || {
            let api = alice_api_for_wait.clone();
            async move {
                let notes = api.notifications(alice_id).await.ok()?;
                let mut kinds: Vec<String> = notes
                    .into_iter()
                    .filter(|n| n.order_id == Some(order.id))
                    .map(|n| n.kind)
                    .collect();
                kinds.sort();
                (kinds.len() == 2).then_some(kinds)
            }
        },
    )
    .await;
    assert_eq!(kinds, ["order_confirmed", "order_paid"]);
    assert_forbidden("bob reading alice's order", bob.order(order.id).await);
    assert_forbidden("bob listing alice's orders", bob.orders_of(alice_id).await);
    assert_forbidden("bob reading alice's statement", bob.account(alice_id).await);
    assert_forbidden(
        "bob reading alice's notifications",
        bob.notifications(alice_id).await,
    );
    assert_forbidden("bob reading alice", bob.customer(alice_id).await);

    let world = sys.check(SLACK).await;
    assert_eq!(world.accounts[&alice_id].balance, money("10.00"));
}
