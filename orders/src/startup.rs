//! Builds the running service on the shared start-up sequence
//! ([`shared_events::service::Startup`]): its database, its topics, its routes (with the saga
//! feed's state), then the relay of its outbox, the event consumer and the deadline sweep, all
//! stopped by one shutdown token.

use actix_web::web;
use shared_events::postgres::{self, PgIdempotent};
use shared_events::service::{self, Startup};
use shared_events::{CancellationToken, ConsumerRunner, EventType};
use sqlx::PgPool;

use crate::configuration::Settings;
use crate::consumer::{OrdersHandler, SUBSCRIPTIONS};
use crate::{deadline, routes, store, SERVICE};

/// The running service; its store is the pool of its database.
pub type Application = service::Application<PgPool>;

/// The topics the service publishes to.
const PUBLISHES: &[EventType] = &[
    EventType::OrderCreated,
    EventType::OrderConfirmed,
    EventType::OrderCancelled,
];

pub async fn build(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<Application> {
    let pool = postgres::open(&settings.postgres.database_url, &store::MIGRATIONS).await?;
    let data = web::Data::new(pool.clone());
    let feed = web::Data::new(routes::Feed::new(shutdown.clone()));
    let mut app = Startup::postgres(settings.postgres.service, shutdown, pool.clone())
        .topics(PUBLISHES, SUBSCRIPTIONS)
        .await?
        .bind(
            routes::openapi(),
            data,
            move |r: &mut shared_events::http::Routes| {
                r.app_data(feed.clone());
                routes::configure(r);
            },
        )?;

    app.spawn_outbox_relay()?;
    let handler = PgIdempotent::new(pool.clone(), SERVICE, OrdersHandler);
    let consumer = ConsumerRunner::new(app.kafka().clone(), SERVICE, SUBSCRIPTIONS, handler);
    app.spawn("consumer", |shutdown| consumer.run(shutdown));
    let (timeout, poll) = (settings.order_timeout, settings.deadline_poll);
    app.spawn("deadline", |shutdown| {
        deadline::run(pool, timeout, poll, shutdown)
    });
    Ok(app)
}
