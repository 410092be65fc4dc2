//! Where a PostgreSQL store is ([`database_url`]: `DATABASE_URL`) and the credentials a
//! connection to it logs in with ([`connect_options`]).
//!
//! With no variable set, a service connects to the local stack's server as its own role, over
//! TLS verified against the stack's CA (`sslmode=verify-full`), with the password the stack
//! made for that role ([`local_database_url`]). A URL needs no password in it: one it lacks
//! comes from `DATABASE_PASSWORD` (or the file `DATABASE_PASSWORD_FILE` names) or, for a
//! server on loopback, from the local stack's `postgres-<user>` file.

use std::path::Path;

use secrecy::ExposeSecret;
use sqlx::postgres::PgConnectOptions;
use sqlx::ConnectOptions;

use crate::env::{env_or, ConfigError};
use crate::secret::{env_secret, LocalStack};

use super::error::OpenError;

/// The variable (or, with `_FILE`, the file) of the password a service logs in with when its
/// `DATABASE_URL` has none.
pub const PASSWORD_VARIABLE: &str = "DATABASE_PASSWORD";

/// The local stack's PostgreSQL server (`scripts/stack`).
pub const LOCAL_SERVER: &str = "127.0.0.1:5432";

/// The URL of the database `name` on the local stack's server, logging in as the role `name`
/// (each service's role owns the database of its name) over TLS verified against the local
/// stack's CA. It holds no password: [`connect_options`] reads the role's from the stack.
pub fn local_database_url(name: &str) -> String {
    server_url(LOCAL_SERVER, name, name, &LocalStack::default().ca_file())
}

/// `postgres://<role>@<server>/<database>?sslmode=verify-full&sslrootcert=<ca>`.
pub fn server_url(server: &str, role: &str, database: &str, ca: &Path) -> String {
    let mut url = url::Url::parse(&format!("postgres://{server}/")).expect("a host:port");
    url.set_username(role).expect("a URL with a host");
    url.set_path(database);
    url.query_pairs_mut()
        .append_pair("sslmode", "verify-full")
        .append_pair("sslrootcert", &ca.display().to_string());
    url.to_string()
}

/// `DATABASE_URL`, by default the local server's database `default_database` as the role of
/// that name ([`local_database_url`]).
pub fn database_url(default_database: &str) -> Result<String, ConfigError> {
    env_or("DATABASE_URL", local_database_url(default_database))
}

/// The options to connect to `url` with ([`connect_options_with`] reading `DATABASE_PASSWORD`).
pub fn connect_options(url: &str) -> Result<PgConnectOptions, OpenError> {
    connect_options_with(url, PASSWORD_VARIABLE)
}

/// The options to connect to `url` with. The password is, in this order (libpq's: what the
/// URL says wins): the URL's own (`user:password@` or `?password=`); the variable
/// `password_variable` or the file `<password_variable>_FILE` names; for a server on loopback,
/// the local stack's `postgres-<user>` file if it exists; else none from here (the driver then
/// tries `PGPASSWORD` and `~/.pgpass`).
pub fn connect_options_with(
    url: &str,
    password_variable: &str,
) -> Result<PgConnectOptions, OpenError> {
    let options: PgConnectOptions = url.parse().map_err(OpenError::InvalidUrl)?;
    if url_has_password(url) {
        return Ok(options);
    }
    if let Some(password) = env_secret(password_variable)? {
        return Ok(options.password(password.expose_secret()));
    }
    if options.get_socket().is_none() {
        let name = format!("postgres-{}", options.get_username());
        if let Some(password) =
            LocalStack::default().password_for_host(options.get_host(), &name)?
        {
            return Ok(options.password(password.expose_secret()));
        }
    }
    Ok(options)
}

/// Whether `url` carries a password (in its user info or as a `password` parameter).
fn url_has_password(url: &str) -> bool {
    match url::Url::parse(url) {
        Ok(u) => u.password().is_some() || u.query_pairs().any(|(k, _)| k == "password"),
        Err(_) => false,
    }
}

