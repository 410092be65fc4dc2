//! Waits on conditions with a deadline instead of fixed sleeps.

use std::fmt::Display;
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
    wait_until(what, timeout, || {
        let poll = condition();
        async move { poll.await.ok_or("not yet") }
    })
    .await
}

/// Polls `condition` until it returns `Ok`, or panics after `timeout` with `what` and the
/// last `Err`: what was still missing.
pub async fn wait_until<T, E, F, Fut>(what: &str, timeout: Duration, mut condition: F) -> T
where
    E: Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(10);
    loop {
        let missing = match condition().await {
            Ok(v) => return v,
            Err(missing) => missing,
        };
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}: {missing}");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}
