//! Validated customer data: a value of these types is valid by construction.

mod email;

pub use email::Email;
pub use shared_events::Money;

/// A customer's name: trimmed, not empty, at most 200 characters, no control characters.
pub type CustomerName = shared_events::Name;

/// A customer to register, parsed from a request.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub name: CustomerName,
    pub email: Email,
    pub credit_limit: Money,
}
