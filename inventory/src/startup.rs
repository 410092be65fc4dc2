//! Builds the running service: the store (schema prepared), topics, the HTTP server, the outbox
//! relay and the saga consumer, all stopped by one shutdown token.

use std::sync::Arc;

use actix_web::web;
use shared_events::http::{bind, serve, Readiness};
use shared_events::tasks::Tasks;
use shared_events::{CancellationToken, ConsumerRunner};

use crate::configuration::Settings;
use crate::routes;
use crate::saga::{self, SagaHandler};
use crate::store::{self, InventoryStore};

const OPENAPI: &str = include_str!("../openapi.json");

pub struct Application {
    port: u16,
    store: Arc<dyn InventoryStore>,
    tasks: Tasks,
}

impl Application {
    pub async fn build(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let store = store::connect(&settings.store_url).await?;
        Application::build_with_store(settings, store, shutdown).await
    }

    /// On a store already opened (tests share one between instances).
    pub async fn build_with_store(
        settings: Settings,
        store: Arc<dyn InventoryStore>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        let topics: Vec<_> = saga::PRODUCES
            .iter()
            .chain(saga::CONSUMES)
            .copied()
            .collect();
        shared_events::topics::ensure_topics(&settings.kafka, &topics).await?;
        let producer = shared_events::producer::build_producer(&settings.kafka)?;

        let probe = store.clone();
        let readiness = Readiness::new()
            .check(store.kind(), move || {
                let store = probe.clone();
                async move { store.ping().await }
            })
            .kafka(&settings.kafka);
        let data: web::Data<dyn InventoryStore> = web::Data::from(store.clone());
        let (port, server) = bind(
            &settings.http_host,
            settings.http_port,
            readiness,
            OPENAPI,
            move |cfg| {
                cfg.app_data(data.clone());
                routes::configure(cfg);
            },
        )?;

        let mut tasks = Tasks::new(shutdown.clone());
        tasks.spawn("http", serve(server, shutdown.clone()));
        let relay = store.outbox_relay(producer, settings.kafka.clone(), shutdown.clone());
        tasks.spawn("outbox relay", relay);
        let consumer = ConsumerRunner::new(
            settings.kafka,
            crate::SERVICE,
            saga::CONSUMES,
            SagaHandler::new(store.clone()),
        );
        tasks.spawn("saga consumer", consumer.run(shutdown));
        Ok(Application { port, store, tasks })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn store(&self) -> &Arc<dyn InventoryStore> {
        &self.store
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.tasks.wait().await
    }
}
