//! Event contracts and the Kafka messaging runtime shared by every service, in three modules:
//!
//! - [`contracts`]: what the services agree on — [`Envelope`], [`EventType`], the payloads in
//!   [`contracts::events`], [`Money`], [`Name`], [`Sku`], [`TraceParent`];
//! - [`messaging`]: how events move — [`KafkaConfig`], topic provisioning, the producer, the
//!   transactional outbox and its relay ([`OutboxRelay`]), the idempotent consumer runner
//!   ([`ConsumerRunner`]), each store's atomic "effect + inbox (+ outbox)" step, the runtime's
//!   metrics and the dead-letter tool;
//! - [`kit`]: what each service's start-up, HTTP boundary and tests share.
//!
//! The types a service names most often are re-exported here.

#![warn(missing_docs)]

pub use saga_contracts as contracts;
pub mod kit;
pub use saga_messaging as messaging;

pub use contracts::envelope::{DecodeError, Envelope, SCHEMA_VERSION};
pub use contracts::events::{EventPayload, EventType};
pub use contracts::money::{Money, MoneyError};
pub use contracts::name::Name;
pub use contracts::sku::Sku;
pub use contracts::trace::TraceParent;
pub use kit::shutdown::CancellationToken;
pub use messaging::config::KafkaConfig;
pub use messaging::consumer::{ConsumerRunner, Handler, HandlerError, Outcome, RetryPolicy};
pub use messaging::outbox::{OutboxRelay, OutboxStore};
