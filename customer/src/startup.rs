//! Builds the running service on the shared start-up sequence
//! ([`saga_kit::service::Startup`]), in its one order: the store (opened and migrated),
//! the topics, the routes, then the tasks (the relay of its outbox; there is no consumer), all
//! stopped by one shutdown token.

use actix_web::web;
use saga_kit::service::{self, Startup};
use saga_kit::CancellationToken;
use saga_messaging::postgres;
use sqlx::PgPool;

use crate::configuration::Settings;
use crate::{routes, saga, store};

/// The running service; its store is the pool of its database.
pub type Application = service::Application<PgPool>;

/// Starts the service: it runs until `shutdown` is cancelled or one of its tasks fails.
pub async fn build(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<Application> {
    let pool = postgres::open(&settings.database, &store::MIGRATIONS).await?;
    let mut app = Startup::postgres(settings.service, shutdown, pool.clone())
        .topics(saga::PUBLISHES, saga::CONSUMES)
        .await?
        .bind(routes::openapi(), web::Data::new(pool), routes::configure)?;
    app.spawn_outbox_relay()?;
    Ok(app)
}
