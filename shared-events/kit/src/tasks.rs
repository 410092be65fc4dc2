//! A service's long-running tasks (HTTP server, outbox relay, consumers, timers) under one
//! shutdown token: if any of them fails, the token is cancelled so the others stop too, and
//! the service exits with that error instead of running half-alive. A task that ends before
//! shutdown was requested, even without an error, has failed: every task runs for the
//! service's whole life.

use std::collections::HashMap;
use std::future::Future;

use tokio::task::{Id, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::service::RunError;

/// What a task that returned `Ok` before shutdown was requested failed with (as the source of
/// [`RunError::Task`]): the service would run on without it.
#[derive(Debug, thiserror::Error)]
#[error("ended before shutdown was requested")]
pub struct EndedEarly;

/// The tasks of one service and the token that stops them all.
pub struct Tasks {
    shutdown: CancellationToken,
    set: JoinSet<anyhow::Result<()>>,
    /// Each task's name, by its id: a panicked task is reported by id only.
    names: HashMap<Id, String>,
}

impl Tasks {
    /// No tasks yet, stopped by `shutdown` (which a failing task also cancels).
    pub fn new(shutdown: CancellationToken) -> Self {
        Tasks {
            shutdown,
            set: JoinSet::new(),
            names: HashMap::new(),
        }
    }

    /// The token every task is to stop on.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.shutdown
    }

    /// Starts `task` as `name` (the name its failure is reported under).
    pub fn spawn<F>(&mut self, name: &str, task: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let handle = self.set.spawn(task);
        self.names.insert(handle.id(), name.to_owned());
    }

    /// Waits for every task. The first failure (an error, a panic, or an end before shutdown
    /// was requested) cancels the rest and is returned.
    pub async fn wait(mut self) -> Result<(), RunError> {
        let mut first_error = None;
        while let Some(joined) = self.set.join_next_with_id().await {
            let id = match &joined {
                Ok((id, _)) => *id,
                Err(e) => e.id(),
            };
            let name = self.names.remove(&id).unwrap_or_else(|| "task".to_owned());
            let error = match joined {
                Ok((_, Ok(()))) if self.shutdown.is_cancelled() => {
                    tracing::debug!(task = %name, "task finished");
                    continue;
                }
                Ok((_, Ok(()))) => {
                    tracing::error!(task = %name, "task ended before shutdown was requested; stopping the service");
                    RunError::Task {
                        name,
                        source: EndedEarly.into(),
                    }
                }
                Ok((_, Err(source))) => {
                    tracing::error!(task = %name, error = %format!("{source:#}"), "task failed; stopping the service");
                    RunError::Task { name, source }
                }
                Err(source) => {
                    tracing::error!(task = %name, error = %source, "task panicked; stopping the service");
                    RunError::Panicked { name, source }
                }
            };
            self.shutdown.cancel();
            first_error.get_or_insert(error);
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs until `shutdown`, then ends cleanly.
    async fn until(shutdown: CancellationToken) -> anyhow::Result<()> {
        shutdown.cancelled().await;
        Ok(())
    }

    #[tokio::test]
    async fn a_task_that_ends_before_shutdown_stops_the_service_with_an_error() {
        let shutdown = CancellationToken::new();
        let mut tasks = Tasks::new(shutdown.clone());
        tasks.spawn("http", until(shutdown.clone()));
        tasks.spawn("consumer", async { Ok(()) });
        let error = tasks.wait().await.unwrap_err();
        let RunError::Task { name, source } = &error else {
            panic!("not a task error: {error:?}");
        };
        assert_eq!(name, "consumer");
        assert!(source.downcast_ref::<EndedEarly>().is_some(), "{source:#}");
        assert!(shutdown.is_cancelled(), "the other tasks were stopped");
    }

    #[tokio::test]
    async fn tasks_that_end_on_shutdown_end_the_service_cleanly() {
        let shutdown = CancellationToken::new();
        let mut tasks = Tasks::new(shutdown.clone());
        tasks.spawn("http", until(shutdown.clone()));
        tasks.spawn("consumer", until(shutdown.clone()));
        shutdown.cancel();
        tasks.wait().await.unwrap();
    }
}
