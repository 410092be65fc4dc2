//! The customer service's store: its PostgreSQL schema, the one error its functions return,
//! and the customer table ([`customers`]).

pub mod customers;

use uuid::Uuid;

pub use customers::Customer;

/// The schema of the service's tables (`migrations/`), applied at start-up.
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Why a store call failed: a domain answer the API reports as a 4xx, or the database itself
/// (`routes/error.rs` maps each variant).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The email's unique index refused the row: someone registered it first.
    #[error("a customer with this email already exists")]
    EmailTaken,
    /// A customer with this id is already registered (a customer registering itself twice).
    #[error("customer {0} is already registered")]
    Exists(Uuid),
    /// No customer has this id.
    #[error("no customer {0}")]
    NotFound(Uuid),
    /// The database failed or could not be reached.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}
