//! The orders service binary: settings from the environment, then the service until
//! SIGINT/SIGTERM.

use orders::configuration::Settings;
use orders::startup;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    Ok(
        shared_events::kit::service::run(orders::SERVICE, Settings::from_env, startup::build)
            .await?,
    )
}
