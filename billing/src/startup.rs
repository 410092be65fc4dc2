//! Builds the running service on the shared start-up sequence
//! ([`saga_kit::service::Startup`]): its database, its topics, its routes, then the relay
//! of its outbox and the consumer, all stopped by one shutdown token.

use actix_web::web;
use saga_kit::service::{self, Startup};
use saga_kit::CancellationToken;
use saga_messaging::postgres::{self, PgIdempotent};
use saga_messaging::ConsumerRunner;
use sqlx::PgPool;

use crate::configuration::Settings;
use crate::saga::{self, account_wait, SagaHandler};
use crate::{routes, store, SERVICE};

/// The running service; its store is the pool of its database.
pub type Application = service::Application<PgPool>;

/// Starts the service: it runs until `shutdown` is cancelled or one of its tasks fails.
pub async fn build(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<Application> {
    let pool = postgres::open(&settings.postgres.database, &store::MIGRATIONS).await?;
    let data = web::Data::new(pool.clone());
    let mut app = Startup::postgres(settings.postgres.service, shutdown, pool.clone())
        .topics(saga::PUBLISHES, saga::CONSUMES)
        .await?
        .bind(routes::openapi(), data, routes::configure)?;

    app.spawn_outbox_relay()?;
    let saga_handler = SagaHandler::new(settings.account_wait);
    let handler = PgIdempotent::new(pool, SERVICE, saga_handler);
    let consumer = ConsumerRunner::new(app.kafka().clone(), SERVICE, saga::CONSUMES, handler)
        .retry_policy(account_wait::retry_policy(settings.account_wait))
        .with_producer(app.producer()?);
    app.spawn("consumer", |shutdown| async move {
        Ok(consumer.run(shutdown).await?)
    });
    Ok(app)
}
