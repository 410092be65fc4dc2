//! The customer service's part of the order saga: it starts a customer's story and consumes
//! nothing.
//!
//! - (no event consumed) → `customer.created`, which [`crate::store::customers::insert`]
//!   builds and enqueues in the transaction that registers the customer; billing opens the
//!   account from it, orders and notification learn the customer.
//!
//! There is no consumer, so there is no `SagaHandler` here and no dispatch `match`: with
//! [`CONSUMES`] empty, start-up spawns only the outbox relay.

use saga_contracts::EventType;

/// The events the customer service consumes: none.
pub const CONSUMES: &[EventType] = saga_contracts::services::CUSTOMER.consumes;

/// The events the customer service publishes (through its outbox).
pub const PUBLISHES: &[EventType] = saga_contracts::services::CUSTOMER.publishes;
