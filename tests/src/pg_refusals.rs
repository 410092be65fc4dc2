//! Probes of what the PostgreSQL server itself refuses a service's role: each tries one thing
//! the role may not do, with the role's own credentials, and returns the server's refusal, or
//! an error saying what happened instead (it was allowed, or failed for another reason). The
//! PostgreSQL test of this crate and the least-privilege end-to-end scenario call them per
//! service.
//!
//! A probe starts from `own`: the options a service logs in to its own database with (a URL
//! through [`saga_messaging::postgres::connect_options`]: TLS, its role and password).

use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::{ConnectOptions, Connection, PgConnection};

/// The server's answer to something a role may not do.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// What was tried, e.g. `billing connects to database "orders"`.
    pub attempt: String,
    /// The server's SQLSTATE (`42501` insufficient privilege, `28000` invalid authorization).
    pub code: String,
    /// The server's message, e.g. `permission denied for database "orders"`.
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: refused ({} {})",
            self.attempt, self.code, self.message
        )
    }
}

/// `result` is the server's refusal with SQLSTATE `code` and a message containing one of
/// `expected`, or an error naming what happened instead.
fn refused<T>(
    attempt: String,
    result: Result<T, sqlx::Error>,
    code: &str,
    expected: &[&str],
) -> Result<Refusal, String> {
    match result {
        Ok(_) => Err(format!("{attempt}: ALLOWED, expected a refusal")),
        Err(sqlx::Error::Database(e)) => {
            let got = e.code().map(|c| c.into_owned()).unwrap_or_default();
            let message = e.message().to_owned();
            if got == code && expected.iter().any(|m| message.contains(m)) {
                Ok(Refusal {
                    attempt,
                    code: got,
                    message,
                })
            } else {
                Err(format!(
                    "{attempt}: refused, but not as expected ({code} with one of {expected:?}): {got} {message}"
                ))
            }
        }
        Err(other) => Err(format!(
            "{attempt}: failed without the server's refusal: {other}"
        )),
    }
}

async fn connect(options: &PgConnectOptions) -> Result<PgConnection, sqlx::Error> {
    options.connect().await
}

/// `own`'s role connects, over TLS with its password, to `database` (another service's): the
/// server refuses it, `permission denied for database` (CONNECT is not the role's) or no
/// `pg_hba.conf` entry for it.
pub async fn other_database(own: &PgConnectOptions, database: &str) -> Result<Refusal, String> {
    let attempt = format!(
        "role {} connects to database {database:?}",
        own.get_username()
    );
    let result = connect(&own.clone().database(database)).await;
    // The privilege's refusal is 42501; pg_hba's, when it names the databases, 28000.
    let by_hba =
        matches!(&result, Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("28000"));
    if by_hba {
        refused(attempt, result, "28000", &["no pg_hba.conf entry"])
    } else {
        refused(
            attempt,
            result,
            "42501",
            &[&format!("permission denied for database \"{database}\"")],
        )
    }
}

/// `own`'s role connects to its own database over TCP without TLS (`sslmode=disable`), with the
/// right password: `pg_hba.conf` rejects it.
pub async fn plaintext(own: &PgConnectOptions) -> Result<Refusal, String> {
    let attempt = format!(
        "role {} connects without TLS (sslmode=disable)",
        own.get_username()
    );
    let result = connect(&own.clone().ssl_mode(PgSslMode::Disable)).await;
    refused(
        attempt,
        result,
        "28000",
        &["pg_hba.conf rejects connection", "no pg_hba.conf entry"],
    )
}

/// `own`'s role, logged in to its own database, runs `sql`: the server refuses it with
/// SQLSTATE `code` and a message containing `expected`.
async fn statement(
    own: &PgConnectOptions,
    sql: &str,
    code: &str,
    expected: &str,
) -> Result<Refusal, String> {
    let attempt = format!("role {} runs {sql:?}", own.get_username());
    let mut conn = connect(own)
        .await
        .map_err(|e| format!("{attempt}: the role cannot log in to its own database: {e}"))?;
    let result = sqlx::query(sql).execute(&mut conn).await;
    let _ = conn.close().await;
    refused(attempt, result, code, &[expected])
}

/// `CREATE DATABASE`: `permission denied to create database`.
pub async fn create_database(own: &PgConnectOptions) -> Result<Refusal, String> {
    let name = format!("refusal_probe_{}", uuid::Uuid::new_v4().simple());
    statement(
        own,
        &format!("CREATE DATABASE {name}"),
        "42501",
        "permission denied to create database",
    )
    .await
}

/// `CREATE ROLE`: `permission denied to create role`.
pub async fn create_role(own: &PgConnectOptions) -> Result<Refusal, String> {
    let name = format!("refusal_probe_{}", uuid::Uuid::new_v4().simple());
    statement(
        own,
        &format!("CREATE ROLE {name}"),
        "42501",
        "permission denied to create role",
    )
    .await
}

/// Reading the password verifiers in `pg_authid`: `permission denied for table pg_authid`.
pub async fn read_pg_authid(own: &PgConnectOptions) -> Result<Refusal, String> {
    statement(
        own,
        "SELECT rolname, rolpassword FROM pg_authid",
        "42501",
        "permission denied for table pg_authid",
    )
    .await
}

/// Every probe for `own`'s role: each database of `others`, then TLS, `CREATE DATABASE`,
/// `CREATE ROLE` and `pg_authid`. The refusals seen, or every probe that was not refused.
pub async fn all(own: &PgConnectOptions, others: &[&str]) -> Result<Vec<Refusal>, Vec<String>> {
    let mut results = Vec::new();
    for database in others {
        results.push(other_database(own, database).await);
    }
    results.push(plaintext(own).await);
    results.push(create_database(own).await);
    results.push(create_role(own).await);
    results.push(read_pg_authid(own).await);
    let (refusals, failures): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    if failures.is_empty() {
        Ok(refusals.into_iter().map(Result::unwrap).collect())
    } else {
        Err(failures.into_iter().map(Result::unwrap_err).collect())
    }
}
