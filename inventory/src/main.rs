//! The inventory service binary: settings from the environment, then the service until
//! SIGINT/SIGTERM.

use inventory::configuration::Settings;
use inventory::startup;

fn main() -> anyhow::Result<()> {
    Ok(saga_kit::service::main(
        inventory::SERVICE,
        Settings::read,
        startup::build,
    )?)
}
