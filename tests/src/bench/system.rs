//! Where the running system is: the services' base URLs (`BENCH_HOST`, ports 8001–8005), the
//! repository, the stack's state directory (`STACK_DIR`) and the saga deadline the services
//! were started with (`ORDER_TIMEOUT_SECS`).

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
