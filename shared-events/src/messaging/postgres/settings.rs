//! The settings of a service whose store is one PostgreSQL database: those of every service
//! ([`ServiceSettings`]) and `DATABASE_URL`.

use crate::kit::service::ServiceSettings;
use crate::messaging::config::{env_or, ConfigError};
use crate::KafkaConfig;

/// The settings of a service whose store is one PostgreSQL database: [`ServiceSettings`] and
/// `DATABASE_URL`.
#[derive(Debug, Clone)]
pub struct PgServiceSettings {
    /// `HTTP_HOST`, `HTTP_PORT` and the broker, as every service reads them.
    pub service: ServiceSettings,
    /// `DATABASE_URL` (default the local database named after the service, created if missing):
    /// the service's store.
    pub database_url: String,
}

impl PgServiceSettings {
    /// Reads [`ServiceSettings`] (`HTTP_PORT` default `default_port`) and `DATABASE_URL`
    /// (default the local database `default_database`).
    pub fn from_env(default_port: u16, default_database: &str) -> Result<Self, ConfigError> {
        Ok(PgServiceSettings {
            service: ServiceSettings::from_env(default_database, default_port)?,
            database_url: database_url(default_database)?,
        })
    }

    /// A test's service: a free loopback port, `kafka` and the database at `database_url`.
    pub fn loopback(kafka: KafkaConfig, database_url: String) -> Self {
        PgServiceSettings {
            service: ServiceSettings::loopback(kafka),
            database_url,
        }
    }
}

/// The URL of the database `name` on the local stack's PostgreSQL server.
pub fn local_database_url(name: &str) -> String {
    format!("postgres://postgres:postgres@127.0.0.1:5432/{name}")
}

/// `DATABASE_URL`, by default the local server's database `default_database` (the service
/// creates it if missing: [`crate::messaging::postgres::connect`]).
pub fn database_url(default_database: &str) -> Result<String, ConfigError> {
    env_or("DATABASE_URL", local_database_url(default_database))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_database_is_on_the_local_server_with_the_stack_credentials() {
        assert_eq!(
            local_database_url("billing"),
            "postgres://postgres:postgres@127.0.0.1:5432/billing"
        );
    }
}
