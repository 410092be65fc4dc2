//! Builds the running service: database and migrations, topics, the HTTP server, the outbox
//! relay and the consumer, all stopped by one shutdown token.

use std::net::TcpListener;

use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use shared_events::http::{configure_common, not_found, observe, serve, Readiness};
use shared_events::postgres::{PgIdempotent, PgOutboxStore};
use shared_events::tasks::Tasks;
use shared_events::{CancellationToken, ConsumerRunner, OutboxRelay};
use sqlx::PgPool;

use crate::configuration::Settings;
use crate::routes;
use crate::saga::{self, account_wait, Billing};

const OPENAPI: &str = include_str!("../openapi.json");

pub struct Application {
    port: u16,
    pool: PgPool,
    tasks: Tasks,
}

impl Application {
    pub async fn build(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let pool = shared_events::postgres::connect(&settings.database_url).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        shared_events::postgres::migrate(&pool).await?;
        let topics: Vec<_> = [saga::SUBSCRIPTIONS, saga::EMITTED].concat();
        shared_events::topics::ensure_topics(&settings.kafka, &topics).await?;
        let producer = shared_events::producer::build_producer(&settings.kafka)?;

        let listener = TcpListener::bind((settings.http_host.as_str(), settings.http_port))?;
        let port = listener.local_addr()?.port();
        let readiness = Readiness::new()
            .postgres(pool.clone())
            .kafka(&settings.kafka);
        let data = web::Data::new(pool.clone());
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(observe))
                .app_data(data.clone())
                .configure(|cfg| configure_common(cfg, readiness.clone(), OPENAPI))
                .route("/billing", web::post().to(routes::deposit))
                .route("/billing/{customer_id}", web::get().to(routes::statement))
                .default_service(web::to(not_found))
        })
        .listen(listener)?
        .disable_signals()
        .run();

        let mut tasks = Tasks::new(shutdown.clone());
        tasks.spawn("http", serve(server, shutdown.clone()));

        let relay = OutboxRelay::new(
            PgOutboxStore::new(pool.clone()),
            producer,
            settings.kafka.clone(),
        );
        let relay_shutdown = shutdown.clone();
        tasks.spawn("outbox relay", async move {
            relay.run(relay_shutdown).await;
            Ok(())
        });

        let billing = Billing::new(pool.clone(), settings.account_wait);
        let consumer = ConsumerRunner::new(
            settings.kafka.clone(),
            crate::SERVICE,
            saga::SUBSCRIPTIONS,
            PgIdempotent::new(pool.clone(), crate::SERVICE, billing),
        )
        .retry_policy(account_wait::retry_policy(settings.account_wait));
        tasks.spawn("consumer", consumer.run(shutdown.clone()));

        Ok(Application { port, pool, tasks })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.tasks.wait().await
    }
}
