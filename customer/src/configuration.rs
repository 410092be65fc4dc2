//! Settings from the environment, with defaults for the local stack (SPEC §6).

use shared_events::config::env_or;
use shared_events::KafkaConfig;

#[derive(Debug, Clone)]
pub struct Settings {
    /// `HTTP_HOST` (default `0.0.0.0`).
    pub http_host: String,
    /// `HTTP_PORT` (default 8001; 0 picks a free port, as the tests do).
    pub http_port: u16,
    /// `DATABASE_URL` (default the local `customer` database; created if missing).
    pub database_url: String,
    pub kafka: KafkaConfig,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Settings> {
        Ok(Settings {
            http_host: env_or("HTTP_HOST", "0.0.0.0".to_owned())?,
            http_port: env_or("HTTP_PORT", 8001)?,
            database_url: env_or(
                "DATABASE_URL",
                "postgres://postgres:postgres@127.0.0.1:5432/customer".to_owned(),
            )?,
            kafka: KafkaConfig::from_env()?,
        })
    }
}
