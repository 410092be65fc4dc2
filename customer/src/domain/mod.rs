//! Validated customer data: a value of these types is valid by construction.

mod email;

pub use email::Email;
pub use saga_contracts::Money;

/// A customer's name: trimmed, not empty, at most 200 characters, no control characters.
pub type CustomerName = saga_contracts::Name;

/// A customer to register, parsed from a request.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    /// What the customer is called, in greetings and on the account.
    pub name: CustomerName,
    /// Where notification writes; unique among customers.
    pub email: Email,
    /// The balance billing opens the customer's account with.
    pub credit_limit: Money,
}
