//! Builds the running service: database and migrations, topics, the HTTP server, the outbox
//! relay and the consumer, all stopped by one shutdown token.

use actix_web::web;
use shared_events::http::{bind, serve, Readiness};
use shared_events::postgres::PgIdempotent;
use shared_events::tasks::Tasks;
use shared_events::{CancellationToken, ConsumerRunner};
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

        let readiness = Readiness::new()
            .postgres(pool.clone())
            .kafka(&settings.kafka);
        let data = web::Data::new(pool.clone());
        let (port, server) = bind(
            &settings.http_host,
            settings.http_port,
            readiness,
            OPENAPI,
            move |cfg| {
                cfg.app_data(data.clone())
                    .route("/billing", web::post().to(routes::deposit))
                    .route("/billing/{customer_id}", web::get().to(routes::statement));
            },
        )?;

        let mut tasks = Tasks::new(shutdown.clone());
        tasks.spawn("http", serve(server, shutdown.clone()));

        tasks.spawn(
            "outbox relay",
            shared_events::postgres::relay(pool.clone(), &settings.kafka)?.run(shutdown.clone()),
        );

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
