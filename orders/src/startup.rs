//! Builds the running service on the shared start-up sequence
//! ([`saga_kit::service::Startup`]), in billing's order: its database, its topics, its
//! routes (with the saga feed's state, its tickets and the console's identity provider), then
//! the relay of its outbox, the event consumer and the deadline sweep, all stopped by one
//! shutdown token.

use actix_web::web;
use saga_kit::http::Routes;
use saga_kit::service::{self, Startup};
use saga_kit::CancellationToken;
use saga_messaging::postgres::{self, PgIdempotent};
use saga_messaging::ConsumerRunner;
use sqlx::PgPool;

use crate::configuration::Settings;
use crate::saga::{self, deadline, SagaHandler};
use crate::{routes, store, SERVICE};

/// The running service; its store is the pool of its database.
pub type Application = service::Application<PgPool>;

/// Opens the store, creates the topics, binds the HTTP server and spawns the tasks.
pub async fn build(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<Application> {
    let pool = postgres::open(&settings.postgres.database, &store::MIGRATIONS).await?;
    let data = web::Data::new(pool.clone());
    // The feed's streams end with the service, so they hold its shutdown token.
    let feed = web::Data::new(routes::Feed::new(shutdown.clone(), settings.stream_max_age));
    let tickets = web::Data::new(routes::Tickets::new());
    let console = web::Data::new(routes::Console::new(&settings.postgres.service.auth));
    let mut app = Startup::postgres(settings.postgres.service, shutdown, pool.clone())
        .topics(saga::PUBLISHES, saga::CONSUMES)
        .await?
        .bind(routes::openapi(), data, move |r: &mut Routes| {
            routes::configure(
                r.app_data(feed.clone())
                    .app_data(tickets.clone())
                    .app_data(console.clone()),
            )
        })?;

    app.spawn_outbox_relay()?;
    let handler = PgIdempotent::new(pool.clone(), SERVICE, SagaHandler);
    let consumer = ConsumerRunner::new(app.kafka().clone(), SERVICE, saga::CONSUMES, handler)
        .with_producer(app.producer()?);
    app.spawn("consumer", |shutdown| async move {
        Ok(consumer.run(shutdown).await?)
    });
    let (timeout, poll) = (settings.order_timeout, settings.deadline_poll);
    app.spawn("deadline", |shutdown| {
        deadline::run(pool, timeout, poll, shutdown)
    });
    Ok(app)
}
