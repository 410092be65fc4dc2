//! Settings from the environment, with defaults for the local stack (SPEC §6).

use saga_kit::service::ServiceSettings;
use saga_messaging::env::{ConfigError, Env};
use saga_messaging::postgres::{self, database_url, PgSettings};
use secrecy::SecretString;

use crate::store::mongo;

#[derive(Debug, Clone)]
pub struct Settings {
    /// `HTTP_HOST`, `HTTP_PORT` (default 8003) and the broker, as every service reads them.
    pub service: ServiceSettings,
    /// `INVENTORY_STORE_URL` and its credentials ([`StoreSettings`]). The URL falls back to
    /// `DATABASE_URL`, then to the local `inventory` database as the role `inventory` over
    /// verified TLS.
    pub store: StoreSettings,
}

impl Settings {
    pub fn read(env: &Env) -> anyhow::Result<Settings> {
        let database_url = database_url(env, "inventory")?;
        let store_url = env.or("INVENTORY_STORE_URL", database_url)?;
        Ok(Settings {
            service: ServiceSettings::read(env, "inventory", 8003)?,
            store: StoreSettings::read_for(env, store_url)?,
        })
    }
}

/// The store inventory keeps its data in, chosen by its URL's scheme, and how it logs in.
#[derive(Debug, Clone)]
pub enum StoreSettings {
    /// `postgres://…`: an existing database; its password in the URL, `DATABASE_PASSWORD`
    /// (or `…_FILE`), or the local stack's file of its user; `DATABASE_MAX_CONNECTIONS`.
    Postgres(PgSettings),
    /// `mongodb://…`: a replica set; a user in the URL with no password logs in with
    /// `INVENTORY_STORE_PASSWORD` (or the file `INVENTORY_STORE_PASSWORD_FILE` names) or, on
    /// loopback, the local stack's password of that user. TLS options such as
    /// `tls=true&tlsCAFile=…` go in the URL.
    Mongo {
        /// The server, the database and the driver's options.
        url: String,
        /// The password of the URL's user, when the URL holds none.
        password: Option<SecretString>,
    },
}

impl StoreSettings {
    /// The store at `url`, with the password `env` gives for it.
    pub fn read_for(env: &Env, url: String) -> Result<StoreSettings, ConfigError> {
        let scheme = url.split("://").next().unwrap_or_default();
        match scheme {
            "postgres" | "postgresql" => Ok(StoreSettings::Postgres(PgSettings::read_for(
                env,
                url,
                postgres::PASSWORD_VARIABLE,
            )?)),
            "mongodb" | "mongodb+srv" => Ok(StoreSettings::Mongo {
                password: env.secret(mongo::PASSWORD_VARIABLE)?,
                url,
            }),
            _ => Err(ConfigError::Invalid {
                name: "INVENTORY_STORE_URL".to_owned(),
                // The scheme alone: the rest may hold a password.
                value: format!("{scheme}://…"),
                source: "it must start with postgres:// or mongodb://".into(),
            }),
        }
    }
}
