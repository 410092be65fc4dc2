//! The orders database: the replicas fed by events, the orders themselves, and the saga's
//! transactional step.

pub mod orders;
pub mod replicas;
pub mod saga;

pub use orders::{HistoryEntry, Order, PlaceError, Placed};
