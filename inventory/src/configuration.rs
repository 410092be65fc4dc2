//! Settings from the environment, with defaults for the local stack (SPEC §6).

use saga_kit::service::ServiceSettings;
use saga_messaging::env::env_or;
use saga_messaging::postgres::database_url;

#[derive(Debug, Clone)]
pub struct Settings {
    /// `HTTP_HOST`, `HTTP_PORT` (default 8003) and the broker, as every service reads them.
    pub service: ServiceSettings,
    /// `INVENTORY_STORE_URL`: `postgres://…` (an existing database; its password as for
    /// `DATABASE_URL`: in the URL, `DATABASE_PASSWORD`(`_FILE`), or the local stack's file of
    /// its user) or `mongodb://…` (a replica set; a user in the URL with no password logs in
    /// with `INVENTORY_STORE_PASSWORD` or the file `INVENTORY_STORE_PASSWORD_FILE` names, TLS
    /// options such as `tls=true&tlsCAFile=…` in the URL). Falls back to `DATABASE_URL`, then
    /// to the local `inventory` database as the role `inventory` over verified TLS.
    pub store_url: String,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Settings> {
        let database_url = database_url("inventory")?;
        Ok(Settings {
            service: ServiceSettings::from_env("inventory", 8003)?,
            store_url: env_or("INVENTORY_STORE_URL", database_url)?,
        })
    }
}
