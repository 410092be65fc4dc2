//! A service's whole `main`: logging, settings from the environment, the start-up, then its
//! tasks until SIGINT or SIGTERM.

use std::future::Future;

use crate::service::{Application, ServiceError};
use crate::CancellationToken;

/// Runs `service`: `settings` reads its settings, `build` starts it (see
/// [`crate::service::Startup`]) on a shutdown token cancelled by SIGINT or SIGTERM.
/// Which of the three failed, and why, is the [`ServiceError`].
pub async fn run<T, S, Fut>(
    service: &str,
    settings: impl FnOnce() -> anyhow::Result<T>,
    build: impl FnOnce(T, CancellationToken) -> Fut,
) -> Result<(), ServiceError>
where
    Fut: Future<Output = anyhow::Result<Application<S>>>,
{
    crate::telemetry::init(service);
    let settings = settings().map_err(|source| ServiceError::Settings {
        service: service.to_owned(),
        source,
    })?;
    let app = build(settings, crate::shutdown::on_signal())
        .await
        .map_err(|source| ServiceError::Startup {
            service: service.to_owned(),
            source,
        })?;
    tracing::info!(port = app.port(), "{service} service listening");
    Ok(app.run_until_stopped().await?)
}
