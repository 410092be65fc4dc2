//! The notification service binary: settings from the environment, then the service until
//! SIGINT/SIGTERM.

use notification::configuration::Settings;
use notification::startup;

fn main() -> anyhow::Result<()> {
    Ok(saga_kit::service::main(
        notification::SERVICE,
        Settings::read,
        startup::build,
    )?)
}
