//! The grace given to work in flight when a worker is told to stop (shutdown, a failed
//! consumer, or its partition revoked): a handler call or a dead letter's send that is under
//! way may finish, but a store or a broker that hangs cannot hold the stop up for longer than
//! [`GRACE`]. Work cut off this way leaves its message's offset unstored, so the partition's
//! next owner handles the message again (the inbox makes that safe).

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How long work in flight may go on once its worker is told to stop.
pub(super) const GRACE: Duration = Duration::from_secs(5);

/// Runs `work` to its end, unless `stop` is cancelled and `work` is still not done `grace`
/// later: then `None`, and `work` is dropped unfinished.
pub(super) async fn within_grace<F: Future>(
    stop: &CancellationToken,
    grace: Duration,
    work: F,
) -> Option<F::Output> {
    tokio::select! {
        biased;
        out = work => Some(out),
        _ = async {
            stop.cancelled().await;
            tokio::time::sleep(grace).await;
        } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHORT: Duration = Duration::from_millis(20);
    const LONG: Duration = Duration::from_secs(3600);

    #[tokio::test]
    async fn work_runs_to_its_end_unless_stopped_and_past_the_grace() {
        let stop = CancellationToken::new();
        assert_eq!(within_grace(&stop, SHORT, async { 7 }).await, Some(7));
        // Not stopped: work longer than the grace still runs to its end.
        let slow = async {
            tokio::time::sleep(SHORT * 5).await;
            8
        };
        assert_eq!(within_grace(&stop, SHORT, slow).await, Some(8));

        // Stopped: work that hangs is dropped once the grace is over.
        stop.cancel();
        let hangs = within_grace(&stop, SHORT, std::future::pending::<()>());
        assert_eq!(hangs.await, None);
        // Work that ends within the grace is kept.
        let quick = async {
            tokio::time::sleep(SHORT).await;
            9
        };
        assert_eq!(within_grace(&stop, LONG, quick).await, Some(9));
    }
}
