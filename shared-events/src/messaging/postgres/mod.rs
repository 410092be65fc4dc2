//! PostgreSQL side of the runtime: the outbox and inbox tables, `enqueue`, the relay's store,
//! the idempotent handler adapter, and a PostgreSQL service's settings (`DATABASE_URL`).

mod inbox;
mod outbox;
mod schema;
mod settings;
mod warm;

pub use inbox::{PgHandler, PgIdempotent};
pub use outbox::{enqueue, enqueue_all, OutboxBatch, PgOutboxStore};
pub use schema::migrate;
pub use settings::{database_url, local_database_url, PgServiceSettings};
pub use warm::{Loan, Warm};

use crate::messaging::config::ConfigError;
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
    /// The first connection to the service's database failed for a reason other than the
    /// database being missing: the server is down, or the credentials are wrong.
    #[error("connecting to {url}")]
    Connect {
        /// The URL connected to, as the driver renders its options.
        url: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The database is missing, and the server's `postgres` database, through which it would
    /// be created, could not be reached.
    #[error("connecting to the postgres database to create the service's database")]
    ConnectAdmin(#[source] sqlx::Error),
    /// The database is missing and `CREATE DATABASE` failed (other than because another
    /// instance created it meanwhile), e.g. for lack of the privilege.
    #[error("creating database {database}")]
    CreateDatabase {
        /// The database's name.
        database: String,
        /// The server's error.
        #[source]
        source: sqlx::Error,
    },
    /// `DATABASE_MAX_CONNECTIONS` is set but is not a number.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The pool of the service's database could not open its first connection.
    #[error("connecting to the service's database")]
    Pool(#[source] sqlx::Error),
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

/// Connects to `url`, creating its database first if the server does not have it yet, so a
/// service starts against a bare local PostgreSQL with no set-up step. The pool holds at most
/// `DATABASE_MAX_CONNECTIONS` (default 10) connections; the outbox relay's lease and LISTEN
/// connections come on top.
pub async fn connect(url: &str) -> Result<sqlx::PgPool, OpenError> {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use sqlx::{ConnectOptions, Connection};

    let options: PgConnectOptions = url.parse().map_err(OpenError::InvalidUrl)?;
    let database = options
        .get_database()
        .ok_or(OpenError::NoDatabase)?
        .to_owned();
    let exists = match PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
    {
        Ok(pool) => {
            pool.close().await;
            true
        }
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => false,
        Err(source) => {
            return Err(OpenError::Connect {
                url: options.to_url_lossy().to_string(),
                source,
            })
        }
    };
    if !exists {
        let mut admin = options
            .clone()
            .database("postgres")
            .connect()
            .await
            .map_err(OpenError::ConnectAdmin)?;
        let created = sqlx::query(&format!(
            r#"CREATE DATABASE "{}""#,
            database.replace('"', "\"\"")
        ))
        .execute(&mut admin)
        .await;
        match created {
            Ok(_) => tracing::info!(%database, "created database"),
            // Another instance created it meanwhile.
            Err(sqlx::Error::Database(e))
                if matches!(e.code().as_deref(), Some("42P04" | "23505")) => {}
            Err(source) => return Err(OpenError::CreateDatabase { database, source }),
        }
        let _ = admin.close().await;
    }
    let max_connections = crate::messaging::config::env_or("DATABASE_MAX_CONNECTIONS", 10u32)?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        // Not a round trip before every acquire: a connection that died while idle fails its
        // first statement, a transient error the caller retries, and the pool replaces it.
        .test_before_acquire(false)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(OpenError::Pool)
}
