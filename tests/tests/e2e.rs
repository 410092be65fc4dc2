//! The end-to-end saga suite (issue 6): the five services as real OS processes against the local
//! stack (PostgreSQL, Redis, the broker), each test with its own databases, topic namespace and
//! Redis prefix, every scenario ending with the invariant checker of SPEC §5.
//!
//! Run one scenario: `cargo test -p saga-tests --test e2e s01_happy_path -- --nocapture`.
//! Logs: `target/e2e-logs/<run-id>/<service>.log` (the tails are printed when a test fails).
//! Knobs: `E2E_BURST` (scenarios 7, 8 and 12–18), `E2E_LOAD_ORDERS` (scenario 11), `E2E_RUST_LOG`
//! (the services' `RUST_LOG`), `E2E_LOG_TAIL` (lines printed per service on failure),
//! `E2E_SKIP_BUILD=1` (use the service binaries as built). Scenario 16 runs three Kafka nodes
//! of its own from the jars `scripts/stack` fetched; 17 and 18 create network namespaces, so
//! they need root.
//!
//! Every call carries a bearer token of the stack's Keycloak (SPEC §7): the tools' client
//! saga-tools's (an operator) unless a scenario calls as a customer; scenario 20 runs a saga as
//! alice, with bob refused on her behalf.
//!
//! Scenarios `m01`–`m08` run inventory on MongoDB: the stack's SecantusDB (`MONGODB_URL`
//! to use another replica set), or, in m08, one of the test's own. Knobs: `E2E_MONGO_BURST`,
//! `E2E_MONGO_RATE`, `E2E_MONGO_HOT` (see `e2e/mongo.rs`).

use saga_tests::{actions, checker, client, workload};

#[path = "e2e/basic.rs"]
mod basic;
#[path = "e2e/cluster.rs"]
mod cluster;
#[path = "e2e/faults.rs"]
mod faults;
#[path = "e2e/groups.rs"]
mod groups;
#[path = "e2e/harness.rs"]
mod harness;
#[path = "e2e/identity.rs"]
mod identity;
#[path = "e2e/kraft.rs"]
mod kraft;
#[path = "e2e/load.rs"]
mod load;
#[path = "e2e/mongo.rs"]
mod mongo;
#[path = "e2e/netns.rs"]
mod netns;
#[path = "e2e/outages.rs"]
mod outages;
#[path = "e2e/partition.rs"]
mod partition;
#[path = "e2e/privilege.rs"]
mod privilege;
#[path = "e2e/relay.rs"]
mod relay;
#[path = "e2e/secantus.rs"]
mod secantus;
#[path = "e2e/stores.rs"]
mod stores;
