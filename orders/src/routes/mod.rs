//! HTTP routes of the orders service.

mod orders;

pub use orders::{create_order, get_order, list_orders};
