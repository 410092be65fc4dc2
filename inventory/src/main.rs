//! The inventory service binary: settings from the environment, then the service until
//! SIGINT/SIGTERM.

use inventory::configuration::Settings;
use inventory::startup;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    saga_kit::telemetry::init(inventory::SERVICE);
    let settings = Settings::from_env()?;
    let app = startup::build(settings, saga_kit::shutdown::on_signal()).await?;
    tracing::info!(
        port = app.port(),
        store = app.store().kind(),
        "inventory service listening"
    );
    Ok(app.run_until_stopped().await?)
}
