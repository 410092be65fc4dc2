//! The customer service binary: settings from the environment, then the service until
//! SIGINT/SIGTERM.

use customer::{configuration, startup};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    Ok(saga_kit::service::run(customer::SERVICE, configuration::read, startup::build).await?)
}
