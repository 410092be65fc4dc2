//! A service's long-running tasks (HTTP server, outbox relay, consumers, timers) under one
//! shutdown token: if any of them fails, the token is cancelled so the others stop too, and
//! the service exits with that error instead of running half-alive.

use std::future::Future;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub struct Tasks {
    shutdown: CancellationToken,
    set: JoinSet<(String, anyhow::Result<()>)>,
}

impl Tasks {
    pub fn new(shutdown: CancellationToken) -> Self {
        Tasks {
            shutdown,
            set: JoinSet::new(),
        }
    }

    pub fn shutdown(&self) -> &CancellationToken {
        &self.shutdown
    }

    pub fn spawn<F>(&mut self, name: &str, task: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let name = name.to_owned();
        self.set.spawn(async move { (name, task.await) });
    }

    /// Waits for every task. The first failure cancels the rest and is returned.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let mut first_error = None;
        while let Some(joined) = self.set.join_next().await {
            let (name, result) = match joined {
                Ok(r) => r,
                Err(e) => ("task".to_owned(), Err(anyhow::anyhow!("panicked: {e}"))),
            };
            match result {
                Ok(()) => tracing::debug!(task = %name, "task finished"),
                Err(e) => {
                    tracing::error!(task = %name, error = %format!("{e:#}"), "task failed; stopping the service");
                    self.shutdown.cancel();
                    first_error.get_or_insert(e.context(format!("{name} failed")));
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
