//! A fresh PostgreSQL database per test, on the server of `TEST_DATABASE_URL`.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use uuid::Uuid;

/// The server the tests create their databases on (`TEST_DATABASE_URL`, default the local one).
pub fn admin_database_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into())
}

/// Test databases are named `t_<uuid>` so that the test script can drop leftovers.
pub const TEST_DATABASE_PREFIX: &str = "t_";

/// Creates an empty database and returns its URL.
pub async fn fresh_database_url() -> String {
    fresh_database_url_on(&admin_database_url()).await
}

/// Creates an empty database on the server of `admin_url` (a superuser's URL) and returns its
/// URL. The e2e suite uses it for a PostgreSQL server of a test's own, which it stops.
pub async fn fresh_database_url_on(admin_url: &str) -> String {
    let admin_url = admin_url.to_owned();
    let name = format!("{TEST_DATABASE_PREFIX}{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .expect("connecting to the test PostgreSQL server; is the stack up? (scripts/stack up)");
    sqlx::query(&format!(r#"CREATE DATABASE "{name}""#))
        .execute(&mut admin)
        .await
        .expect("creating a test database");
    let _ = admin.close().await;
    let options: PgConnectOptions = admin_url.parse().expect("a valid TEST_DATABASE_URL");
    options.database(&name).to_url_lossy().to_string()
}

/// A pool on a new, empty database.
pub async fn fresh_database() -> PgPool {
    let url = fresh_database_url().await;
    PgPoolOptions::new()
        .max_connections(10)
        .connect(&url)
        .await
        .expect("connecting to the test database")
}
