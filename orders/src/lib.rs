//! The orders service (port 8002): takes orders, prices them from its replica of the catalogue,
//! and runs the order saga — `PENDING` until stock and payment both succeed (`CONFIRMED`) or
//! either fails or the deadline passes (`CANCELLED`). Every state change and the event that
//! announces it are written in one transaction (outbox); every consumed event is applied once
//! (inbox).

pub mod configuration;
pub mod domain;
pub mod routes;
pub mod saga;
pub mod startup;
pub mod store;

/// The service's name: its consumer group, its events' `source`, its database's default name.
pub const SERVICE: &str = "orders";
