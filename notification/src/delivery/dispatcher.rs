//! The dispatcher: delivers pending notifications, oldest first, when woken (a new
//! notification was stored) and at a regular poll (leftovers after a crash, retries).
//!
//! Before sending, it takes a short lease (`claim:{id}`, `SET NX PX`) so that several service
//! instances do not deliver the same notification at the same time; a failed delivery keeps
//! its lease until it expires, which is its retry back-off.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use redis::aio::ConnectionManager;
use saga_kit::CancellationToken;
use tokio::sync::Notify;
use uuid::Uuid;

use super::Notifier;
use crate::store::{self, Keys, StoreResult};

/// How often pending notifications are looked for without a kick.
const POLL: Duration = Duration::from_secs(1);
/// How many pending ids one look reads.
const BATCH: usize = 100;
/// How long a claim on one delivery lasts: a failed delivery's retry back-off.
const LEASE_MS: u64 = 30_000;

/// Delivers pending notifications through the notifier.
pub struct Dispatcher {
    /// The store.
    conn: ConnectionManager,
    /// The key names.
    keys: Keys,
    /// Where notifications go.
    notifier: Arc<dyn Notifier>,
    /// Rung when a notification was stored: deliver now rather than at the next poll.
    kick: Arc<Notify>,
}

impl Dispatcher {
    /// A dispatcher delivering what `conn` holds through `notifier`, woken by `kick`.
    pub fn new(
        conn: ConnectionManager,
        keys: Keys,
        notifier: Arc<dyn Notifier>,
        kick: Arc<Notify>,
    ) -> Self {
        Dispatcher {
            conn,
            keys,
            notifier,
            kick,
        }
    }

    /// Delivers until `shutdown`: at each kick and each poll.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        loop {
            if let Err(e) = self.drain().await {
                let e = anyhow::Error::from(e);
                tracing::warn!(error = %format!("{e:#}"), "delivering notifications failed; will retry");
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = self.kick.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Delivers pending notifications until none is left that this instance can take.
    async fn drain(&self) -> StoreResult<()> {
        let mut conn = self.conn.clone();
        loop {
            let ids = store::pending(&mut conn, &self.keys, BATCH).await?;
            let mut progressed = false;
            for id in ids {
                progressed |= self.deliver(&mut conn, id).await?;
            }
            if !progressed {
                return Ok(());
            }
        }
    }

    /// Delivers one notification; true if it is no longer pending.
    #[tracing::instrument(level = "debug", skip_all, fields(notification_id = %id))]
    async fn deliver(&self, conn: &mut ConnectionManager, id: Uuid) -> StoreResult<bool> {
        if !store::claim(conn, &self.keys, id, LEASE_MS).await? {
            return Ok(false);
        }
        let Some(n) = store::find(conn, &self.keys, id).await? else {
            store::mark_sent(conn, &self.keys, id, Utc::now()).await?;
            return Ok(true);
        };
        if n.sent_at.is_none() {
            let email = store::find_recipient(conn, &self.keys, n.customer_id)
                .await?
                .map(|r| r.email);
            if let Err(e) = self.notifier.deliver(&n, email.as_deref()).await {
                crate::metrics::DELIVERY_FAILURES.inc();
                tracing::warn!(notification_id = %id, error = %format!("{e:#}"), "delivery failed; will retry");
                return Ok(false);
            }
            crate::metrics::DELIVERED
                .with_label_values(&[&n.kind])
                .inc();
        }
        store::mark_sent(conn, &self.keys, id, Utc::now()).await?;
        Ok(true)
    }
}
