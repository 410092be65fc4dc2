//! The billing service (port 8004): customer accounts in its PostgreSQL database, opened by
//! `customer.created`; charges for `order.created` (`order.paid` or `payment.failed`) and
//! refunds for `order.cancelled` (`payment.refunded`), each effect in one transaction with its
//! inbox record and its outgoing events.

pub mod configuration;
pub mod domain;
pub mod routes;
pub mod saga;
pub mod startup;
pub mod store;

/// The service's name: its consumer group, its events' `producer`, its database's default name.
pub const SERVICE: &str = "billing";
