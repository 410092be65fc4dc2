//! The customer service binary: settings from the environment, then the service until
//! SIGINT/SIGTERM.

use customer::{configuration, startup};

fn main() -> anyhow::Result<()> {
    Ok(saga_kit::service::main(
        customer::SERVICE,
        configuration::read,
        startup::build,
    )?)
}
