//! The notification service binary: settings from the environment, then the service until
//! SIGINT/SIGTERM.

use notification::configuration::Settings;
use notification::startup;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    Ok(saga_kit::service::run(notification::SERVICE, Settings::read, startup::build).await?)
}
