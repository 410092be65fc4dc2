//! The notification service (port 8005): turns customer and order events into customer
//! notifications (exactly one per order and kind), keeps low-stock alerts and the latest stock
//! numbers for operations, and delivers notifications through a [`delivery::Notifier`]. Its
//! store is Redis; it publishes no events.

pub mod configuration;
pub mod consumer;
pub mod delivery;
pub mod domain;
pub mod keys;
pub mod metrics;
pub mod routes;
pub mod startup;
pub mod store;

pub const SERVICE: &str = "notification";
