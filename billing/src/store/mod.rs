//! The billing tables: accounts, payments (one per order) and the statement the API shows.
//! Every change is a single conditional statement or happens under a row lock, so concurrent
//! handlers and requests never read-then-write stale numbers.
//!
//! What the API calls fail with is [`StoreError`]; what only the saga calls can only fail in
//! the database, so they return `sqlx::Error`, which the consumer classifies itself.

pub mod accounts;
pub mod payments;
pub mod statement;

use uuid::Uuid;

/// The schema of the service's tables (`migrations/`), applied at start-up.
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Why a store call failed: a domain answer the API reports as a 4xx, or the database itself
/// (`routes/error.rs` maps each variant).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The customer has no account (yet: `customer.created` opens it).
    #[error("billing has no account for customer {0}")]
    NoAccount(Uuid),
    /// A deposit would take the account beyond what it can hold ([`accounts::MAX_BALANCE`]).
    #[error(
        "the deposit would take the balance, with the charges that may still be refunded, \
         beyond what an account can hold"
    )]
    LimitExceeded,
    /// The database failed or could not be reached.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A stored amount as [`saga_contracts::Money`]; one out of its range is a decode error.
pub(crate) fn money(amount: rust_decimal::Decimal) -> Result<saga_contracts::Money, sqlx::Error> {
    saga_contracts::Money::new(amount).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}
