//! The orders service binary: settings from the environment, then the service until
//! SIGINT/SIGTERM.

use orders::configuration::Settings;
use orders::startup;

fn main() -> anyhow::Result<()> {
    Ok(saga_kit::service::main(
        orders::SERVICE,
        Settings::read,
        startup::build,
    )?)
}
