//! Settings from the environment, with defaults for the local stack (SPEC §6).

use std::time::Duration;

use saga_kit::service::PgServiceSettings;
use saga_messaging::env::Env;

/// Everything the service reads from its environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `HTTP_HOST`, `HTTP_PORT` (default 8002), the broker and `DATABASE_URL` (default the
    /// local `orders` database; created if missing), as every PostgreSQL service reads them.
    pub postgres: PgServiceSettings,
    /// `ORDER_TIMEOUT_SECS` (default 30): how long an order may stay `PENDING`.
    pub order_timeout: Duration,
    /// `DEADLINE_POLL_MS` (default 500): how often the deadline sweep runs.
    pub deadline_poll: Duration,
    /// `STREAM_MAX_AGE_SECS` (default 300, the realm's access token lifetime): how long a saga
    /// feed stream lasts before it ends and its client proves itself again.
    pub stream_max_age: Duration,
}

impl Settings {
    /// Reads the settings; a variable set to something unreadable is an error, not a default.
    pub fn read(env: &Env) -> anyhow::Result<Settings> {
        let timeout: f64 = env.or("ORDER_TIMEOUT_SECS", 30.0)?;
        anyhow::ensure!(
            timeout.is_finite() && timeout >= 0.0,
            "ORDER_TIMEOUT_SECS must be a non-negative number of seconds"
        );
        let stream_max_age: u64 = env.or(
            "STREAM_MAX_AGE_SECS",
            crate::routes::DEFAULT_STREAM_MAX_AGE.as_secs(),
        )?;
        anyhow::ensure!(
            stream_max_age > 0,
            "STREAM_MAX_AGE_SECS must be a positive number of seconds"
        );
        Ok(Settings {
            postgres: PgServiceSettings::read(env, 8002, "orders")?,
            order_timeout: Duration::from_secs_f64(timeout),
            deadline_poll: Duration::from_millis(env.or("DEADLINE_POLL_MS", 500)?),
            stream_max_age: Duration::from_secs(stream_max_age),
        })
    }
}
