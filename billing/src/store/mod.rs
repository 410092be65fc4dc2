//! The billing tables: accounts, payments (one per order) and the statement the API shows.
//! Every change is a single conditional statement or happens under a row lock, so concurrent
//! handlers and requests never read-then-write stale numbers.

pub mod accounts;
pub mod payments;
pub mod statement;

/// The schema of the service's tables (`migrations/`), applied at start-up.
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub(crate) fn money(amount: rust_decimal::Decimal) -> Result<shared_events::Money, sqlx::Error> {
    shared_events::Money::new(amount).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}
