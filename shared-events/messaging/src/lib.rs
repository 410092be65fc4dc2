//! The messaging runtime: how an event gets from one service's store to another's, once.
//!
//! It depends on the contracts (`saga-contracts`) and on the broker and store clients
//! (rdkafka; sqlx, mongodb and redis behind the features of the same names), never on the
//! service kit (`saga-kit`) or the services above it. The kit, the `dlq` tool and the services
//! build on it.
//!
//! - [`env`]: settings from the environment ([`env_or`](env::env_or)) and why one cannot be
//!   used ([`ConfigError`](env::ConfigError));
//! - [`config`]: the Kafka settings ([`KafkaConfig`](config::KafkaConfig));
//! - [`secret`]: passwords from the environment or a file, and where the local stack keeps them;
//! - [`tls`]: the process's TLS crypto provider, chosen once;
//! - [`topics`]: the topics a service uses, and their dead-letter topics;
//! - [`acl`], [`acl_admin`]: each service's access rules on the broker, from the saga's table;
//! - [`provision`]: the operator's step that creates the topics and the rules;
//! - [`producer`]: the one producer and the one way an event becomes a record;
//! - [`outbox`]: the transactional outbox and its relay;
//! - [`consumer`]: the idempotent consumer runner, its retries and its dead letters;
//! - [`postgres`], [`redis_store`], [`mongo`]: the atomic "effect + inbox (+ outbox)" step of
//!   each store (features `postgres`, `redis`, `mongodb`);
//! - [`metrics`]: the runtime's Prometheus metrics;
//! - [`testing`] (feature `testing`): fixtures for integration tests on the real local stack —
//!   a fresh database, a topic namespace of a test's own, waits on conditions.
//!
//! The binary `provision` (`src/bin/provision.rs`) is the operator's step that creates the
//! topics and each service's access rules.

#![warn(missing_docs)]

pub mod acl;
pub mod acl_admin;
pub mod config;
pub mod consumer;
pub mod env;
pub mod metrics;
pub mod outbox;
pub mod producer;
pub mod provision;
pub mod secret;
pub mod tls;
pub mod topics;

#[cfg(feature = "mongodb")]
pub mod mongo;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "redis")]
pub mod redis_store;
#[cfg(feature = "testing")]
pub mod testing;

pub use config::KafkaConfig;
pub use consumer::{ConsumerRunner, Handler, HandlerError, Outcome, RetryPolicy};
pub use outbox::{OutboxRelay, OutboxStore};
/// What stops the runner and the relay: cancel it and they finish what is in hand and return.
pub use tokio_util::sync::CancellationToken;
