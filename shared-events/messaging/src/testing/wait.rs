//! Waits on conditions with a deadline instead of fixed sleeps.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long a test waits for what should happen within a second or two on the local stack; a
/// test that needs all of it has failed anyway.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Polls `condition` until it returns `Some`, or panics after `timeout` with `what`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut condition: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(10);
    loop {
        if let Some(v) = condition().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}
