//! Where the running system is: the services' base URLs (`BENCH_HOST`, ports 8001–8005), its
//! broker as the operator (`KAFKA_*`), the repository, the stack's state directory (`STACK_DIR`), the saga deadline the services
//! were started with (`ORDER_TIMEOUT_SECS`) and the store inventory runs on.

use std::collections::BTreeMap;
use std::path::PathBuf;

use saga_messaging::KafkaConfig;

use crate::client::Api;
use crate::service::Service;

/// A client of the five services on `BENCH_HOST` (127.0.0.1), at ports 8001–8005.
pub fn api() -> Api {
    let host = std::env::var("BENCH_HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let base: BTreeMap<Service, String> = Service::ALL
        .iter()
        .zip(8001..)
        .map(|(&s, port)| (s, format!("http://{host}:{port}")))
        .collect();
    Api::new(base)
}

/// The running system's broker as the operator (`KAFKA_*`, by default the local stack's):
/// where the ceilings are measured and whose consumer groups the checker waits on.
pub fn kafka() -> Result<KafkaConfig, String> {
    KafkaConfig::from_env("operator").map_err(|e| format!("the KAFKA_* settings: {e}"))
}

/// The repository the benchmark was built in.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository")
        .to_owned()
}

/// The stack's state directory: `STACK_DIR`, or `<repo>/.stack`.
pub fn stack_dir() -> PathBuf {
    std::env::var_os("STACK_DIR").map_or_else(|| repo().join(".stack"), PathBuf::from)
}

/// The services' saga deadline in seconds: `ORDER_TIMEOUT_SECS`, or 30.
pub fn order_timeout() -> f64 {
    std::env::var("ORDER_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30.0)
}

/// The store the running inventory keeps its data on, `postgres` or `mongodb`: the store check
/// its `/ready` reports (besides `kafka`). `None` if it does not answer or names neither.
pub async fn inventory_store(api: &Api) -> Option<String> {
    let (_, body) = api.readiness(Service::Inventory).await?;
    let checks = body["checks"].as_object()?;
    ["mongodb", "postgres"]
        .into_iter()
        .find(|store| checks.contains_key(*store))
        .map(str::to_owned)
}
