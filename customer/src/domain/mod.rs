//! Validated customer data: a value of these types is valid by construction.

mod email;
mod name;

pub use email::Email;
pub use name::CustomerName;
pub use shared_events::Money;

/// A customer to register, parsed from a request.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub name: CustomerName,
    pub email: Email,
    pub credit_limit: Money,
}
