//! HTTP routes of the customer service.

mod customers;

pub use customers::{create_customer, get_customer};
