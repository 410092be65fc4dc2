//! A service's long-running tasks (HTTP server, outbox relay, consumers, timers) under one
//! shutdown token: if any of them fails, the token is cancelled so the others stop too, and
//! the service exits with that error instead of running half-alive.

use std::collections::HashMap;
use std::future::Future;

use tokio::task::{Id, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::kit::service::RunError;

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

    /// Waits for every task. The first failure (an error or a panic) cancels the rest and is
    /// returned.
    pub async fn wait(mut self) -> Result<(), RunError> {
        let mut first_error = None;
        while let Some(joined) = self.set.join_next_with_id().await {
            let id = match &joined {
                Ok((id, _)) => *id,
                Err(e) => e.id(),
            };
            let name = self.names.remove(&id).unwrap_or_else(|| "task".to_owned());
            let error = match joined {
                Ok((_, Ok(()))) => {
                    tracing::debug!(task = %name, "task finished");
                    continue;
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
