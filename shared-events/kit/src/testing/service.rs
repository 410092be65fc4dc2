//! A service under test: started in the test's runtime on a free port of the loopback
//! interface (settings from [`crate::service::ServiceSettings::loopback`], with a fresh
//! database and [`saga_messaging::testing::isolated_kafka`]), reached through a [`TestClient`], and
//! stopped when dropped.

use std::future::Future;
use std::ops::Deref;
use std::sync::OnceLock;

use rdkafka::consumer::StreamConsumer;
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::producer::FutureProducer;
use sqlx::PgPool;
use tokio::task::JoinHandle;

use crate::service::Application;
use saga_contracts::services::ServiceEvents;
use saga_messaging::testing::{in_publish_order, read_to_end, reader_of, wait_settled, PATIENCE};

use crate::testing::TestClient;
use crate::CancellationToken;
use saga_contracts::{Envelope, EventType};
use saga_messaging::KafkaConfig;

/// A running service and the means to talk to it; it derefs to its [`TestClient`].
pub struct TestService<S> {
    /// Requests to the service's HTTP API.
    pub client: TestClient,
    /// The operator's broker settings in the test's topic namespace: to publish what other
    /// services would, and to read what this one emits (the service itself runs as its own
    /// principal, which may do neither).
    pub kafka: KafkaConfig,
    /// The service's store handle, for the tests that look inside the store.
    pub store: S,
    /// Cancelled on drop, so that the service stops gracefully with the test.
    pub shutdown: CancellationToken,
    /// The task running the service; aborting it is a crash ([`TestService::crash`]).
    task: Option<JoinHandle<Result<(), crate::service::RunError>>>,
    /// A producer for [`TestService::publish`], made on first use.
    producer: OnceLock<FutureProducer>,
}

impl<S: Clone + Send + 'static> TestService<S> {
    /// Starts the service that `build` makes on a shutdown token of its own; `kafka` is the
    /// broker configuration of its settings (its namespace is kept, with the operator's
    /// principal, for the test's own clients). Panics if it does not start. Logs go to the test's
    /// output when `RUST_LOG` is set.
    pub async fn start<F, Fut>(kafka: KafkaConfig, build: F) -> TestService<S>
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = anyhow::Result<Application<S>>>,
    {
        if std::env::var_os("RUST_LOG").is_some() {
            let env = saga_messaging::env::Env::process();
            let log = crate::telemetry::LogSettings::read(&env).expect("RUST_LOG and LOG_FORMAT");
            crate::telemetry::init("test", &log);
        }
        let shutdown = CancellationToken::new();
        let app = build(shutdown.clone())
            .await
            .expect("the service starts; is the stack up? (scripts/stack up)");
        let client = TestClient::new(app.port());
        let store = app.store().clone();
        let task = tokio::spawn(app.run_until_stopped());
        TestService {
            client,
            kafka: kafka.as_local_principal("operator"),
            store,
            shutdown,
            task: Some(task),
            producer: OnceLock::new(),
        }
    }
}

impl<S> TestService<S> {
    /// The topic of `event_type` in the test's namespace.
    pub fn topic(&self, event_type: EventType) -> String {
        self.kafka.topic(event_type)
    }

    /// Publishes `event` into its topic, as another service's outbox would.
    pub async fn publish(&self, event: &Envelope) {
        let producer = self.producer.get_or_init(|| {
            saga_messaging::producer::build_producer(&self.kafka).expect("creating a test producer")
        });
        saga_messaging::producer::publish(producer, &self.kafka, event)
            .await
            .expect("publishing a test event");
    }

    /// A reader of the topics of `event_types`, from their beginning.
    pub fn reader(&self, event_types: &[EventType]) -> StreamConsumer {
        reader_of(&self.kafka, event_types)
    }

    /// Stops the service abruptly: its tasks are dropped mid-flight, nothing is flushed or
    /// committed on the way out.
    pub fn crash(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl TestService<PgPool> {
    /// Waits until the service, `service` in the saga, has nothing more to emit: its consumer
    /// group has committed every event on its topics, and its relay has published everything
    /// committed ([`wait_settled`]).
    pub async fn settled(&self, service: &ServiceEvents) {
        wait_settled(&self.kafka, service, &self.store, PATIENCE).await
    }

    /// Once the service has [settled](Self::settled), reads `reader` to the end of its topics
    /// ([`read_to_end`]): with what it read before, everything the service emitted there.
    pub async fn read_settled(
        &self,
        service: &ServiceEvents,
        reader: &StreamConsumer,
    ) -> Vec<OwnedMessage> {
        self.settled(service).await;
        read_to_end(reader, PATIENCE).await
    }

    /// Everything the service, `service` in the saga, has emitted so far, in the order it
    /// published it ([`in_publish_order`]): once it has [settled](Self::settled), its topics
    /// read from their beginning to their end.
    pub async fn emitted(&self, service: &ServiceEvents) -> Vec<Envelope> {
        let reader = self.reader(service.publishes);
        in_publish_order(self.read_settled(service, &reader).await)
            .iter()
            .map(|m| Envelope::decode(m.payload().expect("a payload")).expect("a valid envelope"))
            .collect()
    }
}

impl<S> Deref for TestService<S> {
    type Target = TestClient;

    fn deref(&self) -> &TestClient {
        &self.client
    }
}

impl<S> Drop for TestService<S> {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
