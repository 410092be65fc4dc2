//! What the cross-cutting suites of `tests/tests/` and the saga benchmark (`saga-bench`) share:
//! a client of the five public HTTP APIs ([`client`]), the actions a scenario takes and records
//! ([`actions`]), the SPEC §5 invariant checker over the public APIs alone ([`checker`]),
//! the mixed workload of customers and SKUs, some bound to fail ([`workload`]), the
//! benchmark's loops, CPU sampling and report ([`bench`]), the URLs of inventory's MongoDB
//! store ([`mongodb`]), the least-privilege probes of the broker ([`privilege`]), Redis's
//! refusals of notification's credentials outside their rights ([`redis_rights`]), and
//! PostgreSQL's and MongoDB's refusals of a service's role or user ([`pg_refusals`],
//! [`mongodb_rights`]).

pub mod actions;
pub mod bench;
pub mod checker;
pub mod client;
pub mod mongodb;
pub mod mongodb_rights;
pub mod pg_refusals;
pub mod privilege;
pub mod redis_rights;
pub mod service;
pub mod workload;

/// A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding an ephemeral port")
        .port()
}

/// The operator's Kafka settings (the local stack's credentials) for the brokers `brokers`: a
/// broker of a test's own shares the stack's CA and SCRAM credentials.
pub fn operator_kafka(brokers: &str) -> saga_messaging::KafkaConfig {
    saga_messaging::KafkaConfig {
        brokers: brokers.to_owned(),
        ..saga_messaging::KafkaConfig::local("operator")
    }
}

/// Runs `scripts/stack <args>` for a broker of a test's own: its state in `dir` (`STACK_DIR`),
/// listening on `port` with its KRaft controller on `controller_port`. Returns whether it
/// succeeded and what it printed (stdout, then stderr).
pub fn scripts_stack(
    dir: &std::path::Path,
    port: u16,
    controller_port: u16,
    args: &[&str],
) -> (bool, String) {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository");
    let out = std::process::Command::new(repo.join("scripts/stack"))
        .args(args)
        .env("STACK_DIR", dir)
        .env("STACK_BROKER_PORT", port.to_string())
        .env("STACK_CONTROLLER_PORT", controller_port.to_string())
        .output()
        .expect("running scripts/stack");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
