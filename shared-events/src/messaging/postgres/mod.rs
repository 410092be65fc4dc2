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

/// The relay of a PostgreSQL outbox, with a producer of its own, ready to `run`.
pub fn relay(
    pool: sqlx::PgPool,
    kafka: &crate::KafkaConfig,
) -> anyhow::Result<crate::OutboxRelay<PgOutboxStore>> {
    let producer = crate::messaging::producer::build_producer(kafka)?;
    Ok(crate::OutboxRelay::new(
        PgOutboxStore::new(pool),
        producer,
        kafka.clone(),
    ))
}

/// A service's store: [`connect`]s to `url`, applies the service's own `migrations`, then
/// prepares the runtime's tables ([`migrate`]).
pub async fn open(url: &str, migrations: &sqlx::migrate::Migrator) -> anyhow::Result<sqlx::PgPool> {
    let pool = connect(url).await?;
    migrations.run(&pool).await?;
    migrate(&pool).await?;
    Ok(pool)
}

/// Connects to `url`, creating its database first if the server does not have it yet, so a
/// service starts against a bare local PostgreSQL with no set-up step. The pool holds at most
/// `DATABASE_MAX_CONNECTIONS` (default 10) connections; the outbox relay's lease and LISTEN
/// connections come on top.
pub async fn connect(url: &str) -> anyhow::Result<sqlx::PgPool> {
    use anyhow::Context;
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use sqlx::{ConnectOptions, Connection};

    let options: PgConnectOptions = url.parse().context("DATABASE_URL is not a valid URL")?;
    let database = options
        .get_database()
        .context("DATABASE_URL names no database")?
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
        Err(e) => return Err(e).context(format!("connecting to {}", options.to_url_lossy())),
    };
    if !exists {
        let mut admin = options
            .clone()
            .database("postgres")
            .connect()
            .await
            .context("connecting to the postgres database to create the service's database")?;
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
            Err(e) => return Err(e).context(format!("creating database {database}")),
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
        .context("connecting to the service's database")
}
