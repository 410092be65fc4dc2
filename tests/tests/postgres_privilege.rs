//! Each service's PostgreSQL role, with its own credentials, on the real server of
//! `TEST_DATABASE_URL` (the local stack's by default): the server refuses it another service's
//! database, any connection over TCP without TLS, `CREATE DATABASE`, `CREATE ROLE` and the
//! password verifiers in `pg_authid`; and lets it in to its own database, over TLS.
//!
//! The databases are the test kit's: owned by their service's role, `CONNECT` revoked from
//! `PUBLIC`, as `scripts/stack` makes the services' own.

use saga_messaging::postgres::connect_options;
use saga_messaging::testing::fresh_database_url;
use saga_tests::pg_refusals;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

const ROLES: [&str; 4] = ["customer", "orders", "inventory", "billing"];

/// A database of each role's own, and the options that role logs in to it with.
async fn own_databases() -> Vec<(&'static str, String, PgConnectOptions)> {
    let mut own = Vec::new();
    for role in ROLES {
        let url = fresh_database_url(role).await;
        let options = connect_options(&url).expect("the role's URL");
        let name = options.get_database().expect("a database").to_owned();
        own.push((role, name, options));
    }
    own
}

#[tokio::test]
async fn billing_may_not_reach_orders_database_nor_connect_without_tls_nor_administer() {
    let own = own_databases().await;
    let (_, orders_db, _) = own.iter().find(|(r, ..)| *r == "orders").unwrap();
    let (_, _, billing) = own.iter().find(|(r, ..)| *r == "billing").unwrap();

    let refusal = pg_refusals::other_database(billing, orders_db)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(refusal.code, "42501", "{refusal}");
    assert_eq!(
        refusal.message,
        format!("permission denied for database \"{orders_db}\""),
        "{refusal}"
    );

    let refusal = pg_refusals::plaintext(billing)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(refusal.code, "28000", "{refusal}");
    assert!(
        refusal.message.contains("pg_hba.conf rejects connection")
            && refusal.message.contains("no encryption"),
        "{refusal}"
    );

    for probe in [
        pg_refusals::create_database(billing).await,
        pg_refusals::create_role(billing).await,
        pg_refusals::read_pg_authid(billing).await,
    ] {
        let refusal = probe.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(refusal.code, "42501", "{refusal}");
        eprintln!("{refusal}");
    }
}

#[tokio::test]
async fn every_service_role_is_confined_to_its_own_database_over_tls() {
    let own = own_databases().await;
    for (role, database, options) in &own {
        // Its own database, over verified TLS, as itself.
        let mut conn = options
            .connect()
            .await
            .unwrap_or_else(|e| panic!("role {role} logging in to its own database: {e}"));
        let (user, ssl): (String, bool) = sqlx::query_as(
            "SELECT current_user::text, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!((user.as_str(), ssl), (*role, true), "{database}");
        let _ = conn.close().await;

        let others: Vec<&str> = own
            .iter()
            .filter(|(r, ..)| r != role)
            .map(|(_, d, _)| d.as_str())
            .collect();
        match pg_refusals::all(options, &others).await {
            Ok(refusals) => {
                assert_eq!(refusals.len(), others.len() + 4);
                for refusal in refusals {
                    eprintln!("{refusal}");
                }
            }
            Err(failures) => panic!("role {role}:\n{}", failures.join("\n")),
        }
    }
}
