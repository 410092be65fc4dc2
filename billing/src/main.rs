//! The billing service binary: settings from the environment, then the service until SIGINT/SIGTERM.

use billing::configuration::Settings;
use billing::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared_events::telemetry::init(billing::SERVICE);
    let settings = Settings::from_env()?;
    let app = Application::build(settings, shared_events::shutdown::on_signal()).await?;
    tracing::info!(port = app.port(), "billing service listening");
    app.run_until_stopped().await
}
