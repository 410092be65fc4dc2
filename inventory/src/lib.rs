//! The inventory service (port 8003): products, their stock, and the reservations of the order
//! saga. It reserves stock all-or-nothing on `order.created`, sells it on `order.confirmed` and
//! releases it on `order.cancelled`; every change of a product's numbers is announced with
//! `stock.updated` (and `low.stock` when it crosses below its threshold).
//!
//! Its store is a port with two adapters ([`store`]): MongoDB (compose) and PostgreSQL (the
//! local stack), chosen by `INVENTORY_STORE_URL`. The logic they share is pure ([`domain`]).

pub mod configuration;
pub mod domain;
pub mod routes;
pub mod saga;
pub mod startup;
pub mod store;

pub const SERVICE: &str = "inventory";
