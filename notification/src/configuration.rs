//! Settings from the environment, with defaults for the local stack (SPEC §6).

use std::time::Duration;

use saga_kit::service::ServiceSettings;
use saga_messaging::env::Env;
use saga_messaging::redis_store::RedisSettings;

/// The key prefix when `REDIS_KEY_PREFIX` is not set. Notification's ACL user may touch only
/// keys that start with it (`~notification:*`, scripts/stack), so any prefix must too.
pub const DEFAULT_KEY_PREFIX: &str = "notification:";

/// Seven days: see the README ("How long inbox keys live").
pub const DEFAULT_INBOX_TTL_SECS: u64 = 7 * 24 * 60 * 60;

/// What the service reads from its environment at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `HTTP_HOST`, `HTTP_PORT` (default 8005) and the broker, as every service reads them.
    pub service: ServiceSettings,
    /// `REDIS_URL`, `REDIS_PASSWORD`/`REDIS_PASSWORD_FILE`, `REDIS_CA_FILE` (default the local
    /// stack's Redis over TLS, as the ACL user `notification`).
    pub redis: RedisSettings,
    /// `REDIS_KEY_PREFIX` (default [`DEFAULT_KEY_PREFIX`]): prepended to every key, so that tests
    /// (or several deployments sharing one Redis) do not see each other's data. The service's
    /// ACL user is limited to keys under `notification:`.
    pub key_prefix: String,
    /// `NOTIFICATION_INBOX_TTL_SECS` (default 7 days): how long a handled event id is
    /// remembered. The once-guards never expire, so a later replay is still caught.
    pub inbox_ttl: Duration,
}

impl Settings {
    /// The settings from the environment; an invalid value is an error naming it.
    pub fn read(env: &Env) -> anyhow::Result<Settings> {
        let ttl_secs: u64 = env.or("NOTIFICATION_INBOX_TTL_SECS", DEFAULT_INBOX_TTL_SECS)?;
        anyhow::ensure!(ttl_secs > 0, "NOTIFICATION_INBOX_TTL_SECS must be positive");
        Ok(Settings {
            service: ServiceSettings::read(env, "notification", 8005)?,
            redis: RedisSettings::read(env, crate::SERVICE)?,
            key_prefix: env.or("REDIS_KEY_PREFIX", DEFAULT_KEY_PREFIX.to_owned())?,
            inbox_ttl: Duration::from_secs(ttl_secs),
        })
    }
}
