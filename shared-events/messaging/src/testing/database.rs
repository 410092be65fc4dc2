//! A fresh PostgreSQL database per test, on the server of `TEST_DATABASE_URL`, made as a
//! service's own database is: the administrator (the superuser) creates it with the test's
//! service role as its owner and `CONNECT` revoked from `PUBLIC`, and the service under test
//! logs in as that role. A test that needs the superuser (to read what only it may, or to make
//! a database) says so by using [`admin_connect_options`].

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use uuid::Uuid;

use crate::postgres::{connect_options, connect_options_with, server_url, LOCAL_SERVER};
use crate::secret::LocalStack;

/// The variable (or, with `_FILE`, the file) of the superuser's password when
/// `TEST_DATABASE_URL` has none; else the local stack's `postgres-postgres` file.
pub const ADMIN_PASSWORD_VARIABLE: &str = "TEST_DATABASE_PASSWORD";

/// The superuser's URL on the server the tests create their databases on (`TEST_DATABASE_URL`,
/// default the local stack's, as `postgres` over TLS verified against the stack's CA). It need
/// not hold the password: [`admin_connect_options`] finds it.
pub fn admin_database_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            server_url(
                LOCAL_SERVER,
                "postgres",
                "postgres",
                &LocalStack::default().ca_file(),
            )
        })
}

/// [`admin_database_url`] with the superuser's password (from the URL,
/// `TEST_DATABASE_PASSWORD`(`_FILE`), or the local stack's `postgres-postgres` file).
pub fn admin_connect_options() -> PgConnectOptions {
    admin_options_on(&admin_database_url())
}

fn admin_options_on(admin_url: &str) -> PgConnectOptions {
    connect_options_with(admin_url, ADMIN_PASSWORD_VARIABLE).unwrap_or_else(|e| {
        panic!("the test PostgreSQL server's superuser (TEST_DATABASE_URL): {e}")
    })
}

/// Test databases are named `t_<uuid>` so that the test script can drop leftovers.
pub const TEST_DATABASE_PREFIX: &str = "t_";

/// Creates an empty database owned by `role` (a service's role: `customer`, `orders`,
/// `inventory`, `billing`) and returns the URL for `role` to log in to it.
pub async fn fresh_database_url(role: &str) -> String {
    fresh_database_url_on(&admin_database_url(), role).await
}

/// Creates an empty database owned by `role`, `CONNECT` revoked from `PUBLIC`, on the server of
/// `admin_url` (a superuser's URL; its password found as [`admin_connect_options`] finds it),
/// and returns the URL for `role` to log in to it: `admin_url` with that user and database and
/// no password ([`crate::postgres::connect_options`] finds the role's). The e2e
/// suite uses it for a PostgreSQL server of a test's own, which it stops.
pub async fn fresh_database_url_on(admin_url: &str, role: &str) -> String {
    let name = format!("{TEST_DATABASE_PREFIX}{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect_with(&admin_options_on(admin_url))
        .await
        .expect("connecting to the test PostgreSQL server as its superuser; is the stack up? (scripts/stack up)");
    drop_stale_slots(&mut admin).await;
    let role_ident = role.replace('"', "\"\"");
    for statement in [
        format!(r#"CREATE DATABASE "{name}" OWNER "{role_ident}""#),
        format!(r#"REVOKE CONNECT, TEMPORARY ON DATABASE "{name}" FROM PUBLIC"#),
    ] {
        sqlx::query(&statement)
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| {
                panic!("creating a test database owned by role {role}: {statement}: {e}")
            });
    }
    let _ = admin.close().await;
    // The schema public of a new database belongs to its owner (pg_database_owner) and is
    // closed to PUBLIC as scripts/stack closes it.
    let url = role_url(admin_url, role, &name);
    let mut owner = PgConnection::connect_with(&connect_options(&url).expect("the role's URL"))
        .await
        .unwrap_or_else(|e| panic!("connecting to the test database as role {role}: {e}"));
    sqlx::query("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        .execute(&mut owner)
        .await
        .expect("closing the schema public of the test database");
    let _ = owner.close().await;
    url
}

/// A slot holds the server's WAL from where its relay last confirmed, and a finished test's
/// slot has no relay any more: once one of a test database nobody is connected to holds more
/// than 256 MiB (or has lost WAL), it goes, so a long run of tests does not fill the disk up to
/// `max_slot_wal_keep_size` per slot. Best effort: a slot taken meanwhile stays.
async fn drop_stale_slots(admin: &mut PgConnection) {
    let dropped = sqlx::query(
        r#"SELECT count(pg_drop_replication_slot(s.slot_name)) FROM pg_replication_slots s
            WHERE s.database LIKE 't\_%' AND NOT s.active
              AND (s.wal_status = 'lost' OR pg_current_wal_lsn() - s.restart_lsn > 268435456)
              AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = s.database)"#,
    )
    .execute(admin)
    .await;
    if let Err(e) = dropped {
        tracing::debug!(error = %e, "test databases: dropping stale outbox slots");
    }
}

/// `admin_url` with user `role`, database `database` and no password.
fn role_url(admin_url: &str, role: &str, database: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("a valid TEST_DATABASE_URL");
    url.set_username(role)
        .expect("TEST_DATABASE_URL has a host");
    let _ = url.set_password(None);
    url.set_path(database);
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "password" && k != "user")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if pairs.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// A pool, as `role`, on a new, empty database that `role` owns.
pub async fn fresh_database(role: &str) -> PgPool {
    let url = fresh_database_url(role).await;
    PgPoolOptions::new()
        .max_connections(10)
        .connect_with(connect_options(&url).expect("the test database's URL"))
        .await
        .expect("connecting to the test database")
}

/// A connection as the superuser to the database `database` of the test server.
pub async fn admin_connection(database: &str) -> PgConnection {
    admin_connect_options()
        .database(database)
        .connect()
        .await
        .expect("connecting to the test PostgreSQL server as its superuser")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_url_is_the_admin_url_with_the_role_and_the_database_and_no_password() {
        assert_eq!(
            role_url(
                "postgres://postgres:secret@127.0.0.1:5433/postgres?sslmode=verify-full&sslrootcert=%2Fx%2Fca.crt",
                "billing",
                "t_1"
            ),
            "postgres://billing@127.0.0.1:5433/t_1?sslmode=verify-full&sslrootcert=%2Fx%2Fca.crt"
        );
        assert_eq!(
            role_url(
                "postgres://postgres@h:1/postgres?password=x",
                "orders",
                "t_2"
            ),
            "postgres://orders@h:1/t_2"
        );
    }
}
