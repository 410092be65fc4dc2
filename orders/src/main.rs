use orders::configuration::Settings;
use orders::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared_events::telemetry::init(orders::SERVICE);
    let settings = Settings::from_env()?;
    let app = Application::build(settings, shared_events::shutdown::on_signal()).await?;
    tracing::info!(port = app.port(), "orders service listening");
    app.run_until_stopped().await
}
