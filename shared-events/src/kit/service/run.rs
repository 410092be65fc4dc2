//! A service's whole `main`: logging, settings from the environment, the start-up, then its
//! tasks until SIGINT or SIGTERM.

use std::future::Future;

use crate::kit::service::Application;
use crate::CancellationToken;

/// Runs `service`: `settings` reads its settings, `build` starts it (see
/// [`crate::kit::service::Startup`]) on a shutdown token cancelled by SIGINT or SIGTERM.
pub async fn run<T, S, Fut>(
    service: &str,
    settings: impl FnOnce() -> anyhow::Result<T>,
    build: impl FnOnce(T, CancellationToken) -> Fut,
) -> anyhow::Result<()>
where
    Fut: Future<Output = anyhow::Result<Application<S>>>,
{
    crate::kit::telemetry::init(service);
    let settings = settings()?;
    let app = build(settings, crate::kit::shutdown::on_signal()).await?;
    tracing::info!(port = app.port(), "{service} service listening");
    app.run_until_stopped().await
}
