//! How a service reaches its PostgreSQL store ([`PgSettings`]: `DATABASE_URL`,
//! `DATABASE_PASSWORD`, `DATABASE_MAX_CONNECTIONS`) and the credentials a connection to it logs
//! in with ([`PgSettings::connect_options`]).
//!
//! With no variable set, a service connects to the local stack's server as its own role, over
//! TLS verified against the stack's CA (`sslmode=verify-full`), with the password the stack
//! made for that role ([`local_database_url`]). A URL needs no password in it: one it lacks
//! comes from `DATABASE_PASSWORD` (or the file `DATABASE_PASSWORD_FILE` names) or, for a
//! server on loopback, from the local stack's `postgres-<user>` file.

use std::path::Path;

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgConnectOptions;
use sqlx::ConnectOptions;

use crate::env::{ConfigError, Env};
use crate::secret::LocalStack;

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

/// The pool's size unless `DATABASE_MAX_CONNECTIONS` says otherwise.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// A PostgreSQL database and how to log in to it. `Debug` never shows the password of
/// `password` (a URL that holds one is shown as it is: keep passwords out of URLs).
#[derive(Debug, Clone)]
pub struct PgSettings {
    /// The database's URL (`DATABASE_URL`, or another variable's).
    pub url: String,
    /// The password when the URL holds none: the variable `DATABASE_PASSWORD` or the file
    /// `DATABASE_PASSWORD_FILE` names.
    pub password: Option<SecretString>,
    /// `DATABASE_MAX_CONNECTIONS` (default [`DEFAULT_MAX_CONNECTIONS`]): the pool's size; the
    /// outbox relay's replication connection comes on top.
    pub max_connections: u32,
}

impl PgSettings {
    /// The database at `url`, with no password but the URL's (or, on loopback, the local
    /// stack's) and the default pool: a test's database.
    pub fn at(url: impl Into<String>) -> PgSettings {
        PgSettings {
            url: url.into(),
            password: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }

    /// `DATABASE_URL` (by default the local server's database `default_database` as the role
    /// of that name: [`local_database_url`]), with the password and the pool's size
    /// [`read_for`](Self::read_for) reads.
    pub fn read(env: &Env, default_database: &str) -> Result<PgSettings, ConfigError> {
        let url = database_url(env, default_database)?;
        PgSettings::read_for(env, url, PASSWORD_VARIABLE)
    }

    /// The database at `url`, with the password from `password_variable` (or the file
    /// `<password_variable>_FILE` names) and `DATABASE_MAX_CONNECTIONS`.
    pub fn read_for(
        env: &Env,
        url: String,
        password_variable: &str,
    ) -> Result<PgSettings, ConfigError> {
        Ok(PgSettings {
            url,
            password: env.secret(password_variable)?,
            max_connections: env.or("DATABASE_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS)?,
        })
    }

    /// The options to connect with. The password is, in this order (libpq's: what the URL
    /// says wins): the URL's own (`user:password@` or `?password=`); [`password`](Self::password);
    /// for a server on loopback, the local stack's `postgres-<user>` file if it exists; else
    /// none from here (the driver then tries `PGPASSWORD` and `~/.pgpass`).
    pub fn connect_options(&self) -> Result<PgConnectOptions, OpenError> {
        crate::tls::install_crypto_provider();
        let options: PgConnectOptions = self.url.parse().map_err(OpenError::InvalidUrl)?;
        if url_has_password(&self.url) {
            return Ok(options);
        }
        if let Some(password) = &self.password {
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
}

/// `DATABASE_URL`, by default the local server's database `default_database` as the role of
/// that name ([`local_database_url`]).
pub fn database_url(env: &Env, default_database: &str) -> Result<String, ConfigError> {
    env.or("DATABASE_URL", local_database_url(default_database))
}

/// The options to connect to `url` with, its password as [`PgSettings::connect_options`] finds
/// it with the process's `DATABASE_PASSWORD`: a test's or a tool's connection.
pub fn connect_options(url: &str) -> Result<PgConnectOptions, OpenError> {
    connect_options_with(url, PASSWORD_VARIABLE)
}

/// [`connect_options`], with the password from the process's `password_variable` (or the
/// file `<password_variable>_FILE` names).
pub fn connect_options_with(
    url: &str,
    password_variable: &str,
) -> Result<PgConnectOptions, OpenError> {
    PgSettings::read_for(&Env::process(), url.to_owned(), password_variable)?.connect_options()
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
    use crate::env::Vars;

    /// The settings for `url` with these variables set.
    fn read_for(url: &str, vars: &[(&str, &str)]) -> PgSettings {
        let vars = Vars::new(vars.iter().copied());
        PgSettings::read_for(&Env::new(&vars), url.to_owned(), PASSWORD_VARIABLE).unwrap()
    }

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
        let given = [("DATABASE_PASSWORD", "from-variable")];
        let options = read_for("postgres://u:in%20url@db.example:5432/d", &given)
            .connect_options()
            .unwrap();
        let full = options.to_url_lossy().to_string();
        assert!(full.contains("in%20url"), "{full}");
        let shown = redacted_url(&options);
        assert!(!shown.contains("in%20url") && !shown.contains("from-variable"));
        assert!(
            shown.starts_with("postgres://u@db.example:5432/d"),
            "{shown}"
        );

        let options = PgSettings::at("postgres://u@db.example/d?password=p4ss")
            .connect_options()
            .unwrap();
        assert!(!redacted_url(&options).contains("p4ss"));

        let local = PgSettings::at(local_database_url("billing"))
            .connect_options()
            .unwrap();
        let shown = redacted_url(&local);
        assert!(
            shown.contains("sslmode=verify-full&sslrootcert=%2F"),
            "a URL that parses back to the same CA file: {shown}"
        );
    }

    #[test]
    fn a_url_without_a_password_takes_the_variables() {
        let settings = read_for(
            "postgres://u@db.example/d",
            &[
                ("DATABASE_PASSWORD", "fromvariable"),
                ("DATABASE_MAX_CONNECTIONS", "3"),
            ],
        );
        assert_eq!(settings.max_connections, 3);
        let options = settings.connect_options().unwrap();
        assert!(options.to_url_lossy().as_str().contains("fromvariable"));
        assert!(!format!("{settings:?}").contains("fromvariable"));
        let default = read_for("postgres://u@db.example/d", &[]);
        assert_eq!(default.max_connections, DEFAULT_MAX_CONNECTIONS);
    }

    #[test]
    fn the_local_stack_password_is_offered_to_loopback_only() {
        let file = LocalStack::default().password_file("postgres-billing");
        if !file.is_file() {
            // No local stack here (scripts/stack up makes the file): nothing to compare.
            return;
        }
        let local = LocalStack::default().password("postgres-billing").unwrap();
        let on_loopback = PgSettings::at(local_database_url("billing"))
            .connect_options()
            .unwrap();
        assert!(on_loopback
            .to_url_lossy()
            .as_str()
            .contains(local.expose_secret()));
        let remote = PgSettings::at("postgres://billing@db.example/billing")
            .connect_options()
            .unwrap()
            .to_url_lossy()
            .to_string();
        assert!(!remote.contains(local.expose_secret()), "{remote}");
    }
}
