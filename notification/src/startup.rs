//! Builds the running service: Redis, topics, the consumer, the delivery
//! dispatcher and the HTTP server, all stopped by one shutdown token.

use std::sync::Arc;

use actix_web::web;
use anyhow::Context;
use redis::aio::ConnectionManager;
use shared_events::http::{bind, serve, Readiness};
use shared_events::redis_store::RedisIdempotent;
use shared_events::tasks::Tasks;
use shared_events::{CancellationToken, ConsumerRunner};
use tokio::sync::Notify;

use crate::configuration::Settings;
use crate::consumer::{Kicking, NotificationHandler, SUBSCRIPTIONS};
use crate::delivery::{Dispatcher, LogNotifier, Notifier};
use crate::keys::Keys;
use crate::routes::{self, AppState};

const OPENAPI: &str = include_str!("../openapi.json");

pub struct Application {
    port: u16,
    conn: ConnectionManager,
    tasks: Tasks,
}

impl Application {
    /// The service with the default notifier, which writes each message to the log.
    pub async fn build(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<Self> {
        Self::build_with_notifier(settings, shutdown, Arc::new(LogNotifier)).await
    }

    pub async fn build_with_notifier(
        settings: Settings,
        shutdown: CancellationToken,
        notifier: Arc<dyn Notifier>,
    ) -> anyhow::Result<Self> {
        crate::metrics::register();
        let client = redis::Client::open(settings.redis_url.as_str())
            .with_context(|| format!("REDIS_URL {:?} is invalid", settings.redis_url))?;
        let conn = ConnectionManager::new(client)
            .await
            .with_context(|| format!("connecting to Redis at {}", settings.redis_url))?;
        shared_events::topics::ensure_topics(&settings.kafka, SUBSCRIPTIONS).await?;

        let keys = Keys::new(settings.key_prefix.clone());
        let kick = Arc::new(Notify::new());
        let ping_conn = conn.clone();
        let readiness = Readiness::new()
            .check("redis", move || {
                let mut conn = ping_conn.clone();
                async move {
                    redis::cmd("PING")
                        .query_async::<String>(&mut conn)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }
            })
            .kafka(&settings.kafka);
        let state = web::Data::new(AppState {
            conn: conn.clone(),
            keys: keys.clone(),
            kick: kick.clone(),
        });
        let (port, server) = bind(
            &settings.http_host,
            settings.http_port,
            readiness,
            OPENAPI,
            move |cfg| {
                cfg.app_data(state.clone())
                    .route("/notify", web::post().to(routes::notify))
                    .route("/notifications", web::get().to(routes::list_notifications))
                    .route("/stock-alerts", web::get().to(routes::stock_alerts));
            },
        )?;

        let mut tasks = Tasks::new(shutdown.clone());
        tasks.spawn("http", serve(server, shutdown.clone()));
        let handler = Kicking::new(
            RedisIdempotent::new(
                conn.clone(),
                keys.inbox_consumer(),
                settings.inbox_ttl,
                NotificationHandler::new(keys.clone()),
            ),
            kick.clone(),
        );
        let consumer = ConsumerRunner::new(
            settings.kafka.clone(),
            crate::SERVICE,
            SUBSCRIPTIONS,
            handler,
        );
        tasks.spawn("consumer", consumer.run(shutdown.clone()));
        let dispatcher = Dispatcher::new(conn.clone(), keys, notifier, kick);
        tasks.spawn("dispatcher", dispatcher.run(shutdown.clone()));
        Ok(Application { port, conn, tasks })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn redis(&self) -> &ConnectionManager {
        &self.conn
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.tasks.wait().await
    }
}
