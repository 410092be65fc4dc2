//! Settings from the environment, with defaults for the local stack (SPEC §6).

use shared_events::config::env_or;
use shared_events::KafkaConfig;

/// The store used when neither `INVENTORY_STORE_URL` nor `DATABASE_URL` is set.
pub const DEFAULT_STORE_URL: &str = "postgres://postgres:postgres@127.0.0.1:5432/inventory";

#[derive(Debug, Clone)]
pub struct Settings {
    /// `HTTP_HOST` (default `0.0.0.0`).
    pub http_host: String,
    /// `HTTP_PORT` (default 8003; 0 picks a free port, as the tests do).
    pub http_port: u16,
    /// `INVENTORY_STORE_URL`: `postgres://…` (database created if missing) or `mongodb://…`
    /// (a replica set). Falls back to `DATABASE_URL`, then to [`DEFAULT_STORE_URL`].
    pub store_url: String,
    pub kafka: KafkaConfig,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Settings> {
        let database_url = env_or("DATABASE_URL", DEFAULT_STORE_URL.to_owned())?;
        Ok(Settings {
            http_host: env_or("HTTP_HOST", "0.0.0.0".to_owned())?,
            http_port: env_or("HTTP_PORT", 8003)?,
            store_url: env_or("INVENTORY_STORE_URL", database_url)?,
            kafka: KafkaConfig::from_env()?,
        })
    }
}
