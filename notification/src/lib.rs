//! The notification service (port 8005): turns customer and order events into customer
//! notifications (exactly one per order and kind), keeps low-stock alerts and the latest stock
//! numbers for operations, and delivers notifications through a [`delivery::Notifier`]. Its
//! store is Redis; it publishes no events.
//!
//! - [`saga`]: what each consumed event writes ([`saga::CONSUMES`]);
//! - [`store`]: Redis reads and write plans, and its keys ([`store::Keys`]);
//! - [`routes`]: the HTTP API and its OpenAPI document;
//! - [`delivery`]: the dispatcher that hands stored notifications to the notifier;
//! - [`domain`]: kinds, messages and validated manual input.

#![warn(missing_docs)]

pub mod configuration;
pub mod delivery;
pub mod domain;
pub mod metrics;
pub mod routes;
pub mod saga;
pub mod startup;
pub mod store;

/// The service's name: its consumer group, its log and metrics label.
pub const SERVICE: &str = "notification";
