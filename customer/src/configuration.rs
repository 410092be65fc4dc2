//! Settings from the environment, with defaults for the local stack (SPEC §6): those of any
//! PostgreSQL service, nothing of the customer service's own.

use saga_kit::service::PgServiceSettings;
use saga_messaging::env::Env;

/// `HTTP_HOST`, `HTTP_PORT` (default 8001), the broker and `DATABASE_URL` (default the local
/// `customer` database; created if missing).
pub type Settings = PgServiceSettings;

/// The settings, or why a variable that is set cannot be read.
pub fn read(env: &Env) -> anyhow::Result<Settings> {
    Ok(PgServiceSettings::read(env, 8001, "customer")?)
}
