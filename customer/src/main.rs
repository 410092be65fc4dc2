//! The customer service binary: settings from the environment, then the service until
//! SIGINT/SIGTERM.

use customer::configuration::Settings;
use customer::startup;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    shared_events::service::run(customer::SERVICE, Settings::from_env, startup::build).await
}
