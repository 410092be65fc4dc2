//! Builds the running service on the shared start-up sequence
//! ([`saga_kit::service::Startup`]): its store (PostgreSQL or MongoDB), its topics, its
//! routes, then the relay of its outbox and the saga consumer, all stopped by one shutdown
//! token.

use std::sync::Arc;

use actix_web::web;
use saga_kit::service::{self, Startup};
use saga_kit::CancellationToken;
use saga_messaging::ConsumerRunner;

use crate::configuration::{Settings, StoreSettings};
use crate::saga::{self, SagaHandler};
use crate::store::mongo::MongoStore;
use crate::store::postgres::PgStore;
use crate::store::InventoryStore;
use crate::{routes, SERVICE};

/// The running service; its store is the one `INVENTORY_STORE_URL` names.
pub type Application = service::Application<Arc<dyn InventoryStore>>;

pub async fn build(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<Application> {
    let store = open_store(&settings.store).await?;
    tracing::info!(store = store.kind(), "inventory store opened");
    build_with_store(settings, store, shutdown).await
}

/// Opens the store `settings` name (`INVENTORY_STORE_URL`), preparing its schema (tables or
/// collections and indexes).
pub async fn open_store(settings: &StoreSettings) -> anyhow::Result<Arc<dyn InventoryStore>> {
    Ok(match settings {
        StoreSettings::Postgres(database) => Arc::new(PgStore::connect(database).await?),
        StoreSettings::Mongo { url, password } => {
            Arc::new(MongoStore::connect(url, password.clone()).await?)
        }
    })
}

/// On a store already opened (tests share one between instances).
pub async fn build_with_store(
    settings: Settings,
    store: Arc<dyn InventoryStore>,
    shutdown: CancellationToken,
) -> anyhow::Result<Application> {
    let probe = store.clone();
    let data = web::Data::from(store.clone());
    let mut app = Startup::new(settings.service, shutdown, store.clone())
        .ready_when(store.kind(), move || {
            let store = probe.clone();
            async move { store.ping().await }
        })
        .topics(saga::PUBLISHES, saga::CONSUMES)
        .await?
        .bind(routes::openapi(), data, routes::configure)?;

    let (producer, kafka) = (app.producer()?, app.kafka().clone());
    app.spawn("outbox relay", store.outbox_relay(producer, kafka));
    let handler = SagaHandler::new(store);
    let consumer = ConsumerRunner::new(app.kafka().clone(), SERVICE, saga::CONSUMES, handler)
        .with_producer(app.producer()?);
    app.spawn("saga consumer", |shutdown| async move {
        Ok(consumer.run(shutdown).await?)
    });
    Ok(app)
}
