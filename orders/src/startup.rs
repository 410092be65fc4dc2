//! Builds the running service: database and migrations, topics, then the HTTP server, the
//! outbox relay, the event consumer and the deadline sweep, all stopped by one shutdown token.

use actix_web::web;
use shared_events::http::{bind, serve, Readiness};
use shared_events::postgres::PgIdempotent;
use shared_events::tasks::Tasks;
use shared_events::{CancellationToken, ConsumerRunner, EventType};
use sqlx::PgPool;

use crate::configuration::Settings;
use crate::consumer::{OrdersHandler, SUBSCRIPTIONS};
use crate::{deadline, routes, SERVICE};

const OPENAPI: &str = include_str!("../openapi.json");

/// The topics the service publishes to.
const PUBLISHES: &[EventType] = &[
    EventType::OrderCreated,
    EventType::OrderConfirmed,
    EventType::OrderCancelled,
];

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
        let topics: Vec<EventType> = PUBLISHES.iter().chain(SUBSCRIPTIONS).copied().collect();
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
                    .route("/orders", web::post().to(routes::create_order))
                    .route("/orders", web::get().to(routes::list_orders))
                    .route("/orders/{id}", web::get().to(routes::get_order));
            },
        )?;

        let mut tasks = Tasks::new(shutdown.clone());
        tasks.spawn("http", serve(server, shutdown.clone()));

        tasks.spawn(
            "outbox relay",
            shared_events::postgres::relay(pool.clone(), &settings.kafka)?.run(shutdown.clone()),
        );

        let handler = PgIdempotent::new(pool.clone(), SERVICE, OrdersHandler);
        let consumer = ConsumerRunner::new(settings.kafka.clone(), SERVICE, SUBSCRIPTIONS, handler);
        tasks.spawn("consumer", consumer.run(shutdown.clone()));

        tasks.spawn(
            "deadline",
            deadline::run(
                pool.clone(),
                settings.order_timeout,
                settings.deadline_poll,
                shutdown.clone(),
            ),
        );
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
