//! Settings from the environment, with defaults for the local stack (SPEC §6).

use std::time::Duration;

use shared_events::config::env_or;
use shared_events::KafkaConfig;

#[derive(Debug, Clone)]
pub struct Settings {
    /// `HTTP_HOST` (default `0.0.0.0`).
    pub http_host: String,
    /// `HTTP_PORT` (default 8004; 0 picks a free port, as the tests do).
    pub http_port: u16,
    /// `DATABASE_URL` (default the local `billing` database; created if missing).
    pub database_url: String,
    pub kafka: KafkaConfig,
    /// `ACCOUNT_WAIT_SECS` (default 20): how long an `order.created` for a customer whose
    /// account is not open yet is retried before it fails with `unknown_customer`.
    pub account_wait: Duration,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Settings> {
        Ok(Settings {
            http_host: env_or("HTTP_HOST", "0.0.0.0".to_owned())?,
            http_port: env_or("HTTP_PORT", 8004)?,
            database_url: env_or(
                "DATABASE_URL",
                "postgres://postgres:postgres@127.0.0.1:5432/billing".to_owned(),
            )?,
            kafka: KafkaConfig::from_env()?,
            account_wait: Duration::from_secs(env_or("ACCOUNT_WAIT_SECS", 20u64)?),
        })
    }
}
