//! Event contracts and the Kafka messaging runtime shared by every service.
//!
//! - Contracts: [`Envelope`], [`EventType`], the payloads in [`events`], [`Money`], [`Name`].
//! - Runtime: [`KafkaConfig`], topic provisioning ([`topics`]), the transactional outbox and
//!   its relay ([`outbox`]), the idempotent consumer runner ([`consumer`]), and the atomic
//!   "effect + inbox (+ outbox)" step for each store ([`postgres`], [`redis_store`], [`mongo`]).
//! - Operations: [`dlq_tool`], the library of the `dlq` binary (list, show and redrive dead
//!   letters).
//! - Services: the settings and the start-up sequence they share ([`service`]), and their HTTP
//!   plumbing ([`http`]).

pub mod config;
pub mod consumer;
pub mod dlq_tool;
pub mod envelope;
pub mod events;
#[cfg(feature = "http")]
pub mod http;
pub mod metrics;
pub mod money;
pub mod name;
pub mod outbox;
pub mod producer;
pub mod service;
pub mod shutdown;
pub mod sku;
pub mod tasks;
pub mod telemetry;
pub mod topics;
pub mod trace;

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
pub use envelope::{DecodeError, Envelope, SCHEMA_VERSION};
pub use events::{EventPayload, EventType};
pub use money::{Money, MoneyError};
pub use name::Name;
pub use outbox::{OutboxRelay, OutboxStore};
pub use shutdown::CancellationToken;
pub use sku::Sku;
pub use trace::TraceParent;
