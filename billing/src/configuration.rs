//! Settings from the environment, with defaults for the local stack (SPEC §6).

use std::time::Duration;

use saga_kit::service::PgServiceSettings;
use saga_messaging::env::Env;

/// What billing reads from the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `HTTP_HOST`, `HTTP_PORT` (default 8004), the broker and `DATABASE_URL` (default the
    /// local `billing` database; created if missing), as every PostgreSQL service reads them.
    pub postgres: PgServiceSettings,
    /// `ACCOUNT_WAIT_SECS` (default 20): how long an `order.created` for a customer whose
    /// account is not open yet is retried before it fails with `unknown_customer`.
    pub account_wait: Duration,
}

impl Settings {
    /// The settings, or why a variable that is set cannot be read.
    pub fn read(env: &Env) -> anyhow::Result<Settings> {
        Ok(Settings {
            postgres: PgServiceSettings::read(env, 8004, "billing")?,
            account_wait: Duration::from_secs(env.or("ACCOUNT_WAIT_SECS", 20u64)?),
        })
    }
}
