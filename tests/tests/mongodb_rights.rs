//! Inventory's MongoDB user outside its rights, against the local stack's server (SecantusDB,
//! TLS and `--auth`): the server refuses each attempt of
//! [`saga_tests::mongodb_rights::mongodb_refusals`] with the error its boundary gives.

use saga_tests::mongodb::STACK_SERVER_PLAIN;
use saga_tests::mongodb_rights::inventory_refusals;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongodb_refuses_inventory_outside_its_database_and_without_tls_or_password() {
    let refusals = inventory_refusals(STACK_SERVER_PLAIN)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    for r in &refusals {
        eprintln!("mongodb refused inventory: {:<60} {}", r.attempt, r.error);
    }
    let tried: Vec<&str> = refusals.iter().map(|r| r.attempt.as_str()).collect();
    for attempt in [
        "insert into database",
        "drop database",
        "createUser in its own database",
        "its credentials over plaintext TCP",
        "with no credentials",
        "a wrong password",
    ] {
        assert!(
            tried.iter().any(|t| t.contains(attempt)),
            "{attempt} not tried: {tried:?}"
        );
    }
}
