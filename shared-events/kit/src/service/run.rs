//! A service's whole `main`: logging, settings from the environment, the start-up, then its
//! tasks until SIGINT or SIGTERM.

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
