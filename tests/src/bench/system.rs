//! Where the running system is: the services' base URLs (`BENCH_HOST`, ports 8001–8005), the
//! repository, the stack's state directory (`STACK_DIR`), the saga deadline the services
//! were started with (`ORDER_TIMEOUT_SECS`) and the store inventory runs on.

use std::collections::BTreeMap;
use std::path::PathBuf;

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
