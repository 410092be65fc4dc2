//! The orders database: the replicas fed by events, the orders themselves, and the saga's
//! transactional step.

pub mod orders;
pub mod replicas;
pub mod saga;

pub use orders::{HistoryEntry, Order, PlaceError, Placed};

/// The schema of the service's tables (`migrations/`), applied at start-up.
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
