//! `messaging::postgres::connect` against the real server, as a service's role: it does not
//! create a missing database but names it and the role; it finds the role's password when the
//! URL has none, takes the URL's when it has one, and never renders a password in its errors.

use saga_messaging::postgres::{connect, OpenError, PgSettings};
use saga_messaging::secret::LocalStack;
use saga_messaging::testing::fresh_database_url;
use secrecy::ExposeSecret;

/// `url` with the database `database`.
fn with_database(url: &str, database: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    u.set_path(database);
    u.to_string()
}

/// `url` with the password `password`.
fn with_password(url: &str, password: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    u.set_password(Some(password)).unwrap();
    u.to_string()
}

#[tokio::test]
async fn a_missing_database_is_named_with_the_role_and_not_created() {
    let url = fresh_database_url("billing").await;
    let missing = format!("t_missing_{}", uuid::Uuid::new_v4().simple());
    let error = connect(&PgSettings::at(with_database(&url, &missing)))
        .await
        .unwrap_err();
    let OpenError::MissingDatabase { database, role, .. } = &error else {
        panic!("not MissingDatabase: {error:?}");
    };
    assert_eq!(
        (database.as_str(), role.as_str()),
        (missing.as_str(), "billing")
    );
    let shown = error.to_string();
    assert!(
        shown.contains(&missing) && shown.contains("\"billing\""),
        "{shown}"
    );
    // Still missing: the attempt created nothing.
    let again = connect(&PgSettings::at(with_database(&url, &missing)))
        .await
        .unwrap_err();
    assert!(
        matches!(again, OpenError::MissingDatabase { .. }),
        "{again:?}"
    );
}

#[tokio::test]
async fn the_role_logs_in_with_the_urls_password_or_the_stacks_and_a_wrong_one_is_not_shown() {
    let url = fresh_database_url("orders").await;
    // No password in the URL: the stack's file for the role (the server is on loopback).
    let pool = connect(&PgSettings::at(&url))
        .await
        .expect("the role's own database");
    let user: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(user, "orders");
    pool.close().await;

    // A password in the URL is used as it is.
    let password = LocalStack::default()
        .password("postgres-orders")
        .expect("the stack's password of role orders (scripts/stack up)");
    let pool = connect(&PgSettings::at(with_password(
        &url,
        password.expose_secret(),
    )))
    .await
    .expect("the URL's password");
    pool.close().await;

    let wrong = "Wr0ngPassw0rdNotShown";
    let error = connect(&PgSettings::at(with_password(&url, wrong)))
        .await
        .unwrap_err();
    assert!(matches!(error, OpenError::Connect { .. }), "{error:?}");
    let mut chain = format!("{error} {error:?}");
    let mut source = std::error::Error::source(&error);
    while let Some(s) = source {
        chain.push_str(&format!(" {s}"));
        source = s.source();
    }
    assert!(!chain.contains(wrong), "the password is rendered: {chain}");
    assert!(
        chain.contains("password authentication failed for user \"orders\""),
        "{chain}"
    );
}
