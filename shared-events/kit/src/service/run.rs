//! A service's whole `main`: its async runtime, logging, settings from the environment, the
//! start-up, then its tasks until SIGINT or SIGTERM.

use std::future::Future;

use saga_messaging::env::Env;

use crate::service::{Application, ServiceError};
use crate::telemetry::LogSettings;
use crate::CancellationToken;

/// Everything a service reads from `env` at start: how it logs, then its own settings
/// (`settings`, its `Settings::read`). [`run`] reads the process's environment; a test that
/// reads a [`Vars`](saga_messaging::env::Vars) instead learns which variables the service
/// reads.
pub fn load<T>(
    env: &Env,
    settings: impl FnOnce(&Env) -> anyhow::Result<T>,
) -> anyhow::Result<(LogSettings, T)> {
    let log = LogSettings::read(env)?;
    Ok((log, settings(env)?))
}

/// A service's `main`: builds the async runtime `RUNTIME_WORKERS` asks for, then [`run`]s
/// the service on it.
///
/// `RUNTIME_WORKERS` is how many threads run the service's tasks (its consumer, relay and
/// timers; the HTTP server has its own, `HTTP_WORKERS`). `0`, the default: the thread that
/// called `main` alone (tokio's current-thread runtime), so that no wake-up goes from one
/// worker thread to another; a service's tasks mostly wait on its store and the broker, and
/// with one thread it used 13% less CPU and made 22% fewer context switches per saga
/// (docs/performance.md). `n`: a multi-thread runtime of `n` workers.
pub fn main<T, S, Fut>(
    service: &str,
    settings: impl FnOnce(&Env) -> anyhow::Result<T>,
    build: impl FnOnce(T, CancellationToken) -> Fut,
) -> Result<(), ServiceError>
where
    Fut: Future<Output = anyhow::Result<Application<S>>>,
{
    let workers: usize =
        Env::process()
            .or("RUNTIME_WORKERS", 0)
            .map_err(|e| ServiceError::Settings {
                service: service.to_owned(),
                source: e.into(),
            })?;
    let mut builder = match workers {
        0 => tokio::runtime::Builder::new_current_thread(),
        n => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
    };
    let runtime = builder
        .enable_all()
        .build()
        .map_err(|source| ServiceError::Runtime {
            service: service.to_owned(),
            source,
        })?;
    runtime.block_on(run(service, settings, build))
}

/// Runs `service`: `settings` reads its settings ([`load`]), `build` starts it (see
/// [`crate::service::Startup`]) on a shutdown token cancelled by SIGINT or SIGTERM.
/// Which of the three failed, and why, is the [`ServiceError`].
pub async fn run<T, S, Fut>(
    service: &str,
    settings: impl FnOnce(&Env) -> anyhow::Result<T>,
    build: impl FnOnce(T, CancellationToken) -> Fut,
) -> Result<(), ServiceError>
where
    Fut: Future<Output = anyhow::Result<Application<S>>>,
{
    let (log, settings) =
        load(&Env::process(), settings).map_err(|source| ServiceError::Settings {
            service: service.to_owned(),
            source,
        })?;
    crate::telemetry::init(service, &log);
    let app = build(settings, crate::shutdown::on_signal())
        .await
        .map_err(|source| ServiceError::Startup {
            service: service.to_owned(),
            source,
        })?;
    tracing::info!(port = app.port(), "{service} service listening");
    Ok(app.run_until_stopped().await?)
}
