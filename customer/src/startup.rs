//! Builds the running service on the shared start-up sequence
//! ([`shared_events::service::Startup`]): its database, its topic, its routes, and the relay of
//! its outbox, all stopped by one shutdown token.

use actix_web::web;
use shared_events::service::{self, Startup};
use shared_events::{postgres, CancellationToken, EventType};
use sqlx::PgPool;

use crate::configuration::Settings;
use crate::{routes, store};

/// The running service; its store is the pool of its database.
pub type Application = service::Application<PgPool>;

pub async fn build(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<Application> {
    let pool = postgres::open(&settings.database_url, &store::MIGRATIONS).await?;
    let mut app = Startup::postgres(settings.service, shutdown, pool.clone())
        .topics(&[EventType::CustomerCreated], &[])
        .await?
        .bind(routes::openapi(), web::Data::new(pool), routes::configure)?;
    app.spawn_outbox_relay()?;
    Ok(app)
}
