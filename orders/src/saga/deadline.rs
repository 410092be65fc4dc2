//! The saga deadline: a periodic sweep that cancels orders still `PENDING` after
//! `ORDER_TIMEOUT_SECS`, with reason `timeout`. Safe with several instances (see
//! [`crate::store::saga::cancel_overdue`]).

use std::time::Duration;

use saga_kit::CancellationToken;
use sqlx::PgPool;

/// Orders cancelled per sweep at most; the next sweep takes the rest.
const BATCH: usize = 500;

/// Sweeps every `every` until `shutdown`, cancelling orders pending longer than `timeout`.
pub async fn run(
    pool: PgPool,
    timeout: Duration,
    every: Duration,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(every) => {}
        }
        match crate::store::saga::cancel_overdue(&pool, timeout, BATCH).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(cancelled = n, "deadline: cancelled overdue orders"),
            // A database hiccup must not stop the service; the next sweep tries again.
            Err(e) => tracing::warn!(error = %e, "deadline sweep failed"),
        }
    }
}
