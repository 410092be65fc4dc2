//! PostgreSQL side of the runtime: the outbox and inbox tables, `enqueue`, the relay's store,
//! and the idempotent handler adapter.

mod inbox;
mod outbox;
mod schema;

pub use inbox::{PgHandler, PgIdempotent};
pub use outbox::{enqueue, enqueue_all, PgOutboxStore};
pub use schema::migrate;
