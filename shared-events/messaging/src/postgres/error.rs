//! Why a service's PostgreSQL store could not be opened: [`OpenError`].

use crate::env::ConfigError;

/// Why a service's PostgreSQL store could not be opened ([`connect`](super::connect),
/// [`open`](super::open)).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// `DATABASE_URL` does not parse as a PostgreSQL connection URL.
    #[error("DATABASE_URL is not a valid URL")]
    InvalidUrl(#[source] sqlx::Error),
    /// `DATABASE_URL` parses but names no database to use.
    #[error("DATABASE_URL names no database")]
    NoDatabase,
    /// The server has no such database. A service does not create its database (its role
    /// may not): `scripts/stack up` makes the local ones, an administrator any other.
    #[error(
        "database {database:?} does not exist on {url}; a service does not create its database \
         (role {role:?} may not): run scripts/stack up, or have an administrator run \
         CREATE DATABASE \"{database}\" OWNER \"{role}\""
    )]
    MissingDatabase {
        /// The database's name.
        database: String,
        /// The role the service logs in as.
        role: String,
        /// The server, as a URL without the password.
        url: String,
    },
    /// The first connection to the service's database failed: the server is down, refuses the
    /// credentials, the TLS handshake, or the role's access to the database.
    #[error("connecting to {url} as role {role:?}")]
    Connect {
        /// The URL connected to, as the driver renders its options, without the password.
        url: String,
        /// The role the service logs in as.
        role: String,
        /// The driver's error (the server's, when it refused).
        #[source]
        source: sqlx::Error,
    },
    /// A password cannot be read: both its variables are set, or a file (the one its `…_FILE`
    /// names, the local stack's) cannot be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// One of the service's own migrations failed, or they disagree with those already applied.
    #[error("applying the service's migrations")]
    Migrations(#[source] sqlx::migrate::MigrateError),
    /// The runtime's tables (outbox, inbox) could not be created ([`migrate`](super::migrate)).
    #[error("creating the runtime's outbox and inbox tables")]
    RuntimeTables(#[source] sqlx::Error),
}
