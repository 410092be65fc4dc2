//! The billing service binary: settings from the environment, then the service until
//! SIGINT/SIGTERM.

use billing::configuration::Settings;
use billing::startup;

fn main() -> anyhow::Result<()> {
    Ok(saga_kit::service::main(
        billing::SERVICE,
        Settings::read,
        startup::build,
    )?)
}
