//! Builds the running service on the shared start-up sequence
//! ([`saga_kit::service::Startup`]): its store (Redis), its topics, its routes, then the
//! consumer and the delivery dispatcher, all stopped by one shutdown token.

use std::sync::Arc;

use actix_web::web;
use redis::aio::ConnectionManager;
use saga_kit::service::{self, Startup};
use saga_kit::CancellationToken;
use saga_messaging::redis_store::{self, RedisIdempotent};
use saga_messaging::ConsumerRunner;
use tokio::sync::Notify;

use crate::configuration::Settings;
use crate::delivery::{Dispatcher, LogNotifier, Notifier};
use crate::routes::{self, AppState};
use crate::saga::{self, Kicking, SagaHandler};
use crate::store::Keys;
use crate::SERVICE;

/// The running service; its store is its Redis connection.
pub type Application = service::Application<ConnectionManager>;

/// The service with the default notifier, which writes each message to the log.
pub async fn build(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<Application> {
    build_with_notifier(settings, shutdown, Arc::new(LogNotifier)).await
}

/// The service delivering through `notifier` (the tests record deliveries with theirs).
pub async fn build_with_notifier(
    settings: Settings,
    shutdown: CancellationToken,
    notifier: Arc<dyn Notifier>,
) -> anyhow::Result<Application> {
    crate::metrics::register();
    let conn = redis_store::connect(&settings.redis).await?;
    let keys = Keys::new(settings.key_prefix.clone());
    let kick = Arc::new(Notify::new());
    let data = web::Data::new(AppState {
        conn: conn.clone(),
        keys: keys.clone(),
        kick: kick.clone(),
    });
    let mut app = Startup::redis(settings.service, shutdown, conn.clone())
        .topics(saga::PUBLISHES, saga::CONSUMES)
        .await?
        .bind(routes::openapi(), data, routes::configure)?;

    let handler = RedisIdempotent::new(
        conn.clone(),
        SERVICE,
        settings.inbox_ttl,
        SagaHandler::new(keys.clone()),
    )
    .under(keys.prefix());
    let handler = Kicking::new(handler, kick.clone());
    let consumer = ConsumerRunner::new(app.kafka().clone(), SERVICE, saga::CONSUMES, handler)
        .with_producer(app.producer()?);
    app.spawn("consumer", |shutdown| async move {
        Ok(consumer.run(shutdown).await?)
    });
    let dispatcher = Dispatcher::new(conn, keys, notifier, kick);
    app.spawn("dispatcher", |shutdown| dispatcher.run(shutdown));
    Ok(app)
}
