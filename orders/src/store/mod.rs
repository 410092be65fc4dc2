//! The orders database, one file per concept: the replicas other services' events keep
//! ([`replicas`]), placing an order ([`place`]), reading orders ([`read`]) and listing them
//! ([`list`]), the counts per status ([`counts`]), the saga's transactional step and deadline
//! sweep ([`saga`]), and the feed of its transitions ([`feed`]).
//!
//! What the HTTP side calls fails with a [`StoreError`]; what the saga calls fails with the
//! database's own `sqlx::Error`, which the consumer classifies (unavailable, transient or
//! permanent) as it is.

pub mod counts;
pub mod feed;
pub mod list;
pub mod place;
pub mod read;
pub mod replicas;
pub mod saga;

/// The schema of the service's tables (`migrations/`), applied at start-up.
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Why a store call made for a request failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An `Idempotency-Key` already placed an order for a different request (409).
    #[error("the idempotency key was already used for a different request")]
    KeyReused,
    /// The database failed, or could not be reached (503 or 500, by its cause).
    #[error("the orders database failed")]
    Database(#[from] sqlx::Error),
}
