//! What the cross-cutting suites of `tests/tests/` and the saga benchmark (`saga-bench`) share:
//! a client of the five public HTTP APIs ([`client`]), the actions a scenario takes and records
//! ([`actions`]), the SPEC §5 invariant checker over the public APIs alone ([`checker`]), and
//! the mixed workload of customers and SKUs, some bound to fail ([`workload`]), and the
//! benchmark's loops, CPU sampling and report ([`bench`]).

pub mod actions;
pub mod bench;
pub mod checker;
pub mod client;
pub mod service;
pub mod workload;

/// A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding an ephemeral port")
        .port()
}
