//! The state every handler shares, app data of the routes ([`AppState`]).

use std::sync::Arc;

use redis::aio::ConnectionManager;
use tokio::sync::Notify;

use crate::store::Keys;

/// What every handler needs: a Redis connection, the key names, and the dispatcher's bell.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub conn: ConnectionManager,
    /// The key names, under the configured prefix.
    pub keys: Keys,
    /// Rung after a notification is stored, so the dispatcher delivers it at once.
    pub kick: Arc<Notify>,
}
