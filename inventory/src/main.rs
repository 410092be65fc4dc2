use inventory::configuration::Settings;
use inventory::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared_events::telemetry::init(inventory::SERVICE);
    let settings = Settings::from_env()?;
    let app = Application::build(settings, shared_events::shutdown::on_signal()).await?;
    tracing::info!(
        port = app.port(),
        store = app.store().kind(),
        "inventory service listening"
    );
    app.run_until_stopped().await
}
