//! The customer service (port 8001): registers customers in its PostgreSQL database and
//! announces each one with `customer.created`, written to the outbox in the same transaction.

pub mod configuration;
pub mod domain;
pub mod routes;
pub mod saga;
pub mod startup;
pub mod store;

/// The service's name: its consumer group, its events' `producer`, its database's default name.
pub const SERVICE: &str = "customer";
