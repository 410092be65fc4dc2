//! HTTP routes of the billing service.

mod billing;

pub use billing::{deposit, statement};