/// `options` as a URL without its password, for messages and logs.
pub fn redacted_url(options: &PgConnectOptions) -> String {
    let mut url = options.to_url_lossy();
    let _ = url.set_password(None);
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "password")
        .map(|(k, v)| {
            // The driver renders a certificate file as "file: <path>"; the URL takes the path.
            let v = match v.strip_prefix("file: ") {
                Some(path) if k.starts_with("ssl") => path.to_owned(),
                _ => v.into_owned(),
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::read_secret_file;

    #[test]
    fn the_local_database_is_the_services_own_as_its_role_over_verified_tls() {
        let url = local_database_url("billing");
        let ca = LocalStack::default().ca_file();
        assert!(
            url.starts_with(
                "postgres://billing@127.0.0.1:5432/billing?sslmode=verify-full&sslrootcert="
            ),
            "{url}"
        );
        let options: PgConnectOptions = url.parse().unwrap();
        assert_eq!(options.get_username(), "billing");
        assert_eq!(options.get_database(), Some("billing"));
        assert!(matches!(
            options.get_ssl_mode(),
            sqlx::postgres::PgSslMode::VerifyFull
        ));
        let rendered = options.to_url_lossy();
        let root = rendered
            .query_pairs()
            .find(|(k, _)| k == "sslrootcert")
            .map(|(_, v)| v.into_owned());
        // The driver renders it as "file: <path>".
        let root = root.unwrap();
        assert!(root.ends_with(&ca.display().to_string()), "{root}");
    }

    #[test]
    fn a_password_in_the_url_wins_and_is_never_rendered() {
        let variable = "SHARED_EVENTS_PG_PASSWORD_TEST_URL";
        std::env::set_var(variable, "from-variable");
        let options =
            connect_options_with("postgres://u:in%20url@db.example:5432/d", variable).unwrap();
        std::env::remove_var(variable);
        let full = options.to_url_lossy().to_string();
        assert!(full.contains("in%20url"), "{full}");
        let shown = redacted_url(&options);
        assert!(!shown.contains("in%20url") && !shown.contains("from-variable"));
        assert!(
            shown.starts_with("postgres://u@db.example:5432/d"),
            "{shown}"
        );

        let options =
            connect_options_with("postgres://u@db.example/d?password=p4ss", variable).unwrap();
        assert!(!redacted_url(&options).contains("p4ss"));

        let local = connect_options_with(&local_database_url("billing"), variable).unwrap();
        let shown = redacted_url(&local);
        assert!(
            shown.contains("sslmode=verify-full&sslrootcert=%2F"),
            "a URL that parses back to the same CA file: {shown}"
        );
    }

    #[test]
    fn a_url_without_a_password_takes_the_variables() {
        let variable = "SHARED_EVENTS_PG_PASSWORD_TEST_VAR";
        std::env::set_var(variable, "fromvariable");
        let options = connect_options_with("postgres://u@db.example/d", variable).unwrap();
        std::env::remove_var(variable);
        assert!(options.to_url_lossy().as_str().contains("fromvariable"));
    }

    #[test]
    fn the_local_stack_password_is_offered_to_loopback_only() {
        let variable = "SHARED_EVENTS_PG_PASSWORD_TEST_UNSET";
        let file = LocalStack::default().password_file("postgres-billing");
        if !file.is_file() {
            // No local stack here (scripts/stack up makes the file): nothing to compare.
            return;
        }
        let local = read_secret_file("test", &file).unwrap();
        let on_loopback = connect_options_with(&local_database_url("billing"), variable).unwrap();
        assert!(on_loopback
            .to_url_lossy()
            .as_str()
            .contains(local.expose_secret()));
        let remote = connect_options_with("postgres://billing@db.example/billing", variable)
            .unwrap()
            .to_url_lossy()
            .to_string();
        assert!(!remote.contains(local.expose_secret()), "{remote}");
    }
}
