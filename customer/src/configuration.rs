//! Settings from the environment, with defaults for the local stack (SPEC §6).

use shared_events::service::{database_url, ServiceSettings};

#[derive(Debug, Clone)]
pub struct Settings {
    /// `HTTP_HOST`, `HTTP_PORT` (default 8001) and the broker, as every service reads them.
    pub service: ServiceSettings,
    /// `DATABASE_URL` (default the local `customer` database; created if missing).
    pub database_url: String,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Settings> {
        Ok(Settings {
            service: ServiceSettings::from_env(8001)?,
            database_url: database_url("customer")?,
        })
    }
}
