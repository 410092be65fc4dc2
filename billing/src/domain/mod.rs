//! Validated billing data: a value of these types is valid by construction.

mod amount;
mod balance;
mod payment_status;

pub use amount::DepositAmount;
pub use balance::Balance;
pub use payment_status::{FailureReason, PaymentStatus};
pub use saga_contracts::Money;
