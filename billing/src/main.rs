//! The billing service binary: settings from the environment, then the service until
//! SIGINT/SIGTERM.

use billing::configuration::Settings;
use billing::startup;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    Ok(saga_kit::service::run(billing::SERVICE, Settings::read, startup::build).await?)
}
