use notification::configuration::Settings;
use notification::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared_events::telemetry::init(notification::SERVICE);
    let settings = Settings::from_env()?;
    let app = Application::build(settings, shared_events::shutdown::on_signal()).await?;
    tracing::info!(port = app.port(), "notification service listening");
    app.run_until_stopped().await
}
