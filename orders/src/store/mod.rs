//! The orders database: the replicas fed by events, the orders themselves, the saga's
//! transactional step, and the feed of its transitions.

pub mod feed;
pub mod orders;
pub mod replicas;
pub mod saga;

pub use orders::{HistoryEntry, Order, PlaceError, Placed};

/// The schema of the service's tables (`migrations/`), applied at start-up.
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
