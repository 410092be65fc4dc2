//! PostgreSQL side of the runtime: the outbox (in the write-ahead log, read through a
//! replication slot) and the inbox table, `enqueue`, the relay's store,
//! the idempotent step (the inbox, [`PgInbox`]; with one handler for every event,
//! [`PgIdempotent`]), where a service's database is (`DATABASE_URL`) and the
//! credentials it logs in with (`DATABASE_PASSWORD`, or the local stack's), and opening it.

mod error;
mod inbox;
mod outbox;
mod replication;
mod schema;
mod settings;
mod slot;
mod visibility;
mod warm;

pub use error::OpenError;
pub use inbox::{PgHandler, PgIdempotent, PgInbox};
pub use outbox::{enqueue, enqueue_all, peek_outbox, OutboxBatch, PgOutboxStore, STANDBY_RETRY};
pub use replication::{ReplicationSource, SourceError};
pub use schema::migrate;
pub use settings::{
    connect_options, connect_options_with, database_url, local_database_url, redacted_url,
    server_url, PgSettings, DEFAULT_MAX_CONNECTIONS, LOCAL_SERVER, PASSWORD_VARIABLE,
};
pub use slot::{
    outbox_ready, outbox_slot, slot_status, SlotStatus, LAG_LIMIT_BYTES, MESSAGE_PREFIX,
    PUBLICATION,
};
pub use visibility::Snapshot;
pub use warm::{Loan, Warm};

/// The relay of a PostgreSQL outbox publishing with `producer` (the service's one producer,
/// which its consumer's dead letters share), ready to `run`.
pub fn relay(
    pool: sqlx::PgPool,
    producer: rdkafka::producer::FutureProducer,
    kafka: &crate::KafkaConfig,
) -> crate::OutboxRelay<PgOutboxStore> {
    crate::OutboxRelay::new(PgOutboxStore::new(pool), producer, kafka.clone())
}

/// A service's store: [`connect`]s to `database`, applies the service's own `migrations`, then
/// prepares the runtime's tables ([`migrate`]).
pub async fn open(
    database: &PgSettings,
    migrations: &sqlx::migrate::Migrator,
) -> Result<sqlx::PgPool, OpenError> {
    let pool = connect(database).await?;
    migrations.run(&pool).await.map_err(OpenError::Migrations)?;
    migrate(&pool).await.map_err(OpenError::RuntimeTables)?;
    Ok(pool)
}

/// Connects to `database` (its password found by [`PgSettings::connect_options`]), as the role
/// its URL names, to a database that must exist: a service's role owns its database but may not
/// create one. The pool holds at most [`PgSettings::max_connections`] connections; the outbox
/// relay's replication connection comes on top. Nothing it logs or returns holds the
/// password.
pub async fn connect(settings: &PgSettings) -> Result<sqlx::PgPool, OpenError> {
    use sqlx::postgres::PgPoolOptions;

    let options = settings.connect_options()?;
    let database = options
        .get_database()
        .ok_or(OpenError::NoDatabase)?
        .to_owned();
    let role = options.get_username().to_owned();
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
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
