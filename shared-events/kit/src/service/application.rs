//! A running service: the port it listens on, its store, and its long-running tasks under one
//! shutdown token ([`crate::tasks::Tasks`]).

use std::future::Future;

use std::time::Duration;

use rdkafka::producer::{FutureProducer, Producer};

use crate::service::{RunError, StartupError};
use crate::tasks::Tasks;
use saga_messaging::producer::build_producer;
use saga_messaging::KafkaConfig;

/// How long a stopping service waits for the broker to acknowledge what its producer still
/// holds.
const FLUSH_AT_STOP: Duration = Duration::from_secs(5);

/// What [`crate::service::Startup::bind`] gives: the HTTP server runs; the service adds its other
/// tasks with [`Application::spawn`], then runs them all with [`Application::run_until_stopped`].
pub struct Application<S> {
    /// The port the HTTP server is bound to (the one picked when `HTTP_PORT` is 0).
    port: u16,
    /// The service's store handle, for the tests that look inside the store.
    store: S,
    /// The broker settings, for the clients of the tasks still to spawn.
    kafka: KafkaConfig,
    /// Every task of the service, the HTTP server first.
    tasks: Tasks,
    /// The service's one Kafka producer, once a task asked for it ([`Application::producer`]).
    producer: Option<FutureProducer>,
}

impl<S> Application<S> {
    pub(crate) fn new(port: u16, store: S, kafka: KafkaConfig, tasks: Tasks) -> Self {
        Application {
            port,
            store,
            kafka,
            tasks,
            producer: None,
        }
    }

    /// The port the HTTP server listens on (the one picked when `HTTP_PORT` is 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The service's store handle.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The broker settings, for the clients of the tasks still to spawn.
    pub fn kafka(&self) -> &KafkaConfig {
        &self.kafka
    }

    /// The service's one Kafka producer: its outbox relay publishes with it, and its consumer's
    /// dead letters go through it too ([`saga_messaging::ConsumerRunner::with_producer`]). Built
    /// at the first call; each later one returns the same client. One producer instead of one
    /// per task is one librdkafka client fewer, with its threads and wake-ups. It is flushed
    /// when the service stops, after every task.
    pub fn producer(&mut self) -> Result<FutureProducer, StartupError> {
        if let Some(producer) = &self.producer {
            return Ok(producer.clone());
        }
        let producer = build_producer(&self.kafka)?;
        self.producer = Some(producer.clone());
        Ok(producer)
    }

    /// Step 4: starts a long-running task, handing it the service's shutdown token. If it
    /// fails, every other task is stopped and the service exits with its error.
    pub fn spawn<F, Fut>(&mut self, name: &str, task: F)
    where
        F: FnOnce(crate::CancellationToken) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let shutdown = self.tasks.shutdown().clone();
        self.tasks.spawn(name, task(shutdown));
    }

    /// Runs until the shutdown token is cancelled (every task then stops gracefully) or a task
    /// fails (the others are stopped, and its error returned); then flushes the service's
    /// producer, for up to 5 s.
    pub async fn run_until_stopped(self) -> Result<(), RunError> {
        let ended = self.tasks.wait().await;
        if let Some(producer) = self.producer {
            let _ = tokio::task::spawn_blocking(move || producer.flush(FLUSH_AT_STOP)).await;
        }
        ended
    }
}

#[cfg(feature = "postgres")]
impl Application<sqlx::PgPool> {
    /// Step 4 for a PostgreSQL service: the relay of its outbox
    /// ([`saga_messaging::postgres::relay`]) with the service's producer, as the task
    /// `outbox relay`.
    pub fn spawn_outbox_relay(&mut self) -> Result<(), StartupError> {
        let producer = self.producer()?;
        let relay = saga_messaging::postgres::relay(self.store.clone(), producer, &self.kafka);
        self.spawn("outbox relay", |shutdown| async move {
            Ok(relay.run(shutdown).await?)
        });
        Ok(())
    }
}
