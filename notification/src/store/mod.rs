//! The service's store, Redis: reads, and write plans. Writes are returned as command lists
//! ([`Command`]) so that the consumer can hand them to the runtime's atomic script together
//! with the event's inbox key, and the HTTP side can run them in one `MULTI`/`EXEC`.
//! [`keys`] names every key.

mod customers;
pub mod keys;
mod notifications;
mod stock;

use std::collections::HashMap;

use redis::aio::ConnectionManager;

pub use customers::{customer_commands, find_recipient};
pub use keys::Keys;
pub use notifications::{
    apply_atomically, claim, create_commands, find, list_for_customer, mark_sent, pending,
    Notification,
};
pub use stock::{
    alert_commands, latest_stock_at_us, list_alerts, list_stock, stock_commands, StockAlert,
    StockNumbers,
};

/// Why a store call failed. Every operation is a Redis command, so there is one kind: Redis
/// not answering (refused, dropped, timed out: the store is unreachable) or refusing the
/// command. The HTTP side answers it through [`saga_kit::http::ApiError::store`] and
/// the consumer retries it as the runtime classifies it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A Redis command failed; the error says how (I/O, refusal, timeout, a server error).
    #[error("the notification store (Redis) failed")]
    Redis(#[from] redis::RedisError),
}

/// What a store call returns.
pub type StoreResult<T> = Result<T, StoreError>;

/// A command as the runtime's effect script takes it.
pub type Command = Vec<String>;

/// A [`Command`] from its words.
pub(crate) fn cmd<const N: usize>(args: [&str; N]) -> Command {
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// The hashes at `keys`, in one round trip and in their order (a missing key is an empty
/// hash).
async fn hashes(
    conn: &mut ConnectionManager,
    keys: impl IntoIterator<Item = String>,
) -> StoreResult<Vec<HashMap<String, String>>> {
    let mut pipe = redis::pipe();
    for key in keys {
        pipe.cmd("HGETALL").arg(key);
    }
    if pipe.is_empty() {
        return Ok(Vec::new());
    }
    Ok(pipe.query_async(conn).await?)
}
