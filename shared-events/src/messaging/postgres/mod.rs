//! PostgreSQL side of the runtime: the outbox and inbox tables, `enqueue`, the relay's store,
//! the idempotent handler adapter, and a PostgreSQL service's settings (`DATABASE_URL`) and
//! credentials (`DATABASE_PASSWORD`, or the local stack's).

mod inbox;
mod outbox;
mod schema;
mod settings;
mod warm;

pub use inbox::{PgHandler, PgIdempotent};
pub use outbox::{enqueue, enqueue_all, OutboxBatch, PgOutboxStore};
pub use schema::migrate;
pub use settings::{
    connect_options, connect_options_with, database_url, local_database_url, redacted_url,
    server_url, PgServiceSettings, LOCAL_SERVER, PASSWORD_VARIABLE,
};
pub use warm::{Loan, Warm};

use crate::messaging::env::ConfigError;
use crate::messaging::outbox::RelayError;

/// Why a service's PostgreSQL store could not be opened ([`connect`], [`open`]).
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
    /// `DATABASE_MAX_CONNECTIONS` is set but is not a number, or the password's variables are
    /// both set or name a file that cannot be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// One of the service's own migrations failed, or they disagree with those already applied.
    #[error("applying the service's migrations")]
    Migrations(#[source] sqlx::migrate::MigrateError),
    /// The runtime's tables (outbox, inbox) could not be created ([`migrate`]).
    #[error("creating the runtime's outbox and inbox tables")]
    RuntimeTables(#[source] sqlx::Error),
}

/// The relay of a PostgreSQL outbox, with a producer of its own, ready to `run`.
pub fn relay(
    pool: sqlx::PgPool,
    kafka: &crate::KafkaConfig,
) -> Result<crate::OutboxRelay<PgOutboxStore>, RelayError> {
    let producer = crate::messaging::producer::build_producer(kafka)
        .map_err(|e| RelayError::Producer(e.into()))?;
    Ok(crate::OutboxRelay::new(
        PgOutboxStore::new(pool),
        producer,
        kafka.clone(),
    ))
}

/// A service's store: [`connect`]s to `url`, applies the service's own `migrations`, then
/// prepares the runtime's tables ([`migrate`]).
pub async fn open(
    url: &str,
    migrations: &sqlx::migrate::Migrator,
) -> Result<sqlx::PgPool, OpenError> {
    let pool = connect(url).await?;
    migrations.run(&pool).await.map_err(OpenError::Migrations)?;
    migrate(&pool).await.map_err(OpenError::RuntimeTables)?;
    Ok(pool)
}

/// Connects to `url` (its password found by [`connect_options`]), as the role it names, to
/// a database that must exist: a service's role owns its database but may not create one. The
/// pool holds at most `DATABASE_MAX_CONNECTIONS` (default 10) connections; the outbox relay's
/// lease and LISTEN connections come on top. Nothing it logs or returns holds the password.
pub async fn connect(url: &str) -> Result<sqlx::PgPool, OpenError> {
    use sqlx::postgres::PgPoolOptions;

    let options = connect_options(url)?;
    let database = options
        .get_database()
        .ok_or(OpenError::NoDatabase)?
        .to_owned();
    let role = options.get_username().to_owned();
    let max_connections = crate::messaging::env::env_or("DATABASE_MAX_CONNECTIONS", 10u32)?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        // Not a round trip before every acquire: a connection that died while idle fails its
        // first statement, a transient error the caller retries, and the pool replaces it.
        .test_before_acquire(false)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect_with(options.clone())
        .await
        .map_err(|source| match &source {
            sqlx::Error::Database(e) if e.code().as_deref() == Some("3D000") => {
                OpenError::MissingDatabase {
                    database,
                    role: role.clone(),
                    url: redacted_url(&options),
                }
            }
            _ => OpenError::Connect {
                url: redacted_url(&options),
                role,
                source,
            },
        })
}
