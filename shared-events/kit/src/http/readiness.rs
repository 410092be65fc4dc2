//! [`Readiness`]: what `GET /ready` probes — the service's store and the broker — each with a
//! name that its report uses.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use saga_messaging::config::KafkaConfig;

type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type Check = Arc<dyn Fn() -> CheckFuture + Send + Sync>;

/// What `/ready` checks: named probes of the service's store and the broker.
#[derive(Clone, Default)]
pub struct Readiness {
    /// Each probe with the name `/ready` reports it under, in the order they run.
    pub(super) checks: Vec<(&'static str, Check)>,
}

impl Readiness {
    /// No probes yet.
    pub fn new() -> Self {
        Readiness::default()
    }

    /// Adds a probe, reported as `name`.
    pub fn check<F, Fut>(mut self, name: &'static str, probe: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.checks
            .push((name, Arc::new(move || Box::pin(probe()))));
        self
    }

    /// Probes the broker by fetching cluster metadata.
    pub fn kafka(self, config: &KafkaConfig) -> Self {
        let config = config.clone();
        self.check("kafka", move || {
            let config = config.clone();
            async move { kafka_reachable(&config).await }
        })
    }

    /// Probes PostgreSQL by reading the outbox's replication slot: the server answers, the
    /// slot is there and has lost nothing, and its relay is less than
    /// [`LAG_LIMIT_BYTES`](saga_messaging::postgres::LAG_LIMIT_BYTES) behind
    /// ([`outbox_ready`](saga_messaging::postgres::outbox_ready)).
    #[cfg(feature = "postgres")]
    pub fn postgres(self, pool: sqlx::PgPool) -> Self {
        self.check("postgres", move || {
            let pool = pool.clone();
            async move { saga_messaging::postgres::outbox_ready(&pool).await }
        })
    }

    /// Probes Redis with `PING`.
    #[cfg(feature = "redis")]
    pub fn redis(self, conn: redis::aio::ConnectionManager) -> Self {
        self.check("redis", move || {
            let mut conn = conn.clone();
            async move {
                redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
    }

    /// Runs every probe (each for at most three seconds): whether all passed, and each one's
    /// result by name.
    pub(super) async fn run(&self) -> (bool, serde_json::Map<String, serde_json::Value>) {
        let mut all_ok = true;
        let mut report = serde_json::Map::new();
        for (name, probe) in &self.checks {
            let result = tokio::time::timeout(Duration::from_secs(3), probe())
                .await
                .unwrap_or_else(|_| Err("timed out".into()));
            all_ok &= result.is_ok();
            report.insert(
                (*name).to_owned(),
                match result {
                    Ok(()) => "ok".into(),
                    Err(e) => format!("error: {e}").into(),
                },
            );
        }
        (all_ok, report)
    }
}

/// Whether the broker answers a metadata request within two seconds.
pub async fn kafka_reachable(config: &KafkaConfig) -> Result<(), String> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let config = config.clone();
    tokio::task::spawn_blocking(move || {
        let client: BaseConsumer = config.admin_config().create().map_err(|e| e.to_string())?;
        client
            .fetch_metadata(None, Duration::from_secs(2))
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}
